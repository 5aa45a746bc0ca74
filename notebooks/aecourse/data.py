"""Datasets: MNIST and the Olivetti faces as float32 arrays in [0, 1], validated before use.

Normally the data come from the usual loaders (Keras and scikit-learn download and cache them).
Offline, set AECOURSE_DATA to a folder holding ``mnist.npz`` and ``olivetti_faces.npz``;
``fetch_datasets()`` (``python -m aecourse fetch-data``) fills the caches or writes such a folder before class.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .paths import DATA_ENV, data_dir, replaced_atomically

MNIST_FILE = "mnist.npz"
OLIVETTI_FILE = "olivetti_faces.npz"
MNIST_SIZES = {"train": 60_000, "test": 10_000}
OLIVETTI_COUNT = 400

Split = tuple[np.ndarray, np.ndarray]


class DataError(RuntimeError):
    """A dataset could not be loaded or does not look as expected."""


def _offline_hint(file_name: str, keys: str) -> str:
    return (f"Connect to the internet and try again, or work offline: set {DATA_ENV} to a folder holding "
            f"{file_name} ({keys}), such as the one your instructor hands out, or one written on a computer "
            "that is online by `python -m aecourse fetch-data --to DIR`.")


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


def _download_mnist() -> dict[str, np.ndarray]:
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # whatever urllib or the cache raised; its text goes into the message
        raise DataError(f"Downloading MNIST with keras.datasets.mnist.load_data() failed ({error}). "
                        + _offline_hint(MNIST_FILE, "x_train, y_train, x_test, y_test as uint8")) from None
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _check_mnist(arrays: dict[str, np.ndarray], source: str) -> None:
    for split, count in MNIST_SIZES.items():
        _check_array(arrays[f"x_{split}"], f"x_{split}", (count, 28, 28), np.uint8, (0, 255), source)
        _check_array(arrays[f"y_{split}"], f"y_{split}", (count,), np.uint8, (0, 9), source)


def _keras_cache() -> Path:
    """Where keras.utils.get_file() caches MNIST: $KERAS_HOME or ~/.keras, or /tmp/.keras if unwritable."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()
    fallback = Path("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()) / ".keras"
    candidates = [home / "datasets" / MNIST_FILE, fallback / "datasets" / MNIST_FILE]
    return next((path for path in candidates if path.is_file()), candidates[0])


def _download_olivetti() -> dict[str, np.ndarray]:
    from sklearn.datasets import fetch_olivetti_faces

    try:
        faces = fetch_olivetti_faces()
    except Exception as error:  # urllib, ssl or cache errors; the text goes into the message
        raise DataError(f"Downloading the Olivetti faces with sklearn.datasets.fetch_olivetti_faces() "
                        f"failed ({error}). "
                        + _offline_hint(OLIVETTI_FILE, "images float32 (400, 64, 64), target")) from None
    return {"images": faces.images, "target": faces.target}


def _check_olivetti(arrays: dict[str, np.ndarray], source: str) -> None:
    images, target = arrays["images"], arrays["target"]
    _check_array(images, "images", (OLIVETTI_COUNT, 64, 64), np.float32, (0.0, 1.0), source)
    if target.shape != (OLIVETTI_COUNT,) or not np.issubdtype(target.dtype, np.integer):
        raise DataError(f"{source}: target has shape {target.shape} and dtype {target.dtype}, "
                        f"expected ({OLIVETTI_COUNT},) integers.")
    _check_array(target, "target", (OLIVETTI_COUNT,), target.dtype.type, (0, 39), source)


def _sklearn_cache() -> Path:
    """The file fetch_olivetti_faces() caches the faces in (its data home, if the name ever changes)."""
    from sklearn.datasets import get_data_home

    home = Path(get_data_home())
    return next(iter(sorted(home.glob("olivetti*.pkz"))), home)


@dataclass(frozen=True)
class _Dataset:
    file: str  # its name in an AECOURSE_DATA folder
    keys: tuple[str, ...]
    download: Callable[[], dict[str, np.ndarray]]
    loader: str  # the usual loader, for messages
    check: Callable[[dict[str, np.ndarray], str], None]
    cache: Callable[[], Path]


_DATASETS = {
    "mnist": _Dataset(MNIST_FILE, ("x_train", "y_train", "x_test", "y_test"), _download_mnist,
                      "keras.datasets.mnist", _check_mnist, _keras_cache),
    "olivetti": _Dataset(OLIVETTI_FILE, ("images", "target"), _download_olivetti,
                         "sklearn.datasets.fetch_olivetti_faces", _check_olivetti, _sklearn_cache),
}


def _arrays(name: str, folder: Path | None) -> tuple[dict[str, np.ndarray], str]:
    """A dataset's arrays as stored, checked: from the folder's .npz file, or downloaded if folder is None."""
    dataset = _DATASETS[name]
    if folder is None:
        arrays, source = dataset.download(), dataset.loader
    else:
        path = folder / dataset.file
        arrays, source = _read_npz(path, dataset.keys), str(path)
    dataset.check(arrays, source)
    return arrays, source


def load_mnist() -> tuple[Split, Split]:
    """MNIST as ((x_train, y_train), (x_test, y_test)): images float32 (N, 28, 28) in [0, 1], labels int64."""
    arrays, _ = _arrays("mnist", data_dir())
    train, test = (((arrays[f"x_{split}"] / np.float32(255.0)).astype(np.float32),
                     arrays[f"y_{split}"].astype(np.int64)) for split in MNIST_SIZES)
    return train, test


def load_olivetti() -> Split:
    """The 400 Olivetti faces as (images, person): float32 (400, 64, 64) in [0, 1], int64 ids 0-39."""
    arrays, _ = _arrays("olivetti", data_dir())
    return arrays["images"], arrays["target"].astype(np.int64)


@dataclass(frozen=True)
class FetchedDataset:
    """Where fetch_datasets() left one dataset, and how.

    status: "written" to the target, "kept" (valid and already there), "cached" by its usual loader,
    or "found" in the AECOURSE_DATA folder; source: the folder file or loader it came from.
    """

    path: Path
    status: str
    source: str


def _write_npz_atomically(path: Path, arrays: dict[str, np.ndarray], name: str) -> None:
    """Write a compressed .npz next to path, read it back with the loaders' checks, then rename it into place."""
    with replaced_atomically(path) as temporary:
        with open(temporary, "wb") as stream:  # a stream, so numpy does not append ".npz" to the name
            np.savez_compressed(stream, **arrays)
            stream.flush()
            os.fsync(stream.fileno())
        written = _read_npz(temporary, _DATASETS[name].keys)
        _DATASETS[name].check(written, str(temporary))
        if not all(np.array_equal(written[key], arrays[key]) for key in arrays):
            raise DataError(f"{temporary} read back differently from what was written; is the disk full or failing?")


def _fetch(name: str, source: Path | None, target: Path | None) -> FetchedDataset:
    dataset = _DATASETS[name]
    if target is None:
        _, origin = _arrays(name, source)  # downloading through the loader fills its cache
        if source is not None:
            return FetchedDataset(source / dataset.file, "found", origin)
        return FetchedDataset(dataset.cache(), "cached", origin)
    path = target / dataset.file
    if path.exists():
        # Never overwrite what is there: it may be the only copy, and a damaged one must be looked at.
        try:
            if not path.is_file():
                raise DataError(f"{path} exists but is not a file.")
            _arrays(name, target)
        except DataError as error:
            raise DataError(f"{error} fetch-data keeps existing files: move or delete {path}, "
                            "then run it again.") from None
        return FetchedDataset(path, "kept", str(path))
    arrays, origin = _arrays(name, source)
    _write_npz_atomically(path, arrays, name)
    return FetchedDataset(path, "written", origin)


def fetch_datasets(target: Path | None = None) -> dict[str, FetchedDataset]:
    """Fetch both datasets before class: into the loaders' caches, or (target) as an AECOURSE_DATA folder.

    The source is the AECOURSE_DATA folder if set, else the usual download. Valid files already in
    target are kept; a damaged one is reported and left alone. A failure on one dataset does not stop
    the other; the DataError raised at the end says what failed and what is in place.
    """
    source = data_dir()
    if target is not None:
        target = Path(target).expanduser()
        target.mkdir(parents=True, exist_ok=True)
    fetched: dict[str, FetchedDataset] = {}
    problems = []
    for name in _DATASETS:
        try:
            fetched[name] = _fetch(name, source, target)
        except DataError as error:
            problems.append(str(error))
    if problems:
        ready = "".join(f"\nIn place: {result.path}" for result in fetched.values())
        raise DataError("Not every dataset could be fetched:" + "".join(f"\n- {problem}" for problem in problems)
                        + ready)
    return fetched


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
