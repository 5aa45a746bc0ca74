"""Incidental widget code: a canvas to draw a digit with the mouse, turned into a 28×28 MNIST-style image."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

Stroke = list[tuple[float, float]]
PAD_SIZE = 280  # pixels on screen: ten per MNIST pixel
PEN_WIDTH = 22  # about MNIST's stroke width once scaled down


def mnist_image(strokes: Sequence[Stroke], size: int = PAD_SIZE) -> np.ndarray | None:
    """Strokes drawn on a size×size pad as a 28×28 float image in [0, 1], prepared as MNIST's digits were.

    MNIST scaled each digit to fit a 20×20 box (keeping its aspect ratio) and placed it in the 28×28 frame
    with its centre of mass in the middle. None when nothing was drawn.
    """
    if not any(strokes):
        return None
    canvas = Image.new("L", (size, size), 0)
    pen = ImageDraw.Draw(canvas)
    for stroke in strokes:
        if len(stroke) > 1:
            pen.line(stroke, fill=255, width=PEN_WIDTH, joint="curve")
        for x, y in (stroke[0], stroke[-1]):  # round ends, and a dot for a single click
            pen.ellipse((x - PEN_WIDTH / 2, y - PEN_WIDTH / 2, x + PEN_WIDTH / 2, y + PEN_WIDTH / 2), fill=255)
    digit = canvas.crop(canvas.getbbox())
    scale = 20 / max(digit.size)
    digit = digit.resize((max(1, round(digit.width * scale)), max(1, round(digit.height * scale))),
                         Image.Resampling.LANCZOS)
    frame = np.zeros((28, 28), dtype="float32")
    top, left = (28 - digit.height) // 2, (28 - digit.width) // 2  # centred box, then moved by its mass
    frame[top:top + digit.height, left:left + digit.width] = np.asarray(digit, dtype="float32") / 255
    row, column = ndimage.center_of_mass(frame)
    shifted = ndimage.shift(frame, (round(13.5 - row), round(13.5 - column)), order=0)
    return np.clip(shifted, 0, 1)


class DrawingPad:
    """A canvas and a Clear button; calls on_digit with the drawn 28×28 image after each stroke, None on Clear."""

    def __init__(self, on_digit: Callable[[np.ndarray | None], None]):
        from ipycanvas import Canvas  # imported here: the rest of the helper works without ipycanvas
        from ipywidgets import Button, HBox, Layout

        self.on_digit = on_digit
        self.strokes: list[Stroke] = []
        self.drawing = False
        self.canvas = Canvas(width=PAD_SIZE, height=PAD_SIZE, layout=Layout(border="2px solid #888"))
        self.canvas.line_width, self.canvas.line_cap, self.canvas.line_join = PEN_WIDTH, "round", "round"
        self.canvas.on_mouse_down(self._start)
        self.canvas.on_mouse_move(self._extend)
        self.canvas.on_mouse_up(self._finish)
        self.canvas.on_mouse_out(self._finish)
        self.clear_button = Button(description="Clear", icon="eraser")
        self.clear_button.on_click(lambda _: self.clear())
        self.widget = HBox([self.canvas, self.clear_button])

    def _start(self, x: float, y: float) -> None:
        self.drawing = True
        self.strokes.append([(x, y)])
        self.canvas.fill_circle(x, y, PEN_WIDTH / 2)

    def _extend(self, x: float, y: float) -> None:
        if self.drawing:
            self.canvas.stroke_line(*self.strokes[-1][-1], x, y)
            self.strokes[-1].append((x, y))

    def _finish(self, x: float, y: float) -> None:
        if self.drawing:
            self.drawing = False
            self.on_digit(mnist_image(self.strokes))

    def clear(self) -> None:
        """Wipe the canvas and forget the strokes."""
        self.canvas.clear()
        self.strokes.clear()
        self.on_digit(None)
