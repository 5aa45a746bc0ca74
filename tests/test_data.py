"""The data loaders: real data when available, and a clear DataError for every kind of bad input."""

from __future__ import annotations

import hashlib
import urllib.error

import numpy as np
import pytest

from aecourse import data
from aecourse.data import DataError, load_mnist, load_olivetti, split_by_person

NO_DATA_FOLDER = ("AECOURSE_DATA is not set, so the real datasets are not checked. Point it at a folder holding "
                  "mnist.npz and olivetti_faces.npz (`cd notebooks && python -m aecourse fetch-data --to DIR` writes one).")
MNIST_TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def _mnist_arrays(**overrides) -> dict[str, np.ndarray]:
    arrays = {
        "x_train": np.zeros((60_000, 28, 28), np.uint8), "y_train": np.zeros(60_000, np.uint8),
        "x_test": np.full((10_000, 28, 28), 255, np.uint8), "y_test": np.full(10_000, 9, np.uint8),
    }
    arrays.update(overrides)
    return arrays


def _olivetti_arrays(**overrides) -> dict[str, np.ndarray]:
    arrays = {"images": np.full((400, 64, 64), 0.5, np.float32), "target": np.repeat(np.arange(40), 10)}
    arrays.update(overrides)
    return arrays


@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("AECOURSE_DATA", str(tmp_path))
    return tmp_path


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_real_mnist_has_the_standard_splits_scaled_to_unit_range():
    if data.data_dir() is None:
        pytest.skip(NO_DATA_FOLDER)
    (x_train, y_train), (x_test, y_test) = load_mnist()
    assert x_train.shape == (60_000, 28, 28) and x_test.shape == (10_000, 28, 28)
    assert x_train.dtype == np.float32 and 0.0 == x_train.min() and x_train.max() == 1.0
    assert np.bincount(y_train).tolist() == MNIST_TRAIN_LABEL_COUNTS
    assert round(float(x_train.mean()) * 255, 4) == 33.3184  # the published train-set mean
    assert y_test.shape == (10_000,)


def test_real_olivetti_has_ten_faces_per_person():
    if data.data_dir() is None:
        pytest.skip(NO_DATA_FOLDER)
    images, person = load_olivetti()
    assert images.shape == (400, 64, 64) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert np.bincount(person).tolist() == [10] * 40


def test_fake_mnist_folder_is_read_and_scaled(data_folder):
    np.savez(data_folder / "mnist.npz", **_mnist_arrays())
    (x_train, _), (x_test, y_test) = load_mnist()
    assert x_train.max() == 0.0 and x_test.min() == 1.0 and y_test.dtype == np.int64


@pytest.mark.parametrize("loader, file_name", [(load_mnist, "mnist.npz"), (load_olivetti, "olivetti_faces.npz")])
def test_missing_file_names_the_variable_and_the_file(data_folder, loader, file_name):
    with pytest.raises(DataError, match=f"{file_name}.*AECOURSE_DATA"):
        loader()


@pytest.mark.parametrize("override, message", [
    ({"x_train": np.zeros((100, 28, 28), np.uint8)}, r"x_train has shape \(100, 28, 28\)"),
    ({"x_test": np.zeros((10_000, 28, 28), np.float32)}, "x_test has dtype float32"),
    ({"y_test": np.full(10_000, 10, np.uint8)}, r"y_test has values in \[10, 10\]"),
])
def test_bad_mnist_arrays_are_refused_and_the_file_is_kept(data_folder, override, message):
    path = data_folder / "mnist.npz"
    np.savez(path, **_mnist_arrays(**override))
    before = _digest(path)
    with pytest.raises(DataError, match=message):
        load_mnist()
    assert _digest(path) == before


def test_missing_key_is_named(data_folder):
    arrays = _mnist_arrays()
    del arrays["y_test"]
    np.savez(data_folder / "mnist.npz", **arrays)
    with pytest.raises(DataError, match=r"lacks the arrays \['y_test'\]"):
        load_mnist()


def test_damaged_archive_is_reported(data_folder):
    (data_folder / "olivetti_faces.npz").write_bytes(b"PK\x03\x04 not really a zip file")
    with pytest.raises(DataError, match="cannot be read as a .npz archive"):
        load_olivetti()


def test_pickled_objects_are_never_loaded(data_folder):
    objects = np.empty(400, dtype=object)
    np.savez(data_folder / "olivetti_faces.npz", **_olivetti_arrays(target=objects))
    with pytest.raises(DataError, match="cannot be read"):
        load_olivetti()


@pytest.mark.parametrize("override, message", [
    ({"images": np.full((400, 64, 64), 2.0, np.float32)}, r"values in \[2.0, 2.0\]"),
    ({"images": np.zeros((400, 32, 32), np.float32)}, "images has shape"),
    ({"target": np.arange(400)}, r"target has values in \[0, 399\]"),
    ({"target": np.zeros(400, np.float32)}, "expected \\(400,\\) integers"),
])
def test_bad_olivetti_arrays_are_refused(data_folder, override, message):
    np.savez(data_folder / "olivetti_faces.npz", **_olivetti_arrays(**override))
    with pytest.raises(DataError, match=message):
        load_olivetti()


def test_failed_mnist_download_explains_the_offline_route(monkeypatch):
    import keras

    monkeypatch.delenv("AECOURSE_DATA", raising=False)

    def offline():
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(DataError, match="no route to host.*set AECOURSE_DATA to a folder holding mnist.npz"):
        load_mnist()


def test_failed_olivetti_download_explains_the_offline_route(monkeypatch):
    import sklearn.datasets

    monkeypatch.delenv("AECOURSE_DATA", raising=False)

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(sklearn.datasets, "fetch_olivetti_faces", offline)
    with pytest.raises(DataError, match="network is unreachable.*olivetti_faces.npz"):
        load_olivetti()


def test_split_by_person_holds_out_the_same_number_of_every_person():
    person = np.repeat(np.arange(40), 10)
    train, test = split_by_person(person, held_out_per_person=2, seed=3)
    assert np.bincount(person[test]).tolist() == [2] * 40
    assert np.bincount(person[train]).tolist() == [8] * 40
    assert not set(train) & set(test) and len(train) + len(test) == 400
    np.testing.assert_array_equal(split_by_person(person, 2, seed=3)[1], test)  # seeded
    with pytest.raises(ValueError, match="Cannot hold out 10 images per person"):
        split_by_person(person, held_out_per_person=10)
