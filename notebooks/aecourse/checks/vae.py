"""Self-checks for the exercises of notebooks 03 (the variational autoencoder), 04 (the convolutional VAE)
and 07 (measuring VAEs).

Every check measures: a KL function against a Monte-Carlo estimate, an error estimate against the spread
of the student's own numbers, a loss against the terms it is made of, a β sweep against the models it
reports on, a parameter count against Keras's count, an encoder against the shapes it produces. None
compares with a number that only one trained model would hit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from . import CheckResult, as_numpy, attempt, failed, passed

KL_FORMULA = "KL = ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1), with σ_j² = exp(z_log_var_j), summed over the last axis"


def _monte_carlo_kl(mean: np.ndarray, log_var: np.ndarray, rng: np.random.Generator,
                    samples: int = 100_000) -> tuple[float, float]:
    """Estimate E_q[log q(z) - log p(z)] for q = N(mean, exp(log_var)), p = N(0, I); return it and its error."""
    sigma = np.exp(0.5 * log_var)
    epsilon = rng.standard_normal((samples, len(mean)))
    z = mean + sigma * epsilon
    log_q = -0.5 * (epsilon**2 + log_var + np.log(2 * np.pi)).sum(axis=1)
    log_p = -0.5 * (z**2 + np.log(2 * np.pi)).sum(axis=1)
    difference = log_q - log_p
    return float(difference.mean()), float(difference.std() / np.sqrt(samples))


def check_gaussian_kl(kl_function: Callable) -> CheckResult:
    """Compare kl_function(z_mean, z_log_var) with Monte-Carlo estimates of KL[N(μ, σ²) || N(0, I)]."""
    rng = np.random.default_rng(0)
    means = rng.normal(0.0, 1.5, size=(5, 3))
    log_vars = rng.uniform(-2.0, 1.5, size=(5, 3))
    means[0], log_vars[0] = 0.0, 0.0  # the prior itself: the KL must be zero
    values, problem = attempt(kl_function, means.astype("float32"), log_vars.astype("float32"))
    if problem is not None:
        return problem
    try:
        values = as_numpy(values)
    except Exception as error:  # whatever the student returned
        return failed(f"gaussian_kl returned something that is not an array of numbers ({error}).",
                      "return a NumPy array (or tensor) with one KL value per row.")
    if values.shape == means.shape:
        return failed(f"gaussian_kl returned shape {values.shape}, one value per latent dimension; "
                      f"expected one value per row, shape {means.shape[:1]}.",
                      "the KL of a diagonal Gaussian is the sum of the per-dimension KLs: sum over axis=-1.")
    if values.shape != means.shape[:1]:
        return failed(f"gaussian_kl returned shape {values.shape} for inputs of shape {means.shape}; "
                      f"expected {means.shape[:1]}, one value per row.", KL_FORMULA + ".")
    if not np.all(np.isfinite(values)):
        return failed(f"gaussian_kl returned non-finite values: {values}.", KL_FORMULA + ".")
    if abs(values[0]) > 1e-4:
        return failed(f"at the prior itself (z_mean = 0, z_log_var = 0) gaussian_kl gives {values[0]:.4g}; "
                      "a KL divergence of a distribution from itself is 0.", KL_FORMULA + ".")
    for row in range(1, len(means)):
        estimate, error = _monte_carlo_kl(means[row], log_vars[row], rng)
        if abs(values[row] - estimate) > 5 * error + 1e-3:
            return failed(f"for z_mean = {np.round(means[row], 2)}, z_log_var = {np.round(log_vars[row], 2)} "
                          f"gaussian_kl gives {values[row]:.4f}, but a Monte-Carlo estimate of "
                          f"E_q[log q(z) − log p(z)] gives {estimate:.4f} ± {error:.4f}.",
                          KL_FORMULA + "; z_log_var is log σ², not σ or log σ.")
    return passed("gaussian_kl matches Monte-Carlo estimates of KL[N(μ, σ²) || N(0, I)] and is zero at the prior.")


def check_monte_carlo_error(neg_elbo_by_seed: np.ndarray, monte_carlo_error: float) -> CheckResult:
    """Check a Monte-Carlo standard error of the mean −ELBO against the spread of the per-image values over seeds."""
    try:
        values = as_numpy(neg_elbo_by_seed)
        error = float(monte_carlo_error)
    except Exception as problem:  # not numbers at all
        return failed(f"could not read the arguments as numbers ({problem}).",
                      "pass an array of shape (seeds, images) and one float.")
    if values.ndim != 2 or values.shape[0] < 3 or values.shape[1] < 100:
        return failed(f"neg_elbo_by_seed has shape {values.shape}; expected (seeds, images) with at least "
                      "3 seeds and 100 images.",
                      "stack vae_nats(...)['neg_elbo'] for each seed into one row: np.stack([...]).")
    for first in range(len(values)):
        for second in range(first + 1, len(values)):
            if np.allclose(values[first], values[second], rtol=0, atol=1e-6):
                return failed(f"rows {first} and {second} of neg_elbo_by_seed are identical: both evaluations "
                              "drew the same posterior noise.",
                              "pass a different seed= to vae_nats for each row.")
    count = values.shape[1]
    expected = float(np.sqrt(np.var(values, axis=0, ddof=1).mean() / count))
    test_set_error = float(np.mean(np.std(values, axis=1, ddof=1)) / np.sqrt(count))
    if not np.isfinite(error) or error <= 0:
        return failed(f"monte_carlo_error is {error}; a standard error is a positive number.",
                      "take each image's variance over the seeds, average it, divide by the number of images, "
                      "take the square root.")
    if 0.2 * expected <= error <= 3 * expected:
        return passed("your Monte-Carlo error agrees with the spread of the per-image −ELBO over the seeds.")
    if 0.5 * test_set_error <= error <= 2 * test_set_error:
        problem = (f"your Monte-Carlo error, {error:.3g} nats, is the standard error over the test digits (how "
                   f"far other digits would move the mean); the seeds move the mean by only about {expected:.3g} nats.")
        return failed(problem, "compare each image with itself across the seeds: np.var(neg_elbo_by_seed, axis=0).")
    if 0.2 * expected * np.sqrt(count) <= error <= 3 * expected * np.sqrt(count):
        return failed(f"your Monte-Carlo error, {error:.3g} nats, is the spread of one image's −ELBO over the "
                      f"seeds; the mean over {count} images moves about √{count} times less ({expected:.3g}).",
                      "divide by the square root of the number of images.")
    return failed(f"your Monte-Carlo error, {error:.3g} nats, does not match the spread of the per-image "
                  f"−ELBO over the seeds, which moves the mean by about {expected:.3g} nats.",
                  "average each image's variance over the seeds, divide by the number of images, take the root.")


def _bernoulli_nats(images: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Binary cross-entropy summed over the pixels of each image, clipped as Keras clips it."""
    probabilities = np.clip(probabilities, 1e-7, 1 - 1e-7)
    pixels = -(images * np.log(probabilities) + (1 - images) * np.log(1 - probabilities))
    return pixels.reshape(len(images), -1).sum(axis=1)


def _tiny_dense_vae_parts(pixels: int, latent: int = 2):
    """A one-layer encoder and decoder with seeded weights (the global random state is left alone)."""
    import keras

    def dense(units: int, seed: int, **kwargs):
        return keras.layers.Dense(units, kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
                                  bias_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=seed + 10),
                                  **kwargs)

    images = keras.Input(shape=(pixels,))
    encoder = keras.Model(images, [dense(latent, 1)(images), dense(latent, 2)(images)])
    codes = keras.Input(shape=(latent,))
    decoder = keras.Model(codes, dense(pixels, 3, activation="sigmoid")(codes))
    return encoder, decoder


def check_mean_convention_loss(vae_class: type) -> CheckResult:
    """Check that vae_class's loss is the pixel-mean cross-entropy plus the unscaled KL term, averaged over images."""
    pixels = 16
    encoder, decoder = _tiny_dense_vae_parts(pixels)
    images = np.random.default_rng(0).random((32, pixels)).astype("float32")
    model, problem = attempt(vae_class, encoder, decoder, seed=0)
    if problem is not None:
        return problem
    outputs, problem = attempt(model, images)
    if problem is not None:
        return problem
    loss, problem = attempt(model.compute_loss, x=images, y=None, y_pred=outputs)
    if problem is not None:
        return problem
    try:
        loss = float(as_numpy(loss))
        reconstruction = as_numpy(outputs["reconstruction"])
        z_mean, z_log_var = as_numpy(outputs["z_mean"]), as_numpy(outputs["z_log_var"])
    except Exception as error:  # a loss that is not one number, or outputs not as the chapter's VAE gives them
        return failed(f"compute_loss must return one number and the model the chapter's outputs ({error}).",
                      "keep call() as it is and return ops.mean(...) of one value per image.")
    summed = _bernoulli_nats(images, reconstruction)
    kl = 0.5 * np.sum(z_mean**2 + np.exp(z_log_var) - z_log_var - 1, axis=1)
    candidates = {"mean": np.mean(summed / pixels + kl), "sum": np.mean(summed + kl),
                  "both divided": np.mean((summed + kl) / pixels)}
    close = {name: bool(np.isclose(loss, value, rtol=2e-3)) for name, value in candidates.items()}
    if close["mean"]:
        return passed("the loss is the pixel-mean cross-entropy plus the KL term, as asked.")
    if close["sum"]:
        return failed("the loss is still the course's convention, the cross-entropy summed over the pixels.",
                      "use keras.losses.binary_crossentropy(x, reconstruction): it averages over the last axis.")
    if close["both divided"]:
        return failed("the loss divides the KL term by the number of pixels too; the exercise keeps it as is.",
                      "add the KL term unscaled to the pixel-mean cross-entropy.")
    return failed(f"the loss is {loss:.4g}; the pixel-mean cross-entropy plus KL gives {candidates['mean']:.4g} "
                  f"on the same outputs.",
                  "return ops.mean(keras.losses.binary_crossentropy(x, y_pred['reconstruction']) + self.beta * kl).")


@lru_cache(maxsize=1)
def _chapter_03() -> dict[str, Any]:
    """Notebook 03's definitions (vae_nats), read once."""
    from ..definitions import definitions_from  # runs the chapter's cells: only when a check needs them
    return definitions_from("03_variational_autoencoder.ipynb")


def _training_steps(model: Any) -> int:
    """How many steps the model's optimizer has taken: 0 for a model never compiled or never fitted."""
    try:
        return int(as_numpy(model.optimizer.iterations))
    except Exception:  # no optimizer (never compiled), or not a Keras model at all
        return 0


def _measured_terms(model: Any, images: np.ndarray) -> dict[str, tuple[float, float]]:
    """Mean −ELBO, reconstruction and KL of the model on the images (the chapter's vae_nats), each with a
    tolerance: five Monte-Carlo errors of the mean (from a second posterior sample), plus rounding."""
    vae_nats = _chapter_03()["vae_nats"]
    first = vae_nats(model.encoder, model.decoder, images)
    second = vae_nats(model.encoder, model.decoder, images, seed=1)
    terms = {}
    for term in ("neg_elbo", "reconstruction", "kl"):
        values, again = as_numpy(first[term]), as_numpy(second[term])
        monte_carlo = float(np.std(again - values) / np.sqrt(2 * len(values)))
        terms[term] = (float(values.mean()), 5 * monte_carlo + 1e-3 * (1 + abs(float(values.mean()))))
    return terms


def check_beta_sweep(sweep: Mapping[float, Mapping[str, float]], models: Mapping[float, Any],
                     images: np.ndarray) -> CheckResult:
    """Check a β sweep {β: {'neg_elbo', 'reconstruction', 'kl'}} against the models {β: VAE} it reports on: each model
    trained with its β, all alike; the numbers measured on the images; KL falling and reconstruction rising with β."""
    try:
        rows = {float(beta): {key: float(np.mean(as_numpy(row[key]))) for key in ("neg_elbo", "reconstruction", "kl")}
                for beta, row in sweep.items()}
        models = {float(beta): model for beta, model in models.items()}
        images = np.asarray(images, dtype="float32")
    except Exception as error:  # a missing key or a value that is not a number
        return failed(f"could not read the sweep ({type(error).__name__}: {error}).",
                      "pass a dict {beta: {'neg_elbo': ..., 'reconstruction': ..., 'kl': ...}} of test means, a dict "
                      "{beta: trained VAE}, and the test images they were measured on.")
    betas = sorted(rows)
    if len(betas) < 3 or betas[0] > 0.5 or betas[-1] < 4:
        return failed(f"the sweep has β = {betas}; it needs at least three values, from 0.5 or less to 4 or more.",
                      "include β = 0.5, 1, 2 and 4.")
    if sorted(models) != betas:
        return failed(f"the sweep reports β = {betas}, but the models are for β = {sorted(models)}.",
                      "pass one trained model per row of the sweep, keyed by the same β.")
    for beta in betas:
        trained_with = getattr(models[beta], "beta", None)
        if trained_with is None or not hasattr(models[beta], "encoder"):
            return failed(f"the row β = {beta:g} of the models holds a {type(models[beta]).__name__}, not a VAE.",
                          "pass the trained models themselves, {beta: VAE(encoder, decoder, beta=beta)}, fitted.")
        if not isinstance(trained_with, (int, float, np.integer, np.floating)) or abs(float(trained_with) - beta) > 1e-9:
            return failed(f"the model in the row β = {beta:g} was trained with β = {trained_with}.",
                          "build each model with its own β, VAE(encoder, decoder, beta=beta), and key the row by it.")
    encoders = [id(getattr(models[beta], "encoder", None)) for beta in betas]
    if len(set(encoders)) < len(betas):
        return failed("some rows share one encoder: each β went on training the same weights.",
                      "build a fresh encoder and decoder for every β, from the same seeded initial weights.")
    steps = {beta: _training_steps(models[beta]) for beta in betas}
    if min(steps.values()) == 0:
        untrained = [beta for beta in betas if steps[beta] == 0]
        return failed(f"the models for β = {untrained} have taken no training step (a fresh or only loaded model).",
                      "train every model of the sweep with the same short settings; the chapter's shipped weights, "
                      "trained far longer, cannot be compared with them.")
    if len(set(steps.values())) > 1:
        return failed("the models were not trained alike: " + ", ".join(f"{steps[beta]} steps for β = {beta:g}"
                                                                        for beta in betas) + ".",
                      "train every β with the same data, epochs and batch size, so that β is the only difference.")
    for beta in betas:
        row = rows[beta]
        if not np.isclose(row["neg_elbo"], row["reconstruction"] + row["kl"], rtol=1e-4, atol=1e-3):
            if np.isclose(row["neg_elbo"], row["reconstruction"] + beta * row["kl"], rtol=1e-4, atol=1e-3):
                return failed(f"for β = {beta:g} the −ELBO given is reconstruction + β·KL, the training loss.",
                              "the −ELBO counts the KL term once, whatever β the model was trained with.")
            return failed(f"for β = {beta:g}: −ELBO {row['neg_elbo']:.2f} is not reconstruction "
                          f"{row['reconstruction']:.2f} + KL {row['kl']:.2f}.",
                          "report the means of vae_nats's 'neg_elbo', 'reconstruction' and 'kl' on the same images.")
    measured = {}
    for beta in betas:
        terms, problem = attempt(_measured_terms, models[beta], images)
        if problem is not None:
            return failed(f"could not measure the model for β = {beta:g} on the images: "
                          f"{problem.message.split(' Hint:')[0]}",
                          "pass the chapter's VAE objects and the flattened test images they were measured on.")
        measured[beta] = terms
        for term, (value, tolerance) in terms.items():
            if abs(rows[beta][term] - value) > tolerance:
                return failed(f"for β = {beta:g} you report {term} {rows[beta][term]:.2f}, but the model measures "
                              f"{value:.2f} on these images.",
                              "report the means of vae_nats(model.encoder, model.decoder, images) on the test images "
                              "you pass here, not on the training images or from the training history.")
    kl = {beta: measured[beta]["kl"][0] for beta in betas}
    for low in betas:
        for high in (beta for beta in betas if beta >= 4 * low):
            if not kl[high] < kl[low]:
                return failed(f"the KL term does not fall from β = {low:g} ({kl[low]:.2f} nats) to β = {high:g} "
                              f"({kl[high]:.2f}), four times heavier.",
                              "train each model with its own β (VAE(..., beta=beta)) and check the labels of the rows.")
    reconstruction = {beta: measured[beta]["reconstruction"][0] for beta in (betas[0], betas[-1])}
    if not reconstruction[betas[-1]] > reconstruction[betas[0]]:
        return failed(f"the reconstruction term does not rise from β = {betas[0]:g} ({reconstruction[betas[0]]:.1f} "
                      f"nats) to β = {betas[-1]:g} ({reconstruction[betas[-1]]:.1f}).",
                      "train every β alike, long enough that β shapes the models (the exercise's short settings do).")
    return passed("each model was trained with its β, all alike; your numbers are what they measure on these images "
                  "(−ELBO = reconstruction + KL); the KL term falls and the reconstruction rises with β.")


def _parameter_free(layer) -> bool:
    return not layer.weights


def check_parameter_count(count_function: Callable) -> CheckResult:
    """Compare count_function(layer) with Keras's count on Dense, Conv2D, Conv2DTranspose and parameter-free layers."""
    import keras
    from keras import layers

    zeros = {"kernel_initializer": "zeros"}  # no random initial values: the global random state is left alone
    images = keras.Input(shape=(9, 9, 3))
    stack = [layers.Conv2D(5, 3, strides=2, padding="same", name="conv_5_filters_3x3", **zeros),
             layers.Conv2D(4, (3, 2), use_bias=False, name="conv_4_filters_3x2_no_bias", **zeros),
             layers.Conv2DTranspose(6, 3, strides=2, name="transposed_6_filters_3x3", **zeros),
             layers.MaxPooling2D(2, name="max_pooling"),
             layers.Flatten(name="flatten"),
             layers.Dense(7, name="dense_7_units", **zeros),
             layers.Dense(3, use_bias=False, name="dense_3_units_no_bias", **zeros)]
    tensor = images
    for layer in stack:
        tensor = layer(tensor)
    model = keras.Model(images, tensor)  # gives every layer its .input
    for layer in model.layers:  # the InputLayer first, as in any functional model
        count, problem = attempt(count_function, layer)
        if problem is not None:
            return problem
        expected = layer.count_params()
        try:
            count = int(count)
        except (TypeError, ValueError):
            return failed(f"for the layer {layer.name} your function returned {count!r}, not a number.",
                          "return an int: the number of weights plus biases.")
        if count != expected:
            if _parameter_free(layer):
                hint = (f"a {type(layer).__name__} layer has no weights: return 0 for layers that are not Dense or "
                        "convolutions (test the type before reading layer.input: an InputLayer has no input shape).")
            elif isinstance(layer, layers.Dense):
                hint = "a Dense layer has inputs × units weights, plus units biases if use_bias."
            else:
                hint = ("a convolution kernel has kernel_height × kernel_width × input_channels × filters weights, "
                        "plus one bias per filter if use_bias; the stride does not change it.")
            shape = "" if isinstance(layer, layers.InputLayer) else f", input shape {tuple(layer.input.shape[1:])}"
            return failed(f"for the layer {layer.name} ({type(layer).__name__}{shape}) you count {count} parameters, "
                          f"Keras counts {expected}.", hint)
    return passed("your parameter counts match Keras's for Dense, Conv2D, Conv2DTranspose and weightless layers.")


def _leaf_layers(model) -> Iterator:
    """The layers of a model in order, descending into nested models (e.g. a Sequential used as one layer)."""
    for layer in model.layers:
        if hasattr(layer, "layers"):
            yield from _leaf_layers(layer)
        else:
            yield layer


def check_encoder_shapes(encoder, channels: Sequence[int], pooling: bool = False, latent_dim: int = 2) -> CheckResult:
    """Run the encoder on a batch of images and check its outputs, channels, downsampling and feature map."""
    from keras import layers

    images = np.zeros((3, 28, 28, 1), dtype="float32")
    outputs, problem = attempt(encoder, images)
    if problem is not None:
        return problem
    if not isinstance(outputs, (list, tuple)) or len(outputs) != 2:
        return failed("the encoder should return two tensors, z_mean and z_log_var.",
                      "keep the chapter's two heads: keras.Model(images, [z_mean, z_log_var]).")
    shapes = [tuple(as_numpy(output).shape) for output in outputs]
    if any(shape != (3, latent_dim) for shape in shapes):
        return failed(f"for 3 images the encoder's outputs have shapes {shapes}; expected (3, {latent_dim}) twice.",
                      "keep the latent size and the Flatten and Dense layers of the chapter.")
    leaves = list(_leaf_layers(encoder))
    convolutions = [layer for layer in leaves if isinstance(layer, layers.Conv2D)]
    filters = [layer.filters for layer in convolutions]
    if filters != list(channels):
        return failed(f"the encoder's convolutions have {filters} filters; expected {list(channels)}.",
                      "change the filters of each Conv2D layer (and only those).")
    strides = [tuple(layer.strides) for layer in convolutions]
    poolings = [layer for layer in leaves if isinstance(layer, layers.MaxPooling2D)]
    if pooling and (any(stride != (1, 1) for stride in strides) or len(poolings) != len(convolutions)):
        return failed(f"with pooling, every convolution should have strides (1, 1) and be followed by a "
                      f"MaxPooling2D; found strides {strides} and {len(poolings)} pooling layers.",
                      "replace Conv2D(..., strides=2) by Conv2D(..., strides=1) followed by MaxPooling2D(2).")
    if not pooling and (any(stride != (2, 2) for stride in strides) or poolings):
        return failed(f"without pooling, every convolution should have strides (2, 2); found strides {strides} "
                      f"and {len(poolings)} pooling layers.",
                      "keep the chapter's strides=2; change only the number of filters.")
    flattens = [layer for layer in leaves if isinstance(layer, layers.Flatten)]
    if len(flattens) != 1:
        return failed(f"the encoder has {len(flattens)} Flatten layers; expected one, before the dense layers.",
                      "keep the chapter's Flatten between the feature map and the dense layers.")
    feature_map = tuple(flattens[0].input.shape[1:])
    if feature_map != (7, 7, channels[-1]):
        return failed(f"the feature map entering Flatten has shape {feature_map}; expected (7, 7, {channels[-1]}).",
                      "two halvings take 28×28 to 7×7: each stage must halve the width and height once.")
    how = "max pooling" if pooling else "strided convolutions"
    return passed(f"the encoder halves 28×28 twice by {how}, with {list(channels)} channels, "
                  f"to a 7×7 map and two {latent_dim}-D outputs.")


IWAE_FORMULA = "−log P(x) ≈ log K − log Σ_k exp(log w_k): subtract the largest log w before exponentiating, add it back after"


def check_importance_weighted_nats(estimate_function: Callable) -> CheckResult:
    """Check an estimate of −log P(x) from log-weights (images, K) against cases whose answer is known."""
    rng = np.random.default_rng(0)
    cases = {  # what the rows are, the log-weights, the answer
        "equal log-weights of −150 (K = 50)": np.full((3, 50), -150.0),
        "log-weights near −2 000 (K = 20)": -2000.0 + rng.normal(0.0, 3.0, size=(4, 20)),
        "log-weights spread over 20 nats (K = 200)": -140.0 + rng.normal(0.0, 5.0, size=(6, 200)),
    }
    for what, log_weights in cases.items():
        largest = log_weights.max(axis=1)
        expected = np.log(log_weights.shape[1]) - largest - np.log(np.exp(log_weights - largest[:, None]).sum(axis=1))
        values, problem = attempt(estimate_function, log_weights.copy())
        if problem is not None:
            return problem
        try:
            values = as_numpy(values)
        except Exception as error:  # whatever the student returned
            return failed(f"the estimate is not an array of numbers ({error}).", "return one value per image (row).")
        if values.shape != expected.shape:
            return failed(f"for {what} of shape {log_weights.shape} the estimate has shape {values.shape}; "
                          f"expected {expected.shape}, one value per image.", "reduce over the samples, axis=1.")
        if not np.all(np.isfinite(values)):
            return failed(f"for {what} the estimate is not finite: exp(−2000) underflows to 0 in floating point.",
                          IWAE_FORMULA + ".")
        if np.allclose(values, -expected, atol=1e-6):
            return failed(f"for {what} the estimate has the wrong sign: it is log P(x), not −log P(x).",
                          "the course reports nats to minimise, as the −ELBO: negate.")
        if np.allclose(values, -log_weights.mean(axis=1), atol=1e-6) and not np.allclose(values, expected, atol=1e-6):
            return failed(f"for {what} the estimate is the mean of −log w: that is the −ELBO, the bound with K = 1.",
                          "average the weights w, not their logarithms: " + IWAE_FORMULA + ".")
        if np.allclose(values + np.log(log_weights.shape[1]), expected, atol=1e-6):
            return failed(f"for {what} the estimate is log K too low: the sum of the weights is K times their mean.",
                          IWAE_FORMULA + ".")
        if not np.allclose(values, expected, atol=1e-6, rtol=0):
            return failed(f"for {what} the estimate is {np.round(values[:3], 3)}…, expected {np.round(expected[:3], 3)}….",
                          IWAE_FORMULA + ".")
    return passed("the estimate is −log of the mean weight for equal, tiny and spread-out log-weights, without underflow.")
