"""The self-checks of the exercises of notebooks 03, 04 and 07: reference answers pass, wrong ones fail with a hint.

The reference answers that are functions come from the exercise notebooks themselves (their cells tagged
`definitions`); answers that need training are replaced by stand-ins that are right or wrong by construction.
"""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from aecourse import definitions_from
from aecourse.checks.vae import (check_beta_sweep, check_encoder_shapes, check_gaussian_kl,
                                 check_importance_weighted_nats, check_mean_convention_loss, check_monte_carlo_error,
                                 check_parameter_count)
from verdicts import assert_fails


@pytest.fixture(scope="module")
def exercises_03() -> dict:
    return definitions_from("exercises/03_exercises.ipynb")


@pytest.fixture(scope="module")
def exercises_04() -> dict:
    return definitions_from("exercises/04_exercises.ipynb")



# ---------------------------------------------------------------- check_gaussian_kl

def test_the_reference_kl_and_the_chapters_pass(exercises_03):
    assert check_gaussian_kl(exercises_03["gaussian_kl"])
    assert check_gaussian_kl(exercises_03["kl_divergence"])  # the chapter's, returning a backend tensor


def _kl_without_half(mean, log_var):
    return np.sum(mean**2 + np.exp(log_var) - log_var - 1, axis=-1)


def _kl_per_dimension(mean, log_var):
    return 0.5 * (mean**2 + np.exp(log_var) - log_var - 1)


def _kl_reading_log_sigma(mean, log_var):
    return 0.5 * np.sum(mean**2 + np.exp(2 * log_var) - 2 * log_var - 1, axis=-1)


def _kl_averaged_over_dimensions(mean, log_var):
    return 0.5 * np.mean(mean**2 + np.exp(log_var) - log_var - 1, axis=-1)


def _kl_that_raises(mean, log_var):
    raise ValueError("not written yet")


@pytest.mark.parametrize("wrong", [_kl_without_half, _kl_per_dimension, _kl_reading_log_sigma,
                                   _kl_averaged_over_dimensions, _kl_that_raises])
def test_wrong_kl_functions_fail(wrong):
    assert_fails(check_gaussian_kl(wrong))


# ---------------------------------------------------------------- check_monte_carlo_error

@pytest.fixture
def per_seed_values() -> np.ndarray:
    """Stand-in for vae_nats over 3 seeds: a fixed value per image plus independent noise per evaluation."""
    rng = np.random.default_rng(1)
    return rng.normal(140, 40, 2000) + rng.normal(0, 2.5, (3, 2000))


def test_the_reference_monte_carlo_error_passes(exercises_03, per_seed_values):
    error = exercises_03["monte_carlo_standard_error"](per_seed_values)
    assert error == pytest.approx(2.5 / np.sqrt(2000), rel=0.1)
    assert check_monte_carlo_error(per_seed_values, error)
    assert check_monte_carlo_error(per_seed_values, np.std(per_seed_values.mean(axis=1), ddof=1))  # the direct estimate


def test_the_error_over_the_test_digits_fails(per_seed_values):
    test_error = np.std(per_seed_values[0], ddof=1) / np.sqrt(per_seed_values.shape[1])
    result = check_monte_carlo_error(per_seed_values, test_error)
    assert_fails(result)
    assert "test digits" in result.message


def test_an_error_not_divided_by_the_square_root_of_the_count_fails(per_seed_values):
    result = check_monte_carlo_error(per_seed_values, np.sqrt(np.var(per_seed_values, axis=0, ddof=1).mean()))
    assert_fails(result)
    assert "square root" in result.message


def test_evaluations_with_the_same_seed_fail(per_seed_values):
    repeated = np.stack([per_seed_values[0]] * 3)
    assert_fails(check_monte_carlo_error(repeated, 0.05))


def test_too_few_seeds_fail(per_seed_values):
    assert_fails(check_monte_carlo_error(per_seed_values[:2], 0.05))


# ---------------------------------------------------------------- check_mean_convention_loss

def test_the_reference_mean_convention_vae_passes(exercises_03):
    assert check_mean_convention_loss(exercises_03["MeanConventionVAE"])


def test_the_chapters_summed_loss_fails(exercises_03):
    result = check_mean_convention_loss(exercises_03["VAE"])
    assert_fails(result)
    assert "summed" in result.message


def test_dividing_the_kl_term_too_fails(exercises_03):
    class EverythingDivided(exercises_03["VAE"]):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            return super().compute_loss(x, y, y_pred, sample_weight, training) / x.shape[-1]

    result = check_mean_convention_loss(EverythingDivided)
    assert_fails(result)
    assert "KL term" in result.message


def test_a_class_that_cannot_be_built_fails():
    class Broken:
        def __init__(self, *args, **kwargs):
            raise TypeError("missing argument")

    assert_fails(check_mean_convention_loss(Broken))


# ---------------------------------------------------------------- check_beta_sweep

@pytest.fixture
def sweep() -> dict:
    """A consistent sweep: KL falls and reconstruction rises with β."""
    terms = {0.5: (175.0, 5.3), 1.0: (178.0, 3.6), 2.0: (180.0, 2.6), 4.0: (187.0, 1.2)}
    return {beta: {"neg_elbo": reconstruction + kl, "reconstruction": reconstruction, "kl": kl}
            for beta, (reconstruction, kl) in terms.items()}


def test_a_consistent_sweep_passes(sweep):
    assert check_beta_sweep(sweep)


def test_reporting_the_training_loss_fails(sweep):
    sweep[4.0]["neg_elbo"] = sweep[4.0]["reconstruction"] + 4.0 * sweep[4.0]["kl"]
    result = check_beta_sweep(sweep)
    assert_fails(result)
    assert "training loss" in result.message


def test_a_kl_term_that_does_not_fall_fails(sweep):
    sweep[0.5], sweep[2.0] = sweep[2.0], sweep[0.5]  # two rows labelled with each other's β
    assert_fails(check_beta_sweep(sweep))


def test_a_sweep_on_one_side_of_one_fails(sweep):
    assert_fails(check_beta_sweep({beta: row for beta, row in sweep.items() if beta >= 1}))


def test_a_sweep_with_missing_terms_fails(sweep):
    del sweep[1.0]["kl"]
    assert_fails(check_beta_sweep(sweep))


# ---------------------------------------------------------------- check_parameter_count

def test_the_reference_parameter_count_passes(exercises_04):
    assert check_parameter_count(exercises_04["count_parameters"])


def _count_without_biases(layer) -> int:
    return int(np.prod(layer.weights[0].shape)) if layer.weights else 0


def _count_ignoring_input_channels(layer) -> int:
    if hasattr(layer, "kernel_size"):
        height, width = layer.kernel_size
        return height * width * layer.filters + layer.filters * layer.use_bias
    return layer.count_params()


def _count_that_fails_on_flatten(layer) -> int:
    return layer.units * layer.input.shape[-1] + layer.units if hasattr(layer, "units") else layer.filters * 9


@pytest.mark.parametrize("wrong", [_count_without_biases, _count_ignoring_input_channels,
                                   _count_that_fails_on_flatten])
def test_wrong_parameter_counts_fail(wrong):
    assert_fails(check_parameter_count(wrong))


# ---------------------------------------------------------------- check_encoder_shapes

def test_the_reference_wider_and_pooled_encoders_pass(exercises_04):
    make_encoder = exercises_04["make_conv_encoder"]
    assert check_encoder_shapes(exercises_04["with_channels"](make_encoder(), 2), channels=(32, 64))
    assert check_encoder_shapes(exercises_04["with_pooling"](make_encoder()), channels=(16, 32), pooling=True)
    assert check_encoder_shapes(make_encoder(), channels=(16, 32))  # the chapter's own


def test_the_chapters_encoder_is_not_wider_nor_pooled(exercises_04):
    chapter = exercises_04["make_conv_encoder"]()
    assert_fails(check_encoder_shapes(chapter, channels=(32, 64)))
    assert_fails(check_encoder_shapes(chapter, channels=(16, 32), pooling=True))


def test_pooling_after_a_strided_convolution_fails(exercises_04):
    from keras import layers

    def strided_then_pooled(layer):  # a common slip: pooling added, stride kept, so the map shrinks to 2x2
        config = layer.get_config()
        if isinstance(layer, layers.Conv2D):
            return exercises_04["keras"].Sequential([layers.Conv2D.from_config(config), layers.MaxPooling2D(2)])
        return layer.__class__.from_config(config)

    encoder = exercises_04["keras"].models.clone_model(exercises_04["make_conv_encoder"](),
                                                       clone_function=strided_then_pooled)
    assert_fails(check_encoder_shapes(encoder, channels=(16, 32), pooling=True))


def test_an_encoder_with_one_output_fails(exercises_04):
    keras = exercises_04["keras"]
    encoder = exercises_04["make_conv_encoder"]()
    single = keras.Model(encoder.input, ops.concatenate(encoder.outputs, axis=-1))
    assert_fails(check_encoder_shapes(single, channels=(16, 32)))


# ---------------------------------------------------------------- check_importance_weighted_nats

@pytest.fixture(scope="module")
def exercises_07() -> dict:
    return definitions_from("exercises/07_exercises.ipynb")


def test_the_reference_estimate_passes(exercises_07):
    assert check_importance_weighted_nats(exercises_07["my_importance_weighted_nats"])


def _logsumexp_rows(log_weights):
    largest = log_weights.max(axis=1, keepdims=True)
    return largest[:, 0] + np.log(np.exp(log_weights - largest).sum(axis=1))


@pytest.mark.parametrize("wrong", [
    lambda w: -np.log(np.mean(np.exp(w), axis=1)),  # naive: underflows for the faces' log-weights
    lambda w: -w.mean(axis=1),  # the -ELBO: the mean of the logs
    lambda w: -_logsumexp_rows(w),  # the sum of the weights, not their mean: log K too low
    lambda w: _logsumexp_rows(w) - np.log(w.shape[1]),  # log P(x), the wrong sign
    lambda w: np.log(w.shape[0]) - _logsumexp_rows(w.T),  # over the images instead of the samples
    lambda w: np.log(w.shape[1]) - w.max(axis=1),  # only the largest weight
    lambda w: 1 / 0,  # a function that raises
], ids=["naive exp", "ELBO", "forgot log K", "sign", "wrong axis", "largest only", "raises"])
def test_wrong_estimates_fail_with_a_hint(wrong):
    assert_fails(check_importance_weighted_nats(wrong))
