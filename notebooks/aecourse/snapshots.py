"""Training animations: a Keras callback that records the decoded manifold and the latent codes every
epoch and writes them as animated GIFs under figures/ (incidental plotting, used while training)."""

from __future__ import annotations

from collections.abc import Callable

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


def _figure_to_frame(fig, colors: int = 32) -> Image.Image:
    """Render a figure to a palette image (few colours keep the GIF small)."""
    fig.canvas.draw()
    image = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).convert("RGB")
    plt.close(fig)
    return image.quantize(colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


class EpochSnapshots(keras.callbacks.Callback):
    """Record the decoded manifold and the codes of some labelled images after every epoch."""

    def __init__(self, name: str, encode: Encoder, decode: Decoder, images: np.ndarray,
                 labels: np.ndarray, *, n: int = 15, spacing: str = "gaussian",
                 limits: tuple[float, float] = (-4.0, 4.0), frame_ms: int = 250) -> None:
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
        for kind, frames in (("manifold", self.manifold_frames), ("latent", self.latent_frames)):
            if frames:
                frames[0].save(directory / f"{self.name}_{kind}.gif", save_all=True,
                               append_images=frames[1:], duration=self.frame_ms, loop=0, optimize=True)
