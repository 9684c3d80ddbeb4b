import pytest

from pixserve.core import errors


def all_error_classes():
    seen = []
    stack = [errors.PixserveError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen


def test_every_error_has_a_code_status_and_default_message():
    for cls in all_error_classes():
        exc = cls()
        assert exc.code and exc.code == exc.code.lower()
        assert 400 <= exc.http_status < 600
        assert exc.message and not exc.message.startswith(" ")
        assert exc.to_dict() == {"code": exc.code, "message": exc.message}


def test_codes_are_unique():
    codes = [cls.code for cls in all_error_classes()]
    assert len(codes) == len(set(codes))


def test_the_tree_in_the_docstring_names_every_class():
    for cls in all_error_classes():
        assert cls.__name__ in errors.__doc__
        assert cls.code in errors.__doc__


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (errors.UnsupportedImage, "unsupported_image"),
        (errors.ImageTooLarge, "image_too_large"),
        (errors.NoFaceFound, "no_face_found"),
        (errors.UnknownStyle, "unknown_style"),
        (errors.QueueFull, "queue_full"),
    ],
)
def test_stable_codes(cls, code):
    assert cls.code == code


def test_explicit_message_wins():
    assert errors.QueueFull("busy").message == "busy"
