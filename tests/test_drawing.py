"""The drawing pad's strokes become MNIST-style images: a 20×20 box, centred by mass in a 28×28 frame."""

import numpy as np
from scipy import ndimage

from aecourse.drawing import PAD_SIZE, mnist_image


def _box(image: np.ndarray) -> tuple[int, int]:
    rows, columns = np.nonzero(image > 0.05)
    return rows.max() - rows.min() + 1, columns.max() - columns.min() + 1


def test_nothing_drawn_is_no_image():
    assert mnist_image([]) is None
    assert mnist_image([[]]) is None


def test_a_stroke_in_a_corner_is_scaled_and_centred():
    stroke = [(10.0, 10.0), (10.0, 90.0)]  # a short vertical bar in the top-left corner of the pad
    image = mnist_image([stroke])
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert 0 <= image.min() and image.max() <= 1 and image.max() > 0.9
    height, width = _box(image)
    assert 19 <= height <= 21 and width < height / 2  # the longer side fills 20 pixels, the aspect is kept
    row, column = ndimage.center_of_mass(image)
    assert abs(row - 13.5) <= 1 and abs(column - 13.5) <= 1


def test_the_same_shape_anywhere_on_the_pad_gives_the_same_image():
    seven = [(60.0, 60.0), (200.0, 60.0), (110.0, 230.0)]
    shifted = [(x + 40, y - 30) for x, y in seven]
    assert np.allclose(mnist_image([seven]), mnist_image([shifted]), atol=0.02)
    assert max(x for x, _ in shifted) < PAD_SIZE


def test_a_single_click_is_a_dot():
    image = mnist_image([[(140.0, 140.0)]])
    height, width = _box(image)
    assert height == width and height >= 19
