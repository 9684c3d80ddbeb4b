import threading

import numpy as np
import pytest

from pixserve.core.errors import ImageTooLarge, InvalidRequest, QueueFull
from pixserve.imaging import decode_image
from pixserve.services import TranslateService
from tests.support.images import jpeg_bytes


def test_translate_returns_the_styled_image(translator, small_jpeg):
    result = translator.translate(small_jpeg, "invert")
    assert result.content_type == "image/jpeg"
    out = decode_image(result.data, max_bytes=10**7, max_pixels=10**7)
    assert out.size == (60, 40)


def test_translate_applies_the_crop(translator, small_jpeg):
    result = translator.translate(small_jpeg, "invert", "10,5,20,30")
    assert decode_image(result.data, max_bytes=10**7, max_pixels=10**7).size == (20, 30)


def test_slow_styles_must_use_the_queue(translator, small_jpeg):
    with pytest.raises(InvalidRequest, match="POST /v1/jobs"):
        translator.translate(small_jpeg, "slow")


def test_large_images_must_use_the_queue(catalog, renderer, settings):
    small = settings.model_copy(update={"translate_max_pixels": 100})
    translator = TranslateService(catalog, renderer, small)
    with pytest.raises(ImageTooLarge):
        translator.translate(jpeg_bytes(np.zeros((20, 20, 3), np.uint8)), "invert")


def test_busy_slots_answer_queue_full(catalog, renderer, settings, small_jpeg):
    translator = TranslateService(catalog, renderer, settings, max_concurrent=1, wait_seconds=0.05)
    renderer.gate = threading.Event()
    first = threading.Thread(target=translator.translate, args=(small_jpeg, "invert"))
    first.start()
    assert renderer.started.wait(5)
    with pytest.raises(QueueFull):
        translator.translate(small_jpeg, "invert")
    renderer.gate.set()
    first.join()
