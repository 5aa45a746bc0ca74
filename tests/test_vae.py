"""Notebook 03's VAE: the closed-form KL against Monte Carlo, the loss convention, and the Sampling layer."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy.stats import norm

from aecourse import definitions_from

# The VAE is defined in notebook 03's cells; these tests run that code, as notebooks 04, 05 and 07 do.
NOTEBOOK_03 = definitions_from("03_variational_autoencoder.ipynb")
VAE, Sampling = NOTEBOOK_03["VAE"], NOTEBOOK_03["Sampling"]
kl_divergence, reconstruction_nats = NOTEBOOK_03["kl_divergence"], NOTEBOOK_03["reconstruction_nats"]


@pytest.mark.parametrize("mean, log_var", [([0.0, 0.0], [0.0, 0.0]), ([1.5, -0.5], [-1.0, 0.7]),
                                           ([-3.0, 0.2], [-4.0, 1.5])])
def test_closed_form_kl_matches_a_monte_carlo_estimate(mean, log_var):
    mean, log_var = np.array(mean), np.array(log_var)
    closed_form = float(kl_divergence(mean[None], log_var[None])[0])
    rng = np.random.default_rng(0)
    sigma = np.exp(0.5 * log_var)
    z = mean + sigma * rng.standard_normal((400_000, 2))
    log_q = norm.logpdf(z, loc=mean, scale=sigma).sum(axis=1)
    log_p = norm.logpdf(z).sum(axis=1)
    estimate, error = np.mean(log_q - log_p), np.std(log_q - log_p) / np.sqrt(len(z))
    assert closed_form == pytest.approx(estimate, abs=5 * error + 1e-9)
    assert closed_form >= 0.0


def test_kl_is_zero_only_at_the_prior():
    assert float(kl_divergence(np.zeros((1, 2)), np.zeros((1, 2)))[0]) == 0.0
    assert float(kl_divergence(np.full((1, 2), 0.1), np.zeros((1, 2)))[0]) == pytest.approx(0.01)


def test_reconstruction_is_binary_cross_entropy_summed_over_pixels():
    images = np.array([[[0.0, 1.0], [1.0, 0.0]]], dtype="float32")  # one 2x2 image
    probabilities = np.full_like(images, 0.25)
    expected = -(2 * np.log(0.75) + 2 * np.log(0.25))
    assert float(reconstruction_nats(images, probabilities)[0]) == pytest.approx(expected, rel=1e-5)


def test_sampling_is_seeded_and_follows_mean_and_variance():
    mean = np.full((20_000, 2), [1.0, -2.0], dtype="float32")
    log_var = np.full((20_000, 2), [0.0, np.log(0.25)], dtype="float32")
    first = np.asarray(Sampling(seed=3)([mean, log_var]))
    again = np.asarray(Sampling(seed=3)([mean, log_var]))
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(first.mean(axis=0), [1.0, -2.0], atol=0.03)
    np.testing.assert_allclose(first.std(axis=0), [1.0, 0.5], atol=0.03)


def test_vae_reports_the_terms_and_weights_kl_by_beta():
    images = np.random.default_rng(0).random((64, 6)).astype("float32")
    inputs = keras.Input((6,))
    encoder = keras.Model(inputs, [keras.layers.Dense(2)(inputs), keras.layers.Dense(2)(inputs)])
    codes = keras.Input((2,))
    decoder = keras.Model(codes, keras.layers.Dense(6, activation="sigmoid")(codes))
    vae = VAE(encoder, decoder, beta=2.0, seed=1)
    vae.compile(optimizer="adam")
    scores = vae.evaluate(images, verbose=0, return_dict=True, batch_size=64)
    assert scores["neg_elbo"] == pytest.approx(scores["reconstruction"] + scores["kl"], rel=1e-5)
    assert scores["loss"] == pytest.approx(scores["reconstruction"] + 2.0 * scores["kl"], rel=1e-5)


@pytest.fixture(scope="module")
def measures() -> dict:
    """Notebook 03's measurement of a VAE, the one definition that 03, 04 and 05 use."""
    return NOTEBOOK_03


def _tiny_vae(pixels: int = 6) -> tuple[keras.Model, keras.Model]:
    inputs = keras.Input((pixels,))
    encoder = keras.Model(inputs, [keras.layers.Dense(2)(inputs), keras.layers.Dense(2)(inputs)])
    codes = keras.Input((2,))
    return encoder, keras.Model(codes, keras.layers.Dense(pixels, activation="sigmoid")(codes))


def test_vae_nats_draws_its_noise_from_numpy_not_from_the_backend(measures):
    images = np.random.default_rng(0).random((50, 6)).astype("float32")
    encoder, decoder = _tiny_vae()
    keras.utils.set_random_seed(1)
    first = measures["vae_nats"](encoder, decoder, images)
    keras.utils.set_random_seed(2)  # another backend random stream changes nothing
    again = measures["vae_nats"](encoder, decoder, images)
    for term in ("neg_elbo", "reconstruction", "kl"):
        np.testing.assert_array_equal(first[term], again[term])
    other_seed = measures["vae_nats"](encoder, decoder, images, seed=measures["EVALUATION_SEED"] + 1)
    assert not np.array_equal(first["reconstruction"], other_seed["reconstruction"])
    np.testing.assert_allclose(first["neg_elbo"], first["reconstruction"] + first["kl"], rtol=1e-6)


def test_vae_nats_is_the_elbo_of_the_sampled_codes(measures):
    images = np.random.default_rng(0).random((8, 6)).astype("float32")
    encoder, decoder = _tiny_vae()
    nats = measures["vae_nats"](encoder, decoder, images)
    z_mean, z_log_var = (np.asarray(part) for part in encoder(images))
    epsilon = np.random.default_rng(measures["EVALUATION_SEED"]).standard_normal(z_mean.shape)
    probabilities = np.asarray(decoder(z_mean + np.exp(0.5 * z_log_var) * epsilon))
    by_hand = -np.sum(images * np.log(probabilities) + (1 - images) * np.log(1 - probabilities), axis=1)
    np.testing.assert_allclose(nats["reconstruction"], by_hand, rtol=1e-4)
    np.testing.assert_allclose(nats["kl"], np.asarray(kl_divergence(z_mean, z_log_var)), rtol=1e-5)


def test_no_decoder_beats_the_entropy_floor(measures):
    images = np.random.default_rng(0).random((20, 30)).astype("float32")
    floor = measures["entropy_floor_nats"](images)
    entropy = -(images * np.log(images) + (1 - images) * np.log(1 - images)).sum(axis=1).mean()
    assert floor == pytest.approx(entropy, rel=1e-4)
    for guess in (np.full_like(images, 0.5), np.clip(images + 0.05, 0, 1), np.random.default_rng(1).random(images.shape)):
        assert float(np.mean(reconstruction_nats(images, guess.astype("float32")))) > floor


def test_mean_and_error_is_the_standard_error_of_the_mean(measures):
    values = np.array([1.0, 2.0, 3.0, 4.0])
    mean, error = measures["mean_and_error"](values)
    assert mean == 2.5 and error == pytest.approx(np.std(values, ddof=1) / 2)
