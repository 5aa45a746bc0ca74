"""What the notebooks import: datasets, pretrained weights, figures, results, other notebooks' definitions.

The maintainers' and instructors' commands (`python -m aecourse ...`) live apart, in aecourse.commands.
"""

from .data import DataError, fetch_datasets, load_mnist, load_olivetti, split_by_person
from .definitions import definitions_from
from .paths import figures_dir, shipped_figure, weights_dir
from .plots import (grid_axis, image_grid, image_rows, interpolation_strip, latent_scatter,
                    manifold_canvas, manifold_grid, save_figure)
from .results import record_result, significant
from .weights import WeightsError, load_pretrained, train_or_load

__all__ = [
    "DataError", "WeightsError", "definitions_from", "fetch_datasets", "figures_dir", "grid_axis", "image_grid",
    "image_rows", "interpolation_strip", "latent_scatter", "load_mnist", "load_olivetti", "load_pretrained",
    "manifold_canvas", "manifold_grid", "record_result", "save_figure", "shipped_figure",
    "significant", "split_by_person", "train_or_load", "weights_dir",
]
