"""Notebook 07's importance-weighted estimate of -log p(x), checked where log p(x) is known exactly.

The model is linear-Gaussian: z ~ N(0, I), x | z ~ N(W z + b, s^2 I), so p(x) = N(b, W W^T + s^2 I). W has
orthogonal columns, which makes the true posterior a diagonal Gaussian that the notebook's encoder
format (a mean and a log-variance per dimension) can represent exactly.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops
from scipy.stats import multivariate_normal

from aecourse import definitions_from

NOTEBOOK_07 = definitions_from("07_measuring_vaes.ipynb")
log_importance_weights = NOTEBOOK_07["log_importance_weights"]
importance_weighted_nats = NOTEBOOK_07["importance_weighted_nats"]

DATA_DIM, LATENT_DIM, NOISE = 5, 2, 0.5
_rng = np.random.default_rng(0)
W = np.linalg.qr(_rng.standard_normal((DATA_DIM, LATENT_DIM)))[0] * np.array([2.0, 0.8])  # orthogonal columns
B = _rng.standard_normal(DATA_DIM)
POSTERIOR_VARIANCE = 1.0 / (1.0 + np.sum(W**2, axis=0) / NOISE**2)  # diagonal, because W^T W is
POSTERIOR_GAIN = (POSTERIOR_VARIANCE[:, None] * W.T) / NOISE**2  # posterior mean = gain @ (x - b)


def dense_model(kernel: np.ndarray, bias: np.ndarray, input_dim: int) -> keras.Model:
    """x -> x @ kernel + bias as a Keras model (no activation)."""
    inputs = keras.Input(shape=(input_dim,))
    layer = keras.layers.Dense(kernel.shape[1])
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights([kernel.astype("float32"), bias.astype("float32")])
    return model


def encoder_with(mean_shift: float = 0.0, variance_scale: float = 1.0) -> keras.Model:
    """An encoder returning the exact posterior, or one shifted and widened by the given amounts."""
    inputs = keras.Input(shape=(DATA_DIM,))
    means = dense_model(POSTERIOR_GAIN.T, -POSTERIOR_GAIN @ B + mean_shift, DATA_DIM)(inputs)
    log_vars = dense_model(np.zeros((DATA_DIM, LATENT_DIM)), np.log(variance_scale * POSTERIOR_VARIANCE),
                           DATA_DIM)(inputs)
    return keras.Model(inputs, [means, log_vars])


DECODER = dense_model(W.T, B, LATENT_DIM)


def gaussian_log_likelihood(images, decoded) -> np.ndarray:
    """log N(x; decoded, NOISE^2 I), one value per row."""
    residuals = np.asarray(images, dtype="float64") - ops.convert_to_numpy(decoded).astype("float64")
    return -0.5 * np.sum(residuals**2 / NOISE**2 + np.log(2 * np.pi * NOISE**2), axis=1)


def exact_nats(images: np.ndarray) -> np.ndarray:
    """-log p(x) of the linear-Gaussian model, in closed form."""
    covariance = W @ W.T + NOISE**2 * np.eye(DATA_DIM)
    return -multivariate_normal(mean=B, cov=covariance).logpdf(images)


IMAGES = (B + _rng.standard_normal((200, DATA_DIM)) * 1.5).astype("float32")


def estimate(encoder: keras.Model, num_samples: int, images: np.ndarray = IMAGES) -> np.ndarray:
    weights = log_importance_weights(encoder, DECODER, images, num_samples=num_samples, seed=1,
                                     log_likelihood=gaussian_log_likelihood)
    assert weights.shape == (len(images), num_samples)
    return importance_weighted_nats(weights)


def test_with_the_true_posterior_every_weight_is_p_of_x():
    for num_samples in (1, 50):
        np.testing.assert_allclose(estimate(encoder_with(), num_samples), exact_nats(IMAGES), atol=2e-4)


def test_with_a_wrong_proposal_the_estimate_tightens_with_k_and_reaches_the_exact_value():
    poor = encoder_with(mean_shift=0.5, variance_scale=2.5)
    exact = exact_nats(IMAGES).mean()
    by_count = {count: estimate(poor, count).mean() for count in (1, 10, 100, 3000)}
    assert by_count[1] > by_count[10] > by_count[100] > by_count[3000] > exact - 0.01  # never past p(x)
    assert by_count[1] - exact > 0.3  # the ELBO's gap is real, so the test can tell the two apart
    assert by_count[3000] == pytest.approx(exact, abs=0.02)


def test_the_k1_bound_is_the_elbo_with_its_kl_gap_in_closed_form():
    shift, scale = 0.5, 2.5
    weights = log_importance_weights(encoder_with(shift, scale), DECODER, IMAGES, num_samples=400, seed=2,
                                     log_likelihood=gaussian_log_likelihood)
    # KL[q || posterior] per image: the same for every image here, since only the mean is shifted
    kl_gap = 0.5 * np.sum(scale - 1 - np.log(scale) + shift**2 / POSTERIOR_VARIANCE)
    error = weights.std() / np.sqrt(weights.size)
    assert -weights.mean() == pytest.approx(exact_nats(IMAGES).mean() + kl_gap, abs=5 * error)


def test_tiny_weights_do_not_underflow():
    log_weights = np.array([[-1000.0, -1000.0], [-2000.0, -2000.0 + np.log(3.0)]])  # exp() would give 0
    np.testing.assert_allclose(importance_weighted_nats(log_weights), [1000.0, 2000.0 - np.log(2.0)])


def test_the_noise_is_seeded():
    first = log_importance_weights(encoder_with(0.5, 2.5), DECODER, IMAGES[:5], num_samples=20, seed=3,
                                   log_likelihood=gaussian_log_likelihood)
    again = log_importance_weights(encoder_with(0.5, 2.5), DECODER, IMAGES[:5], num_samples=20, seed=3,
                                   log_likelihood=gaussian_log_likelihood)
    np.testing.assert_array_equal(first, again)
