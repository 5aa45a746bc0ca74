"""Datasets: MNIST and the Olivetti faces as float32 arrays in [0, 1], validated before use.

Normally the data come from the usual loaders (Keras and scikit-learn download and cache them).
Offline, set AECOURSE_DATA to a folder holding ``mnist.npz`` and ``olivetti_faces.npz``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .paths import DATA_ENV, data_dir

MNIST_FILE = "mnist.npz"
OLIVETTI_FILE = "olivetti_faces.npz"
MNIST_SIZES = {"train": 60_000, "test": 10_000}
OLIVETTI_COUNT = 400

Split = tuple[np.ndarray, np.ndarray]


class DataError(RuntimeError):
    """A dataset could not be loaded or does not look as expected."""


def _offline_hint(file_name: str, keys: str) -> str:
    return (f"To work offline, set {DATA_ENV} to a folder holding {file_name} ({keys}); "
            f"to download instead, unset {DATA_ENV} and connect to the internet.")


def _check_array(array: np.ndarray, name: str, shape: tuple[int, ...], dtype: type,
                 value_range: tuple[float, float], source: str) -> None:
    """Raise DataError unless the array has the expected shape, dtype and value range."""
    if array.shape != shape:
        raise DataError(f"{source}: {name} has shape {array.shape}, expected {shape}. "
                        "The file is incomplete or not the expected dataset; replace it.")
    if array.dtype != np.dtype(dtype):
        raise DataError(f"{source}: {name} has dtype {array.dtype}, expected {np.dtype(dtype)}.")
    low, high = value_range
    if array.size and (array.min() < low or array.max() > high):
        raise DataError(f"{source}: {name} has values in [{array.min()}, {array.max()}], "
                        f"expected them within [{low}, {high}].")


def _read_npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Read the named arrays from a .npz file, without ever unpickling objects."""
    if not path.is_file():
        raise DataError(f"{path} does not exist, but {DATA_ENV}={data_dir()} says to read the data "
                        f"from there. Put {path.name} in that folder, or unset {DATA_ENV} to download.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in keys if key not in archive.files]
            if missing:
                raise DataError(f"{path} lacks the arrays {missing} (it has {archive.files}); "
                                f"expected the keys {list(keys)}. Replace the file.")
            return {key: archive[key] for key in keys}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise DataError(f"{path} cannot be read as a .npz archive ({error}). "
                        "The file is damaged; replace it.") from error


def _mnist_arrays() -> tuple[dict[str, np.ndarray], str]:
    folder = data_dir()
    if folder is not None:
        path = folder / MNIST_FILE
        return _read_npz(path, ("x_train", "y_train", "x_test", "y_test")), str(path)
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # whatever urllib or the cache raised; its text goes into the message
        raise DataError(f"Downloading MNIST with keras.datasets.mnist.load_data() failed ({error}). "
                        + _offline_hint(MNIST_FILE, "x_train, y_train, x_test, y_test as uint8")) from None
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    return arrays, "keras.datasets.mnist"


def load_mnist() -> tuple[Split, Split]:
    """MNIST as ((x_train, y_train), (x_test, y_test)): images float32 (N, 28, 28) in [0, 1], labels int64."""
    arrays, source = _mnist_arrays()
    splits = []
    for split, count in MNIST_SIZES.items():
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        _check_array(images, f"x_{split}", (count, 28, 28), np.uint8, (0, 255), source)
        _check_array(labels, f"y_{split}", (count,), np.uint8, (0, 9), source)
        splits.append(((images / np.float32(255.0)).astype(np.float32), labels.astype(np.int64)))
    return splits[0], splits[1]


def _olivetti_arrays() -> tuple[dict[str, np.ndarray], str]:
    folder = data_dir()
    if folder is not None:
        path = folder / OLIVETTI_FILE
        return _read_npz(path, ("images", "target")), str(path)
    from sklearn.datasets import fetch_olivetti_faces

    try:
        faces = fetch_olivetti_faces()
    except Exception as error:  # urllib, ssl or cache errors; the text goes into the message
        raise DataError(f"Downloading the Olivetti faces with sklearn.datasets.fetch_olivetti_faces() "
                        f"failed ({error}). "
                        + _offline_hint(OLIVETTI_FILE, "images float32 (400, 64, 64), target")) from None
    return {"images": faces.images, "target": faces.target}, "sklearn.datasets.fetch_olivetti_faces"


def load_olivetti() -> Split:
    """The 400 Olivetti faces as (images, person): float32 (400, 64, 64) in [0, 1], int64 ids 0-39."""
    arrays, source = _olivetti_arrays()
    images, target = arrays["images"], arrays["target"]
    _check_array(images, "images", (OLIVETTI_COUNT, 64, 64), np.float32, (0.0, 1.0), source)
    if target.shape != (OLIVETTI_COUNT,) or not np.issubdtype(target.dtype, np.integer):
        raise DataError(f"{source}: target has shape {target.shape} and dtype {target.dtype}, "
                        f"expected ({OLIVETTI_COUNT},) integers.")
    _check_array(target, "target", (OLIVETTI_COUNT,), target.dtype.type, (0, 39), source)
    return images, target.astype(np.int64)


def split_by_person(person: np.ndarray, held_out_per_person: int = 2,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test) that hold out the same number of randomly chosen images of every person."""
    person = np.asarray(person)
    fewest = np.bincount(person)[np.unique(person)].min()  # bincount also rejects non-1-D input
    if not 1 <= held_out_per_person < fewest:
        raise ValueError(f"Cannot hold out {held_out_per_person} images per person when some person has "
                         f"only {fewest}; choose between 1 and one fewer than that.")
    rng = np.random.default_rng(seed)
    test = np.concatenate([rng.choice(np.flatnonzero(person == who), held_out_per_person, replace=False)
                           for who in np.unique(person)])
    train = np.setdiff1d(np.arange(len(person)), test)
    return train, np.sort(test)
