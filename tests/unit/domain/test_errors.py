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
    # A subclass may only say its parent's code more precisely (StyleQueueFull, QueueFull).
    codes = [cls.code for cls in all_error_classes() if "code" in vars(cls)]
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


def test_messages_are_written_in_the_readers_language():
    too_big = errors.ImageTooLarge.over_pixels(9000, 8000, 50_000_000)
    assert too_big.message == (
        "The image is 9000×8000 pixels (72 megapixels); the limit is 50 megapixels."
    )
    assert too_big.to_dict("es") == {
        "code": "image_too_large",
        "message": "La imagen mide 9000×8000 píxeles (72 megapíxeles); "
        "el límite es de 50 megapíxeles.",
    }
    assert errors.ImageTooLarge.over_bytes(int(9.5 * 2**20)).message_in("es") == (
        "El archivo supera el límite de 9,5 MB."
    )
    assert errors.NoFaceFound().message_in("es") == (
        "No se ha encontrado ninguna cara en la imagen; este estilo necesita una."
    )


def test_an_unmarked_message_is_english_only():
    # Meant for operators: English as written, the class's own message in other languages.
    exc = errors.QueueFull("every inline slot is busy")
    assert exc.message_in("en") == "every inline slot is busy"
    assert exc.message_in("es") == "La cola está llena; vuelve a intentarlo dentro de unos minutos."
    assert errors.InvalidRequest("no {braces} filled").message == "no {braces} filled"


def test_message_for_code():
    assert errors.message_for_code("no_face_found") == errors.NoFaceFound.default_message()
    assert errors.message_for_code("lease_expired").startswith("We tried")
    assert errors.message_for_code("nonsense") == errors.PixserveError.default_message()
    assert errors.message_for_code(None) == errors.PixserveError.default_message()
