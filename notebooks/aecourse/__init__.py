"""Helpers for the autoencoder course: data, pretrained weights, figures and notebook runs."""

from .data import DataError, fetch_datasets, load_mnist, load_olivetti, split_by_person
from .display import show_source
from .paths import figures_dir, shipped_figure, weights_dir
from .plots import (grid_axis, image_grid, image_rows, interpolation_strip, latent_scatter,
                    manifold_canvas, manifold_grid, save_figure)
from .weights import WeightsError, load_pretrained, train_or_load

__all__ = [
    "DataError", "WeightsError", "fetch_datasets", "figures_dir", "grid_axis", "image_grid", "image_rows",
    "interpolation_strip", "latent_scatter", "load_mnist", "load_olivetti", "load_pretrained",
    "manifold_canvas", "manifold_grid", "save_figure", "shipped_figure", "show_source", "split_by_person",
    "train_or_load", "weights_dir",
]
