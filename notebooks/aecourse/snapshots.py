"""Training animations: a Keras callback that records the decoded manifold and the latent codes every
epoch and writes them as animated GIFs under figures/ (incidental plotting, used while training)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from .paths import figures_dir
from .plots import Decoder, latent_scatter, manifold_canvas

Encoder = Callable[[np.ndarray], np.ndarray]

FRAME_DPI = 80  # with font sizes of 10 pt and more, every text in a frame is at least 11 pixels high
FRAME_FONTS = {"font.size": 11, "axes.titlesize": 13, "axes.labelsize": 12, "xtick.labelsize": 10,
               "ytick.labelsize": 10}


def _figure_to_frame(fig) -> Image.Image:
    """Render a figure to an RGB image (write_animation() reduces it to a few colours)."""
    fig.canvas.draw()
    image = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).convert("RGB")
    plt.close(fig)
    return image


class EpochSnapshots(keras.callbacks.Callback):
    """Record the decoded manifold and the codes of some labelled images after every epoch."""

    def __init__(self, name: str, encode: Encoder, decode: Decoder, images: np.ndarray,
                 labels: np.ndarray, *, n: int = 15, spacing: str = "gaussian",
                 limits: tuple[float, float] = (-4.0, 4.0), frame_ms: int = 400) -> None:
        super().__init__()
        self.name, self.encode, self.decode = name, encode, decode
        self.images, self.labels = images, labels
        self.n, self.spacing, self.limits, self.frame_ms = n, spacing, limits, frame_ms
        self.manifold_frames: list[Image.Image] = []
        self.latent_frames: list[Image.Image] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        with plt.rc_context(FRAME_FONTS):
            fig, ax = plt.subplots(figsize=(5, 5.2), dpi=FRAME_DPI)
            ax.imshow(manifold_canvas(self.decode, self.n, spacing=self.spacing), cmap="gray", vmin=0, vmax=1)
            ax.set(xticks=[], yticks=[], xlabel="$z_1$", ylabel="$z_2$", title=f"decoded grid, epoch {epoch + 1}")
            self.manifold_frames.append(_figure_to_frame(fig))
            fig, ax = plt.subplots(figsize=(5, 4.2), dpi=FRAME_DPI)
            latent_scatter(np.asarray(self.encode(self.images)), self.labels, ax=ax, axis_names="\\mu",
                           title=f"latent means, epoch {epoch + 1}")
            ax.set(xlim=self.limits, ylim=self.limits)
            self.latent_frames.append(_figure_to_frame(fig))

    def on_train_end(self, logs: dict | None = None) -> None:
        directory = figures_dir()
        directory.mkdir(parents=True, exist_ok=True)
        for kind, frames, colors in (("manifold", self.manifold_frames, 16), ("latent", self.latent_frames, 32)):
            if frames:  # the manifold is grey; the codes need the ten digits' colours and their blends
                write_animation(directory / f"{self.name}_{kind}.gif", frames, self.frame_ms, colors)


def shown_epochs(count: int) -> list[int]:
    """The epochs (from 1) an animation shows: all of the first four, then ever sparser, and the last.

    A model changes most in its first epochs; a frame for each of 40 epochs would triple a notebook's size.
    """
    epochs = {epoch for epoch in (1, 2, 3, 4, 6, 8, 12, 16, 24, 32) if epoch <= count} | {count}
    return sorted(epochs | set(range(48, count, 16)))


def write_animation(path: Path, frames: list[Image.Image], frame_ms: int = 400, colors: int = 16) -> None:
    """Write the frames of shown_epochs() as a looping GIF in one palette of `colors` (a small file).

    One palette for all frames, so that a colour means the same digit from the first frame to the last.
    """
    chosen = [frames[epoch - 1].convert("RGB") for epoch in shown_epochs(len(frames))]
    strip = Image.new("RGB", (chosen[0].width, chosen[0].height * len(chosen)))
    for index, frame in enumerate(chosen):
        strip.paste(frame, (0, index * frame.height))
    palette = strip.quantize(colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    quantized = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in chosen]
    quantized[0].save(path, save_all=True, append_images=quantized[1:], duration=frame_ms, loop=0, optimize=True)
