"""Incidental figure code: image rows and grids, latent scatters, decoded manifolds, interpolation strips, GIFs.

Every function returns a matplotlib Figure; pass ``save="name"`` to also write ``figures/name.png``.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from scipy.stats import norm

from .paths import figures_dir
from .pictures import write_unless_same

Decoder = Callable[[np.ndarray], np.ndarray]

# Figures inside the notebooks at 80 dots per inch. The course's figures are 10 to 18 inches wide, wider
# than a notebook's cell at matplotlib's 100, so JupyterLab shrank them anyway; at 80 they keep their size on
# screen and take a third less space in the file. The files under figures/ are written at 120 (save_figure).
INLINE_DPI = 80
plt.rcParams["figure.dpi"] = INLINE_DPI


def save_figure(fig: Figure, name: str) -> Path:
    """Write the figure to figures/<name>.png (for slides and the README) and return the path.

    A file that is already there and the same to the eye is left alone (aecourse.pictures), so re-running a
    notebook on another CPU changes no figure that did not visibly change.
    """
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"Figure name {name!r} must be a plain file stem such as '01_latent_scatter'.")
    directory = figures_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=120, bbox_inches="tight", metadata={"Software": None})
    write_unless_same(path, png.getvalue())
    return path


class Animation:
    """A GIF file for IPython's display(); see animation()."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.encoded = base64.b64encode(self.path.read_bytes()).decode("ascii")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        tag = f'<img src="data:image/gif;base64,{self.encoded}" alt="{html.escape(self.path.stem)}">'
        return {"text/html": tag, "text/plain": f"[animation {self.path.name}]"}


def animation(path: Path | str) -> Animation:
    """A GIF that plays in JupyterLab, VS Code and Colab, in nbconvert's HTML export and in the slides.

    The notebook stores it once, as an HTML <img> with the GIF inline. Not as image/gif: nbconvert's HTML
    templates cannot render that type (they print "<IPython.core.display.Image object>"), and a bundle with
    both would store every GIF twice. JupyterLab's sanitiser keeps data: URLs in an <img>, so the GIF also
    plays in a notebook that is not trusted.
    """
    return Animation(Path(path))


def _finish(fig: Figure, save: str | None) -> Figure:
    if save:
        save_figure(fig, save)
    return fig


def as_array(values) -> np.ndarray:
    """A model's output as a NumPy array, whichever tensor type the Keras backend returned."""
    if isinstance(values, np.ndarray):
        return values
    from keras import ops  # imported only when a tensor arrives: importing the helper stays light

    return ops.convert_to_numpy(values)


def _as_images(images: np.ndarray, image_shape: tuple[int, int] | None, what: str) -> np.ndarray:
    """Reshape a batch of flat or square images to (count, height, width), with a clear error."""
    images = as_array(images)
    if image_shape is None:
        if images.ndim == 4 and images.shape[-1] == 1:
            return images[..., 0]
        if images.ndim == 3:
            return images
        side = int(round(np.sqrt(images.shape[-1]))) if images.ndim == 2 else 0
        if images.ndim == 2 and side * side == images.shape[-1]:
            return images.reshape(len(images), side, side)
        raise ValueError(f"{what} has shape {images.shape}; expected (count, height, width), "
                         "(count, height, width, 1) or flat square images, or pass image_shape.")
    if images.size % (image_shape[0] * image_shape[1]):
        raise ValueError(f"{what} has shape {images.shape}, which cannot be split into images of "
                         f"shape {image_shape}.")
    return images.reshape(-1, *image_shape)


def _show(ax, image: np.ndarray, cmap: str, vmin: float | None, vmax: float | None) -> None:
    ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])


def image_rows(rows: dict[str, np.ndarray], *, image_shape: tuple[int, int] | None = None,
               cmap: str = "gray", vmin: float | None = 0.0, vmax: float | None = 1.0,
               size: float = 1.3, save: str | None = None) -> Figure:
    """One labelled row per entry, e.g. {"original": x, "reconstruction": x_hat}, columns aligned."""
    if not rows:
        raise ValueError("image_rows needs at least one row of images.")
    batches = {label: _as_images(images, image_shape, f"Row {label!r}") for label, images in rows.items()}
    counts = {label: len(batch) for label, batch in batches.items()}
    if len(set(counts.values())) != 1:
        raise ValueError(f"Every row needs the same number of images; got {counts}.")
    n_columns = next(iter(counts.values()))
    fig, axes = plt.subplots(len(rows), n_columns, figsize=(size * n_columns, size * len(rows)),
                             squeeze=False)
    for row_axes, (label, batch) in zip(axes, batches.items()):
        for ax, image in zip(row_axes, batch):
            _show(ax, image, cmap, vmin, vmax)
        row_axes[0].set_ylabel(label, rotation=0, ha="right", va="center")
    return _finish(fig, save)


def image_grid(images: np.ndarray, n_columns: int, *, titles: Sequence[str] | None = None,
               image_shape: tuple[int, int] | None = None, cmap: str = "gray",
               vmin: float | None = None, vmax: float | None = None, symmetric: bool = False,
               colorbar_label: str | None = None, title: str = "", size: float = 1.3,
               save: str | None = None) -> Figure:
    """Images in a grid of n_columns; None limits autoscale each, symmetric centres each on zero (weights).

    colorbar_label adds one colour bar for the shared vmin..vmax scale; title goes above the whole grid.
    """
    batch = _as_images(images, image_shape, "images")
    if titles is not None and len(titles) != len(batch):
        raise ValueError(f"Got {len(titles)} titles for {len(batch)} images.")
    if colorbar_label is not None and (symmetric or vmin is None or vmax is None):
        raise ValueError("One colour bar needs one scale for every image: pass vmin and vmax, not symmetric.")
    n_rows = -(-len(batch) // n_columns)
    fig, axes = plt.subplots(n_rows, n_columns, figsize=(size * n_columns, size * n_rows), squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index < len(batch):
            if symmetric:
                vmax = float(np.abs(batch[index]).max()) or 1.0
                vmin = -vmax
            _show(ax, batch[index], cmap, vmin, vmax)
            if titles is not None:
                ax.set_title(titles[index], fontsize=9)
        else:
            ax.axis("off")
    if colorbar_label is not None:
        bar = fig.colorbar(axes.flat[0].images[0], ax=axes, fraction=0.02, pad=0.01)
        bar.set_label(colorbar_label)
    if title:
        fig.suptitle(title, y=1.0 if n_rows > 1 else 1.08)
    return _finish(fig, save)


def latent_scatter(codes: np.ndarray, labels: np.ndarray, *, ax=None, title: str = "",
                   label_name: str = "digit", colorbar: bool = True, axis_names: str = "h",
                   save: str | None = None) -> Figure:
    """2-D codes as points coloured by label, with a colour bar (draws into ax if given)."""
    codes, labels = as_array(codes), np.asarray(labels)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"codes has shape {codes.shape}; a scatter needs (count, 2). "
                         "Project larger codes to 2-D first (PCA or t-SNE).")
    if labels.shape != (len(codes),):
        raise ValueError(f"labels has shape {labels.shape}; expected ({len(codes)},), one per code.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 5))
    else:
        fig = ax.figure
    n_classes = int(labels.max()) + 1 if labels.size else 1
    cmap = plt.get_cmap("tab10" if n_classes <= 10 else "nipy_spectral", n_classes)
    points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap=cmap, s=4, alpha=0.8,
                        vmin=-0.5, vmax=n_classes - 0.5)
    if colorbar:
        bar = fig.colorbar(points, ax=ax, ticks=range(0, n_classes, max(1, n_classes // 10)))
        bar.set_label(label_name)
    ax.set_xlabel(f"${axis_names}_1$")
    ax.set_ylabel(f"${axis_names}_2$")
    ax.set_title(title)
    return _finish(fig, save)


def grid_axis(n: int, spacing: str = "linear", low: float = 0.05, high: float = 0.95) -> np.ndarray:
    """n code values along one axis: evenly spaced in [low, high], or Gaussian quantiles norm.ppf of them."""
    if n < 2 or not 0 <= low < high:
        raise ValueError(f"Need n >= 2 and 0 <= low < high; got n={n}, low={low}, high={high}.")
    positions = np.linspace(low, high, n)
    if spacing == "linear":
        return positions
    if spacing == "gaussian":
        if high >= 1:
            raise ValueError("Gaussian quantiles need high < 1 (norm.ppf(1) is infinite).")
        return norm.ppf(positions)
    raise ValueError(f"spacing must be 'linear' or 'gaussian', not {spacing!r}.")


def manifold_canvas(decode: Decoder, n: int = 15, *, spacing: str = "linear", low: float = 0.05,
                    high: float = 0.95, image_shape: tuple[int, int] = (28, 28)) -> np.ndarray:
    """Decode an n-by-n grid of 2-D codes (h_2 grows upwards) and tile the images into one array."""
    axis = grid_axis(n, spacing, low, high)
    h1, h2 = np.meshgrid(axis, axis[::-1])  # top row holds the largest h_2, as on a plot
    codes = np.stack([h1.ravel(), h2.ravel()], axis=1).astype(np.float32)
    images = _as_images(decode(codes), image_shape, "decoded images")
    height, width = image_shape
    return images.reshape(n, n, height, width).transpose(0, 2, 1, 3).reshape(n * height, n * width)


def manifold_grid(decode: Decoder, n: int = 15, *, spacing: str = "linear", low: float = 0.05,
                  high: float = 0.95, image_shape: tuple[int, int] = (28, 28), cmap: str = "gray",
                  axis_names: str = "h", save: str | None = None) -> Figure:
    """The decoded manifold as a figure, with the code values on the axes (named h_1, h_2 or z_1, z_2)."""
    canvas = manifold_canvas(decode, n, spacing=spacing, low=low, high=high, image_shape=image_shape)
    labels = [f"{value:.2f}" for value in np.round(grid_axis(n, spacing, low, high), 2) + 0.0]  # no "-0.00"
    height, width = image_shape
    size = 7.0 * max(1.0, n / 20)  # larger grids get a larger figure, so digits and labels stay readable
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(canvas, cmap=cmap, vmin=0, vmax=1)
    ax.set_xticks(np.arange(n) * width + width / 2, labels, rotation=90, fontsize=7)
    ax.set_yticks(np.arange(n) * height + height / 2, labels[::-1], fontsize=7)
    ax.set_xlabel(f"${axis_names}_1$")
    ax.set_ylabel(f"${axis_names}_2$")
    return _finish(fig, save)


def interpolation_strip(images: np.ndarray, *, labels: Sequence[str] | None = None,
                        image_shape: tuple[int, int] | None = None, row_label: str = "",
                        save: str | None = None) -> Figure:
    """A single row of images (an interpolation path), optionally captioned, e.g. with t values."""
    batch = _as_images(images, image_shape, "images")
    fig = image_grid(batch, n_columns=len(batch), titles=labels, vmin=0, vmax=1)
    if row_label:
        fig.axes[0].set_ylabel(row_label, rotation=0, ha="right", va="center")
    return _finish(fig, save)
