"""tsne_2d: scikit-learn's t-SNE, the same under every OpenBLAS kernel and thread count."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from aecourse.embedding import START_SPREAD, exact_distances, pca_start, tsne_2d
from aecourse.paths import NOTEBOOKS_DIR

from test_same_on_any_cpu import KERNELS, cpu_flags

PROBE = """
import hashlib, numpy as np
from aecourse.embedding import tsne_2d
points = np.random.default_rng(0).random((300, 64)).astype(np.float32)
print(hashlib.sha256(tsne_2d(points, max_iter=250).tobytes()).hexdigest())
"""


def test_distances_are_exact_euclidean_distances():
    points = np.random.default_rng(0).random((20, 5))
    expected = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
    assert np.allclose(exact_distances(points), expected, rtol=1e-14, atol=0)
    assert np.all(np.diag(exact_distances(points)) == 0)


def test_the_start_is_pca_scaled_as_scikit_learn_does_and_rounded():
    points = np.random.default_rng(0).random((200, 10))
    start = pca_start(points)
    assert start.dtype == np.float32 and start.shape == (200, 2)
    assert np.isclose(start[:, 0].std(), START_SPREAD, rtol=1e-3)
    assert np.allclose(start / START_SPREAD, np.round(start / START_SPREAD, 3), atol=1e-6)
    assert np.array_equal(pca_start(points * (1 + 1e-13)), start)  # last-bit changes of the input vanish


@pytest.mark.slow
def test_the_embedding_is_identical_under_other_kernels_and_thread_counts():
    flags = cpu_flags() or set()
    runnable = [kernel for kernel, (needed, _) in KERNELS.items() if needed <= flags]
    if len(runnable) < 2:
        pytest.skip(f"this CPU runs only {runnable} of the OpenBLAS kernels {list(KERNELS)}")
    digests = set()
    for kernel, threads in zip(runnable, (1, 2, 3)):
        environment = dict(os.environ, OPENBLAS_CORETYPE=kernel, OMP_NUM_THREADS=str(threads),
                           PYTHONPATH=str(NOTEBOOKS_DIR))
        run = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=environment,
                             check=True)
        digests.add(run.stdout.strip())
    assert len(digests) == 1, f"t-SNE differs between the kernels {runnable}"


def test_a_change_in_the_sixth_decimal_of_one_number_moves_the_picture():
    """Why exactness matters: t-SNE amplifies the smallest change of its input into another layout."""
    points = np.random.default_rng(0).random((300, 64)).astype(np.float32)
    first, again = tsne_2d(points, max_iter=500), tsne_2d(points, max_iter=500)
    assert np.array_equal(first, again)
    nudged = points.copy()
    nudged[0, 0] += np.float32(1e-6)
    moved = np.abs(tsne_2d(nudged, max_iter=500) - first).max()
    assert moved > 0.1 * np.abs(first).max(), f"the layout moved by only {moved:.3g}"


CODES_PROBE = """
import hashlib, numpy as np
import aecourse, keras
from keras import layers
from aecourse.embedding import predict_exactly
rng = np.random.default_rng(0)
inputs = keras.Input((784,))
model = keras.Model(inputs, layers.Dense(32)(layers.Dense(256, activation="relu")(inputs)))
model.set_weights([rng.normal(0, 0.05, w.shape).astype("float32") for w in model.get_weights()])
pixels = rng.random((500, 784), dtype=np.float32)
print(hashlib.sha256(np.asarray(model.predict(pixels, verbose=0)).tobytes()).hexdigest(),
      hashlib.sha256(predict_exactly(model, pixels).tobytes()).hexdigest())
"""


def test_exact_codes_are_the_float32_codes_to_their_last_bits():
    import keras
    from keras import layers

    from aecourse.embedding import predict_exactly

    rng = np.random.default_rng(1)
    inputs = keras.Input((64,))
    model = keras.Model(inputs, layers.Dense(8)(layers.Dense(32, activation="relu")(inputs)))
    pixels = rng.random((100, 64), dtype=np.float32)
    exact = predict_exactly(model, pixels)
    assert exact.dtype == np.float32 and exact.shape == (100, 8)
    assert np.allclose(exact, np.asarray(model.predict(pixels, verbose=0)), rtol=1e-5, atol=1e-6)
    assert model.dtype_policy.name == "float32"  # the model itself is left as it was


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
                    reason="oneDNN's choice of kernels is TensorFlow's")
def test_exact_codes_are_the_same_whatever_kernels_onednn_picks():
    """float32 codes change with the instruction set oneDNN uses (as between an AVX2 and an AVX-512 CPU);
    predict_exactly's do not."""
    flags = cpu_flags() or set()
    if "avx2" not in flags:
        pytest.skip("this CPU lacks AVX2: oneDNN has only one kind of kernel to pick")
    runs = set()
    for isa in ("AVX2", "AVX"):
        environment = dict(os.environ, ONEDNN_MAX_CPU_ISA=isa, PYTHONPATH=str(NOTEBOOKS_DIR))
        run = subprocess.run([sys.executable, "-c", CODES_PROBE], capture_output=True, text=True,
                             env=environment, check=True)
        runs.add(tuple(run.stdout.split()))
    float32_digests, exact_digests = zip(*runs)
    assert len(set(float32_digests)) == 2, "the probe should show float32 codes changing with the kernels"
    assert len(set(exact_digests)) == 1, "predict_exactly's codes changed with oneDNN's kernels"


def _faces_with_mirrors(seed: int) -> np.ndarray:
    """Random 8×8 'faces' followed by their left-right mirror images, as chapter 05's training set is built."""
    faces = np.random.default_rng(seed).random((60, 8, 8))
    return np.concatenate([faces, faces[:, :, ::-1]]).reshape(120, 64)


def test_pca_panels_point_the_same_way_when_rounding_could_tip_scikit_learns_sign():
    from sklearn.decomposition import PCA

    from aecourse.embedding import pca_2d

    points = _faces_with_mirrors(0)
    reference = pca_2d(points)
    assert np.allclose(np.abs(reference), np.abs(PCA(n_components=2, svd_solver="full").fit_transform(points)))
    signs_by_scikit_learn = set()
    for nudge in range(1, 9):  # last-bit changes, as another CPU's rounding makes them
        nudged = points * (1 + nudge * 1e-15)
        assert np.allclose(pca_2d(nudged), reference, atol=1e-9)
        component = PCA(n_components=2, svd_solver="full").fit(nudged).components_[1]
        signs_by_scikit_learn.add(bool(np.sign(component @ np.arange(64)) > 0))
    assert signs_by_scikit_learn == {True, False}, "the probe should show scikit-learn's sign tipping"
