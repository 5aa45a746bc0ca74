"""t-SNE pictures that come out the same on every machine: exact distances, a fixed start, one thread.

scikit-learn's TSNE is a thousand small steps, and it amplifies a difference in the last bit of its input
into a visibly different picture. Three things put such differences in: distances computed through BLAS
(whose kernel, chosen per CPU, rounds differently), the PCA that places the starting points (also BLAS), and
OpenMP threads adding forces in another order. tsne_2d() removes all three and is otherwise scikit-learn's
TSNE with its usual settings.

A network's codes carry such differences too: a float32 forward pass adds its products in an order set by the
CPU's vector width (oneDNN picks AVX2 or AVX-512 kernels at run time), so two CPUs give codes that differ in
their last bits, and t-SNE makes them a different picture. predict_exactly() computes the codes in float64,
where those differences are 10^9 times smaller than float32's rounding step, and rounds them to float32.
"""

from __future__ import annotations

import contextlib

import numpy as np
from scipy.spatial.distance import pdist, squareform
from threadpoolctl import threadpool_limits

START_DECIMALS = 3  # the start is rounded to 1/1000 of PC1's spread, far above any BLAS rounding difference
START_SPREAD = 1e-4  # scikit-learn's spread of PC1 in its own PCA start (its issue #18018)


def exact_distances(points: np.ndarray) -> np.ndarray:
    """Euclidean distances between all rows, summed in one fixed order in float64 (SciPy's pdist, no BLAS)."""
    flat = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    return squareform(pdist(flat, "euclidean"))


def pca_start(points: np.ndarray, n_components: int = 2) -> np.ndarray:
    """scikit-learn's PCA start for t-SNE, rounded so that the BLAS kernel's last bits cannot move it."""
    from sklearn.decomposition import PCA  # imported here: the helper package stays light to import

    flat = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    # A full SVD in float64: ARPACK or a randomized SVD would be faster, but they stop their iterations at a
    # point that depends on the BLAS kernel, further from the exact answer than the rounding below can absorb.
    start = PCA(n_components=n_components, svd_solver="full").fit_transform(flat)
    start = np.round(start / start[:, 0].std(), START_DECIMALS)
    return (start * START_SPREAD).astype(np.float32)


def predict_exactly(model, inputs: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """model's outputs for inputs, computed in float64 and rounded to float32: the same bits on every CPU.

    On TensorFlow and JAX. Keras's PyTorch backend (3.15) multiplies float64 matrices in float32, so there
    the outputs are float32's, as exact as predict()'s.
    """
    import keras  # imported here: the helper package stays light to import

    def in_float64(layer):
        config = layer.get_config()
        config["dtype"] = "float64"
        return layer.__class__.from_config(config)

    # JAX computes in float32 whatever the layers ask, unless told otherwise
    if keras.backend.backend() == "jax":
        import jax
        in_64_bits = jax.enable_x64(True)
    else:
        in_64_bits = contextlib.nullcontext()
    with in_64_bits:
        twin = keras.models.clone_model(model, clone_function=in_float64)
        twin.set_weights(model.get_weights())
        outputs = twin.predict(np.asarray(inputs, dtype=np.float64), batch_size=batch_size, verbose=0)
    return np.asarray(outputs).astype(np.float32)


def pca_2d(points: np.ndarray) -> np.ndarray:
    """The rows of points on their first two principal components, each pointing the same way on every CPU.

    scikit-learn signs a component so that its largest entry is positive. Faces that come with their mirror
    images have a left-right component whose entries come in pairs equal in size and opposite in sign, so
    the last bit of rounding picks the sign, and another CPU draws the picture upside down. Here each
    component is signed to point towards one fixed random direction instead, which no rounding can tip.
    """
    from sklearn.decomposition import PCA

    flat = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    pca = PCA(n_components=2, svd_solver="full").fit(flat)
    reference = np.random.default_rng(0).standard_normal(flat.shape[1])
    pca.components_ *= np.sign(pca.components_ @ reference)[:, None]
    return pca.transform(flat)


def tsne_2d(points: np.ndarray, *, perplexity: float = 30.0, max_iter: int = 1000) -> np.ndarray:
    """A 2-D t-SNE embedding of the rows of points, identical under every BLAS kernel and thread count.

    Nothing in it is random: the start is PCA's, so the points alone decide the picture.
    """
    from sklearn.manifold import TSNE

    tsne = TSNE(n_components=2, perplexity=perplexity, max_iter=max_iter, metric="precomputed",
                init=pca_start(points))
    with threadpool_limits(1):  # its Barnes-Hut sums over threads would otherwise depend on the thread count
        return tsne.fit_transform(exact_distances(points))
