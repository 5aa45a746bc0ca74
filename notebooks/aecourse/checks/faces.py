"""Self-checks for the exercises of notebook 05 (autoencoders on the Olivetti faces).

Each check measures the student's answer: it recounts, recomputes or looks inside the model, and never
compares with a number that only the reference solution would reach.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

import numpy as np

from . import CheckResult, attempt, failed, passed

CONSTANT_BELOW = 0.01  # notebook 05, section 6: a code unit is constant when its spread is below this
ROUNDING = 0.0051  # an accuracy rounded to two decimals still counts as the same number


@lru_cache(maxsize=1)
def _chapter() -> dict[str, Any]:
    """Notebook 05's definitions (code_spread), read once."""
    from ..definitions import definitions_from
    return definitions_from("05_faces_autoencoders.ipynb")


def _code_layer(model: Any) -> tuple[Any, CheckResult | None]:
    """The model's layer named "code", or a failing verdict saying that it has none."""
    try:
        return model.get_layer("code"), None
    except (ValueError, AttributeError):
        return None, failed("the model has no layer named \"code\".",
                            "keep the chapter's layer names: build it from make_deep_autoencoder() or "
                            "make_shallow_autoencoder().")


def _codes(model: Any, faces: np.ndarray) -> np.ndarray:
    """The values of the model's code layer for the faces, one row per face."""
    import keras
    encoder = keras.Model(model.input, model.get_layer("code").output)
    codes = np.asarray(encoder.predict(faces.reshape(-1, *model.input_shape[1:]), verbose=0))
    return codes.reshape(len(faces), -1)


def check_constant_code_units(model: Any, faces: np.ndarray, count: int) -> CheckResult:
    """The model has a ReLU code and `count` is the number of its constant code units on the faces."""
    _, problem = _code_layer(model)
    if problem is not None:
        return problem
    faces = np.asarray(faces, dtype="float32")
    codes, problem = attempt(_codes, model, faces)
    if problem is not None:
        return problem
    if codes.min() < -1e-6:
        return failed(f"the code takes negative values (down to {codes.min():.3g}), so it has no ReLU.",
                      "give the code layer activation=\"relu\", e.g. by cloning the deep model with "
                      "keras.models.clone_model and a clone_function that changes that layer's config.")
    reconstructions, problem = attempt(lambda: np.asarray(model.predict(faces, verbose=0)).reshape(faces.shape))
    if problem is not None:
        return problem
    mse = float(np.mean((reconstructions - faces) ** 2))
    mean_face = float(np.mean((faces - faces.mean(axis=0)) ** 2))
    if not mse < 0.9 * mean_face:
        return failed(f"the model's error on these faces ({mse:.4f} per pixel) is no better than the mean face's "
                      f"({mean_face:.4f}): it has not been trained, and an untrained code says nothing about training.",
                      "train the model with fit (the exercise's epochs, or a few for a quick look) before counting.")
    spread = _chapter()["code_spread"](model, faces)
    recount = int(np.sum(spread < CONSTANT_BELOW))
    if isinstance(count, bool) or not isinstance(count, (int, float, np.integer, np.floating)) or count != recount:
        return failed(f"you counted {count} constant code units; code_spread finds {recount} of {spread.size} "
                      f"with a standard deviation below {CONSTANT_BELOW} over these {len(faces)} faces.",
                      f"count the units whose spread is below {CONSTANT_BELOW}: "
                      f"int(np.sum(code_spread(model, faces) < {CONSTANT_BELOW})), on the same faces.")
    return passed("the code is a ReLU code, and your count of its constant units agrees with code_spread.")


def _is_integer_shift(face: np.ndarray, original: np.ndarray, largest: int) -> bool:
    """Whether the face's interior is the original's interior moved by whole pixels, at most `largest`."""
    margin = largest + 1
    inner = face[margin:-margin, margin:-margin]
    height, width = face.shape
    return any(np.allclose(inner, original[margin + dy:height - margin + dy, margin + dx:width - margin + dx],
                           atol=1e-6)
               for dy in range(-largest, largest + 1) for dx in range(-largest, largest + 1))


def check_augmented_batches(batches: Any, faces: np.ndarray) -> CheckResult:
    """The first batch is an (input, target) pair of the same faces, in range, rotated or scaled beyond shifts."""
    faces = np.asarray(faces)
    try:
        batch = batches[0]
    except Exception as error:  # any fault in the student's dataset becomes feedback, not a traceback
        return failed(f"asking for the first batch, batches[0], raised {type(error).__name__}: {error}.",
                      "build the dataset on a few faces and look at what __getitem__(0) returns.")
    if not (isinstance(batch, tuple) and len(batch) == 2):
        return failed(f"batches[0] gives a {type(batch).__name__}, not an (input, target) pair.",
                      "return `batch, batch` from __getitem__, as ShiftedFaces does.")
    inputs, targets = (np.asarray(part) for part in batch)
    if inputs.shape != targets.shape or not np.array_equal(inputs, targets):
        return failed("the input and target of a batch differ.",
                      "an autoencoder reconstructs its input: transform once, return `batch, batch`.")
    if inputs.ndim != faces.ndim or inputs.shape[1:] != faces.shape[1:] or len(inputs) == 0:
        return failed(f"a batch has shape {inputs.shape}, the faces {faces.shape}.",
                      "keep every face's shape; transform each face, then stack them.")
    if not np.all(np.isfinite(inputs)) or inputs.min() < -1e-6 or inputs.max() > 1 + 1e-6:
        return failed(f"the augmented pixels range from {np.nanmin(inputs):.3g} to {np.nanmax(inputs):.3g}, "
                      "outside [0, 1].",
                      "interpolate linearly (order=1) or clip: the sigmoid output cannot reach other values.")
    flat_inputs, flat_faces = inputs.reshape(len(inputs), -1), faces.reshape(len(faces), -1)
    distances = ((flat_inputs ** 2).sum(1)[:, None] - 2 * flat_inputs @ flat_faces.T
                 + (flat_faces ** 2).sum(1)[None]) / flat_faces.shape[1]
    nearest = distances.argmin(axis=1)
    pairs = flat_faces[:min(len(faces), 64)]
    between_faces = np.median(np.mean((pairs[:, None] - pairs[None]) ** 2, axis=2)[np.triu_indices(len(pairs), 1)])
    unlike = int(np.sum(distances.min(axis=1) > 0.5 * between_faces))
    if unlike:
        return failed(f"{unlike} of the {len(inputs)} augmented faces are further from every original than half "
                      "the typical distance between two different faces.",
                      "keep the transformations small (a few degrees, a few per cent) and apply them to the "
                      "faces themselves.")
    images = inputs.reshape(len(inputs), *faces.shape[1:3])
    originals = faces.reshape(len(faces), *faces.shape[1:3])
    only_shifted = sum(_is_integer_shift(image, originals[index], largest=3) for image, index in zip(images, nearest))
    if only_shifted > len(inputs) // 2:
        return failed(f"{only_shifted} of the {len(inputs)} faces are the originals moved by whole pixels: no "
                      "rotation or scaling.",
                      "after the shift, rotate and scale each face, e.g. with scipy.ndimage.affine_transform "
                      "and a matrix drawn afresh for every face.")
    return passed("batches are (input, target) pairs of the same faces, in [0, 1], rotated or scaled, "
                  "still recognisably the originals.")


def check_tied_decoder(model: Any, faces: np.ndarray) -> CheckResult:
    """The decoder applies the transpose of the code layer's kernel, and the model beats the mean face."""
    faces = np.asarray(faces)
    code_layer, problem = _code_layer(model)
    if problem is not None:
        return problem
    kernel = np.asarray(getattr(code_layer, "kernel", np.zeros(0)))
    if kernel.ndim != 2:
        return failed("the code layer has no 2-D kernel.", "make the code a Dense layer, as in the chapter.")
    outputs, problem = attempt(lambda: (_codes(model, faces),
                                        np.asarray(model.predict(faces.reshape(-1, *model.input_shape[1:]),
                                                                 verbose=0)).reshape(len(faces), -1)))
    if problem is not None:
        return problem
    codes, reconstructions = outputs
    projected = codes @ kernel.T  # what a decoder with the transposed kernel adds to every face, before its bias
    variation = np.sqrt(np.mean((projected - projected.mean(axis=0)) ** 2))
    usable = (reconstructions > 1e-4) & (reconstructions < 1 - 1e-4)  # where the sigmoid can be inverted
    clipped = np.clip(reconstructions, 1e-4, 1 - 1e-4)
    residuals = []
    for before_output, where in ((np.log(clipped / (1 - clipped)), usable),  # a sigmoid output
                                 (reconstructions, np.ones_like(usable))):  # a linear output
        rest = np.where(where, before_output - projected, np.nan)  # the output bias, if the decoder is tied
        with warnings.catch_warnings():  # a pixel saturated in every face leaves an all-NaN column
            warnings.simplefilter("ignore", RuntimeWarning)
            spread = np.sqrt(np.nanmean((rest - np.nanmedian(rest, axis=0)) ** 2))
        residuals.append(float(spread / max(variation, 1e-12)))
    if variation < 1e-9 or min(residuals) > 1e-3:
        return failed(f"the reconstructions are not the code times the transposed code kernel plus a bias "
                      f"(what remains varies by {min(residuals):.2g} of that product's own variation).",
                      "decode with ops.matmul(code, ops.transpose(code_layer.kernel)) plus a bias of its own, "
                      "in a layer that keeps no kernel of its own.")
    mse = float(np.mean((reconstructions - faces.reshape(len(faces), -1)) ** 2))
    mean_face = float(np.mean((faces - faces.mean(axis=0)) ** 2))
    if mse >= mean_face:
        return failed(f"the decoder is tied, but its error ({mse:.4f} per pixel) is no better than the mean "
                      f"face's ({mean_face:.4f}).",
                      "train the model before checking it; a few epochs with Adam are enough to beat the mean.")
    return passed("the decoder uses the transpose of the encoder's kernel, and it reconstructs better "
                  "than the mean face.")


def check_identity_accuracy(predicted_person: Any, accuracy: float, person_test: np.ndarray) -> CheckResult:
    """`accuracy` is the share of `predicted_person` that match the test faces' persons, well above chance."""
    predicted, truth = np.asarray(predicted_person).ravel(), np.asarray(person_test).ravel()
    if not isinstance(accuracy, (int, float, np.integer, np.floating)) or isinstance(accuracy, bool):
        return failed(f"the accuracy {accuracy!r} is not a number.",
                      "give it as a fraction, e.g. float(np.mean(predictions == person_test)).")
    if predicted.shape != truth.shape:
        return failed(f"you have {predicted.size} predictions for {truth.size} test faces.",
                      "predict the person of every test face: classifier.predict(test_features).")
    recomputed = float(np.mean(predicted == truth))
    if not np.isfinite(accuracy) or not 0 <= accuracy <= 1:
        return failed(f"the accuracy {accuracy!r} is not a fraction between 0 and 1.",
                      "give it as a fraction, e.g. np.mean(predictions == person_test).")
    if abs(accuracy - recomputed) > ROUNDING:
        return failed(f"you report an accuracy of {accuracy:.3f}, but your predictions match the test faces' "
                      f"persons for {recomputed:.3f} of them.",
                      "measure on the test faces, not the training faces: np.mean(predictions == person_test).")
    chance = 1 / len(np.unique(truth))
    if recomputed < 2 * chance:
        return failed(f"the accuracy, {recomputed:.3f}, is hardly above chance ({chance:.3f}).",
                      "train on the training codes with the training persons, predict from the test codes of "
                      "the same encoder, and standardise the features first.")
    return passed("your accuracy is what your predictions give on the test faces, well above chance.")
