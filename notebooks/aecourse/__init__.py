"""What the notebooks import: datasets, pretrained weights, figures, results, other notebooks' definitions.

The maintainers' and instructors' commands (`python -m aecourse ...`) live apart, in aecourse.commands.
Import it before Keras: TensorFlow reads the two variables below once, when it loads.
"""

import logging
import os

# Without them, TensorFlow's first import prints absl, oneDNN and CPU-feature lines as a red block under
# the notebook's first cell. oneDNN off also gives the kernels the committed outputs were computed with.
# A value the user set wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # warnings and info out; errors still show
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# The same for TensorFlow's Python side, whose warnings (a predict() function traced once for each new model)
# would otherwise print under cells that measure several models in turn. A filter, not a level: TensorFlow
# sets its logger's level itself when it first logs in a notebook. Errors still show.
logging.getLogger("tensorflow").addFilter(lambda record: record.levelno >= logging.ERROR)

from .data import DataError, fetch_datasets, load_mnist, load_olivetti, split_by_person
from .definitions import definitions_from
from .embedding import pca_2d, predict_exactly, tsne_2d
from .logs import read_scalars
from .paths import figures_dir, shipped_figure, weights_dir
from .plots import (animation, grid_axis, image_grid, image_rows, interpolation_strip, latent_scatter,
                    manifold_canvas, manifold_grid, save_figure)
from .results import record_likelihood, record_result, significant
from .weights import WeightsError, load_pretrained, train_or_load

__all__ = [
    "DataError", "WeightsError", "animation", "definitions_from", "fetch_datasets", "figures_dir",
    "grid_axis", "image_grid", "image_rows", "interpolation_strip", "latent_scatter", "load_mnist",
    "load_olivetti", "load_pretrained", "manifold_canvas", "manifold_grid", "pca_2d", "predict_exactly",
    "read_scalars", "record_likelihood", "record_result", "save_figure", "shipped_figure", "significant",
    "split_by_person", "train_or_load", "tsne_2d", "weights_dir",
]
