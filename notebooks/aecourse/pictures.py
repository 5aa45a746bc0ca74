"""PNG pictures compared as the eye sees them: re-running a notebook on another CPU rewrites no figure.

Another CPU (or BLAS kernel) can round a number differently in its last bit. Drawn, that moves a line by a
billionth of a pixel, which changes the antialiasing of a few pixels by one grey level: a new file for git,
and nothing anyone can see. A picture that is the same to the eye as the one on disk is therefore kept as
it is, and only a change the eye could notice (a moved point, another number in a label) writes a new one.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .paths import replaced_atomically

# The largest change of one colour channel of one pixel, in levels of 0–255, that counts as no change.
# matplotlib's Agg renderer places shapes on a grid of 1/256 pixel, so a point that moves by a billionth of
# a pixel can cross a grid line and change the coverage of its edge pixels by a few levels (up to 4 seen in
# notebook 02's PCA panels between two BLAS kernels). A point moved by a tenth of a pixel changes them by
# about 25, and another digit in a label by up to 255.
MAX_LEVEL_CHANGE = 8


def pixels(png: bytes) -> np.ndarray:
    """A PNG file's pixels as an (height, width, 4) array of RGBA levels 0–255."""
    from PIL import Image  # imported here: the notebooks' first cell stays quick to import

    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGBA"), dtype=np.int16)


def same_to_the_eye(old: bytes, new: bytes) -> bool:
    """True if the two PNGs have the same size and no channel of any pixel differs by more than MAX_LEVEL_CHANGE."""
    if old == new:
        return True
    try:
        old_pixels, new_pixels = pixels(old), pixels(new)
    except OSError:  # a damaged file is not the same picture: it gets rewritten
        return False
    return (old_pixels.shape == new_pixels.shape
            and int(np.abs(old_pixels - new_pixels).max()) <= MAX_LEVEL_CHANGE)


def write_unless_same(path: Path, png: bytes) -> bool:
    """Write png to path unless the file there is the same to the eye; return whether it was written."""
    if path.is_file() and same_to_the_eye(path.read_bytes(), png):
        return False
    with replaced_atomically(path) as temporary:
        temporary.write_bytes(png)
    return True
