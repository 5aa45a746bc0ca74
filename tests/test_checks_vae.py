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


def _kl_of_the_prior_from_q(mean, log_var):  # KL[N(0, I) || q]: the two arguments of the divergence swapped
    return 0.5 * np.sum((1 + mean**2) / np.exp(log_var) + log_var - 1, axis=-1)


def _kl_with_the_wrong_sign(mean, log_var):  # the ELBO's term as written, -KL
    return -0.5 * np.sum(mean**2 + np.exp(log_var) - log_var - 1, axis=-1)


def _kl_summed_over_everything(mean, log_var):  # one number for the batch
    return 0.5 * np.sum(mean**2 + np.exp(log_var) - log_var - 1)


@pytest.mark.parametrize("wrong", [_kl_without_half, _kl_per_dimension, _kl_reading_log_sigma,
                                   _kl_averaged_over_dimensions, _kl_that_raises, _kl_of_the_prior_from_q,
                                   _kl_with_the_wrong_sign, _kl_summed_over_everything])
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


def test_a_loss_summed_over_the_batch_fails(exercises_03):
    class SummedOverImages(exercises_03["VAE"]):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            import keras
            mean_reconstruction = keras.losses.binary_crossentropy(x, y_pred["reconstruction"])
            kl = exercises_03["kl_divergence"](y_pred["z_mean"], y_pred["z_log_var"])
            return ops.sum(mean_reconstruction + self.beta * kl)  # a sum over the images, not their mean

    assert_fails(check_mean_convention_loss(SummedOverImages))


def test_a_class_that_cannot_be_built_fails():
    class Broken:
        def __init__(self, *args, **kwargs):
            raise TypeError("missing argument")

    assert_fails(check_mean_convention_loss(Broken))


# ---------------------------------------------------------------- check_beta_sweep

SWEEP_KL = {0.5: 5.3, 1.0: 3.1, 2.0: 2.6, 4.0: 1.2}  # nats: about what the exercise's short training gives
SWEEP_WORSE = {0.5: 0.0, 1.0: 0.2, 2.0: 0.1, 4.0: 0.6}  # how far each decoder's logits sit from the best ones


def stand_in_vae(vae_class: type, images: np.ndarray, beta: float, kl: float, worse: float, seed: int,
                 steps: int = 126, trained_with: float | None = None):
    """A VAE whose terms are set by construction: its KL term is `kl` on the images (a linear encoder, unit
    variances), and its decoder draws every image as the pixel means pushed `worse` off in logits."""
    import keras

    pixels = images.shape[1]
    directions = np.random.default_rng(seed).standard_normal((pixels, 2))
    scale = np.sqrt(2 * kl / np.mean(np.sum((images @ directions) ** 2, axis=1)))
    image_in = keras.Input(shape=(pixels,))
    z_mean, z_log_var = keras.layers.Dense(2, name="z_mean"), keras.layers.Dense(2, name="z_log_var")
    encoder = keras.Model(image_in, [z_mean(image_in), z_log_var(image_in)])
    z_mean.set_weights([directions * scale, np.zeros(2)])
    z_log_var.set_weights([np.zeros((pixels, 2)), np.zeros(2)])
    code_in = keras.Input(shape=(2,))
    pixels_out = keras.layers.Dense(pixels, activation="sigmoid")
    decoder = keras.Model(code_in, pixels_out(code_in))
    means = np.clip(images.mean(axis=0), 0.05, 0.95)
    pixels_out.set_weights([np.zeros((2, pixels)), np.log(means / (1 - means)) + worse])
    model = vae_class(encoder, decoder, beta=beta if trained_with is None else trained_with, seed=seed)
    model.build((None, pixels))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3))
    model.optimizer.iterations.assign(steps)  # as if fit had taken that many steps
    return model


@pytest.fixture(scope="module")
def sweep_images() -> np.ndarray:
    return (np.random.default_rng(5).random((400, 24)) < np.linspace(0.1, 0.6, 24)).astype("float32")


def sweep_of(models: dict, images: np.ndarray, vae_nats) -> dict:
    """What the exercise reports: the mean of each term of vae_nats on the images, per β."""
    return {beta: {term: float(np.mean(values)) for term, values in vae_nats(model.encoder, model.decoder, images).items()}
            for beta, model in models.items()}


@pytest.fixture(params=[0, 1], ids=["seed 0", "seed 1"])
def trained_sweep(request, exercises_03, sweep_images) -> tuple[dict, dict]:
    """A right answer: models trained alike with their own β, and their measured means."""
    models = {beta: stand_in_vae(exercises_03["VAE"], sweep_images, beta, kl + 0.3 * request.param,
                                 SWEEP_WORSE[beta], seed=10 * request.param + index)
              for index, (beta, kl) in enumerate(SWEEP_KL.items())}
    return sweep_of(models, sweep_images, exercises_03["vae_nats"]), models


def test_a_right_sweep_passes(trained_sweep, sweep_images):
    sweep, models = trained_sweep
    result = check_beta_sweep(sweep, models, sweep_images)
    assert result, result.message


def test_a_kl_term_that_wobbles_between_neighbouring_betas_passes(exercises_03, sweep_images):
    """Another seed moves β = 1's KL by more than the step to β = 2: KL need only fall over fourfold steps."""
    wobbly = {**SWEEP_KL, 1.0: 2.4, 2.0: 2.8}
    models = {beta: stand_in_vae(exercises_03["VAE"], sweep_images, beta, kl, SWEEP_WORSE[beta], seed=index)
              for index, (beta, kl) in enumerate(wobbly.items())}
    result = check_beta_sweep(sweep_of(models, sweep_images, exercises_03["vae_nats"]), models, sweep_images)
    assert result, result.message


def test_models_all_trained_with_beta_1_fail(exercises_03, sweep_images):
    """beta= forgotten: every row's model is trained with β = 1, whatever its label."""
    models = {beta: stand_in_vae(exercises_03["VAE"], sweep_images, beta, kl, SWEEP_WORSE[beta], seed=index,
                                 trained_with=1.0) for index, (beta, kl) in enumerate(SWEEP_KL.items())}
    result = check_beta_sweep(sweep_of(models, sweep_images, exercises_03["vae_nats"]), models, sweep_images)
    assert_fails(result)
    assert "trained with β = 1" in result.message


def test_rows_labelled_with_each_others_beta_fail(trained_sweep, sweep_images):
    sweep, models = trained_sweep
    swapped_models = {**models, 0.5: models[2.0], 2.0: models[0.5]}
    swapped_numbers = {**sweep, 0.5: sweep[2.0], 2.0: sweep[0.5]}
    assert_fails(check_beta_sweep(swapped_numbers, swapped_models, sweep_images))  # models and numbers
    assert_fails(check_beta_sweep(swapped_numbers, models, sweep_images))  # the numbers only


def test_an_untrained_or_unevenly_trained_model_fails(exercises_03, trained_sweep, sweep_images):
    sweep, models = trained_sweep
    fresh = stand_in_vae(exercises_03["VAE"], sweep_images, 4.0, SWEEP_KL[4.0], SWEEP_WORSE[4.0], seed=3, steps=0)
    result = check_beta_sweep(sweep_of({**models, 4.0: fresh}, sweep_images, exercises_03["vae_nats"]),
                              {**models, 4.0: fresh}, sweep_images)
    assert_fails(result)
    assert "no training step" in result.message
    longer = stand_in_vae(exercises_03["VAE"], sweep_images, 4.0, SWEEP_KL[4.0], SWEEP_WORSE[4.0], seed=3, steps=5000)
    result = check_beta_sweep(sweep_of({**models, 4.0: longer}, sweep_images, exercises_03["vae_nats"]),
                              {**models, 4.0: longer}, sweep_images)  # e.g. a shipped model fine-tuned, among short runs
    assert_fails(result)
    assert "not trained alike" in result.message


def test_one_encoder_shared_by_every_beta_fails(exercises_03, trained_sweep, sweep_images):
    sweep, models = trained_sweep
    shared = {beta: exercises_03["VAE"](models[1.0].encoder, models[1.0].decoder, beta=beta) for beta in models}
    for model in shared.values():
        model.compile(optimizer="adam")
        model.optimizer.iterations.assign(126)
    assert_fails(check_beta_sweep(sweep_of(shared, sweep_images, exercises_03["vae_nats"]), shared, sweep_images))


def test_reporting_the_training_loss_fails(trained_sweep, sweep_images):
    sweep, models = trained_sweep
    sweep[4.0]["neg_elbo"] = sweep[4.0]["reconstruction"] + 4.0 * sweep[4.0]["kl"]
    result = check_beta_sweep(sweep, models, sweep_images)
    assert_fails(result)
    assert "training loss" in result.message


def test_numbers_measured_on_other_images_fail(exercises_03, trained_sweep, sweep_images):
    """The sweep measured on the training images (or another subset), checked against the test images."""
    sweep, models = trained_sweep
    other = (np.random.default_rng(6).random(sweep_images.shape) < np.linspace(0.1, 0.6, 24)).astype("float32")
    result = check_beta_sweep(sweep_of(models, other, exercises_03["vae_nats"]), models, sweep_images)
    assert_fails(result)
    assert "measures" in result.message


def test_a_kl_term_that_rises_with_beta_fails(exercises_03, sweep_images):
    rising = dict(zip(SWEEP_KL, sorted(SWEEP_KL.values())))
    models = {beta: stand_in_vae(exercises_03["VAE"], sweep_images, beta, kl, SWEEP_WORSE[beta], seed=index)
              for index, (beta, kl) in enumerate(rising.items())}
    result = check_beta_sweep(sweep_of(models, sweep_images, exercises_03["vae_nats"]), models, sweep_images)
    assert_fails(result)
    assert "does not fall" in result.message


def test_a_sweep_without_both_ends_or_terms_fails(trained_sweep, sweep_images):
    sweep, models = trained_sweep
    assert_fails(check_beta_sweep({beta: row for beta, row in sweep.items() if beta >= 1}, models, sweep_images))
    assert_fails(check_beta_sweep({beta: row for beta, row in sweep.items() if beta < 4}, models, sweep_images))
    del sweep[1.0]["kl"]
    assert_fails(check_beta_sweep(sweep, models, sweep_images))


def test_models_that_are_not_vaes_give_a_message(trained_sweep, sweep_images):
    sweep, models = trained_sweep
    assert_fails(check_beta_sweep(sweep, sweep, sweep_images))  # the numbers where the models belong
    assert_fails(check_beta_sweep(sweep, models, sweep_images[:, :10]))  # images the encoder cannot take


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
