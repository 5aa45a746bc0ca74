"""Self-checks for notebook 06's exercises: noise levels, corruptions, and a denoiser against the filters.

Each check measures the student's answer (draws it many times, or runs it on images whose every pixel is
known) instead of comparing it with one expected number.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from . import CheckResult, attempt, failed, passed

@lru_cache(maxsize=1)
def _chapter() -> dict[str, Any]:
    """Notebook 06's definitions: its PSNR and its two filters with their widths (one definition of each)."""
    from ..definitions import definitions_from  # runs the chapter's cells: only when a check needs them

    return definitions_from("06_denoising.ipynb")


def _best_filters(noisy: np.ndarray, clean: np.ndarray) -> dict[str, tuple[float, float]]:
    """For each filter, the PSNR at its best width on these images, and that width."""
    chapter = _chapter()
    filters = {"Gaussian blur": (chapter["gaussian_blur"], chapter["GAUSSIAN_WIDTHS"]),
               "median filter": (chapter["median_filter"], chapter["MEDIAN_SIZES"])}
    best = {}
    for name, (apply, widths) in filters.items():
        scores = {width: chapter["psnr"](apply(noisy, width), clean) for width in widths}
        width = max(scores, key=scores.get)
        best[name] = (scores[width], width)
    return best


def _span(found: np.ndarray) -> np.ndarray:
    """For each image, how many rows (or columns) lie from the first to the last one flagged, both included."""
    return found.shape[1] - np.argmax(found[:, ::-1], axis=1) - np.argmax(found, axis=1)


def check_beats_filters(clean: np.ndarray, noisy: np.ndarray, denoised: np.ndarray) -> CheckResult:
    """Is the denoised images' PSNR above both the Gaussian blur's and the median filter's, each at its best width?"""
    try:
        clean, noisy = np.asarray(clean, dtype="float64"), np.asarray(noisy, dtype="float64")
        denoised = np.asarray(denoised, dtype="float64")
    except (TypeError, ValueError) as error:
        return failed(f"the arguments cannot be read as arrays ({error}).",
                      "pass NumPy arrays: clean, noisy and denoised images (model.predict returns one).")
    if clean.ndim != 4 or noisy.shape != clean.shape:
        return failed(f"clean has shape {clean.shape} and noisy {noisy.shape}; expected the same shape "
                      "(count, height, width, channels).",
                      "pass the clean test images and the noisy versions you gave the denoiser.")
    if denoised.size != clean.size:
        return failed(f"denoised has shape {denoised.shape}, clean {clean.shape}.",
                      "pass the denoiser's output for exactly the noisy images given.")
    denoised = denoised.reshape(clean.shape)
    if not np.isfinite(denoised).all():
        return failed("the denoised images contain NaN or infinite values.",
                      "look at the training loss: a model that diverged outputs NaN.")
    if np.allclose(noisy, clean):
        return failed("the noisy images are the clean ones: there is nothing to compare.",
                      "pass the corrupted images as the second argument.")
    score = _chapter()["psnr"](denoised, clean)
    for name, (best, width) in _best_filters(noisy, clean).items():
        if score <= best:
            return failed(f"the denoised images score {score:.2f} dB PSNR, the {name} (at width {width}) "
                          f"{best:.2f} dB.",
                          "a denoiser has to beat a tuned filter to be worth training: train it longer, or "
                          "on noise like the one in these images.")
    return passed("the denoised images beat the Gaussian blur and the median filter, each at its best width, in PSNR.")


LOW_NOISE, HIGH_NOISE = 0.1, 0.8  # exercise 1: the ends of the chapter's noise levels, the second outside 0.1-0.7


def _psnr_at(model: Any, clean: np.ndarray, noise_factor: float) -> float:
    """The model's PSNR on the clean images corrupted with the chapter's noise at one level (a fixed draw)."""
    noisy = _chapter()["add_noise"](clean, noise_factor, np.random.default_rng(0))
    denoised = np.asarray(model.predict(noisy, batch_size=500, verbose=0), dtype="float64").reshape(clean.shape)
    if not np.isfinite(denoised).all():
        raise ValueError("the model outputs NaN or infinite values")
    return float(_chapter()["psnr"](denoised, clean))


def check_flatter_psnr_curve(range_model: Any, fixed_model: Any, clean: np.ndarray) -> CheckResult:
    """Exercise 1: against a model trained at one noise factor, is the range-trained model's PSNR curve flatter?

    Both models denoise the same draws of the chapter's noise at factors 0.1 and 0.8. The range model must beat
    the better filter at both, lose less from 0.1 to 0.8 than the fixed-noise model, lead it at 0.8 and stay
    close to it at 0.1 (its range includes low noise).
    """
    try:
        clean = np.asarray(clean, dtype="float32")
    except (TypeError, ValueError) as error:
        return failed(f"the clean images cannot be read as an array ({error}).",
                      "pass the clean test digits, shaped (count, 28, 28, 1).")
    if clean.ndim != 4 or len(clean) < 100:
        return failed(f"the clean images have shape {clean.shape}; expected at least 100 of them, shaped "
                      "(count, height, width, channels).", "pass the clean test digits, e.g. x_test[:500].")
    scores = {}
    for name, model in (("your range model", range_model), ("the fixed-noise model", fixed_model)):
        for level in (LOW_NOISE, HIGH_NOISE):
            scores[name, level], problem = attempt(_psnr_at, model, clean, level)
            if problem is not None:
                return failed(f"could not run {name} on noisy images: {problem.message.split(' Hint:')[0]}",
                              "pass two trained Keras denoisers (the range model first) and the clean test images.")
    filters = {}
    for level in (LOW_NOISE, HIGH_NOISE):
        noisy = _chapter()["add_noise"](clean, level, np.random.default_rng(0))
        filters[level] = max(best for best, _ in _best_filters(noisy, clean).values())
    for name in ("your range model", "the fixed-noise model"):
        if scores[name, LOW_NOISE] <= filters[LOW_NOISE]:
            return failed(f"at noise factor {LOW_NOISE} {name} scores {scores[name, LOW_NOISE]:.1f} dB PSNR, no better "
                          f"than the best filter ({filters[LOW_NOISE]:.1f} dB): it has not learnt to denoise.",
                          "train the model first; for the reference, the chapter's denoiser trained at 0.4 or "
                          "your fine-tuned copy of it.")
    if scores["your range model", HIGH_NOISE] <= filters[HIGH_NOISE]:
        return failed(f"at noise factor {HIGH_NOISE} your range model scores {scores['your range model', HIGH_NOISE]:.1f} "
                      f"dB PSNR, no better than the best filter ({filters[HIGH_NOISE]:.1f} dB), although it should "
                      "have seen noise almost that strong.",
                      "draw a new noise factor for every image, uniformly between 0.1 and 0.7, not one for all.")
    drop = {name: scores[name, LOW_NOISE] - scores[name, HIGH_NOISE] for name in ("your range model",
                                                                                     "the fixed-noise model")}
    lead_high = scores["your range model", HIGH_NOISE] - scores["the fixed-noise model", HIGH_NOISE]
    lead_low = scores["your range model", LOW_NOISE] - scores["the fixed-noise model", LOW_NOISE]
    if drop["your range model"] > drop["the fixed-noise model"] - 1.0 or lead_high < 0.5:
        return failed(f"from noise factor {LOW_NOISE} to {HIGH_NOISE} your model loses {drop['your range model']:.1f} "
                      f"dB, the fixed-noise model {drop['the fixed-noise model']:.1f} dB; at {HIGH_NOISE} yours leads "
                      f"by {lead_high:+.1f} dB. A model trained on a range of noise should lose at least 1 dB less.",
                      "draw a new noise factor for every image (shape (count, 1, 1, 1)), uniformly between 0.1 and "
                      "0.7, and train on those noisy images; is the model you pass the one you trained?")
    if lead_low < -1.0:
        return failed(f"at noise factor {LOW_NOISE} your model is {-lead_low:.1f} dB behind the fixed-noise model: a "
                      "model that saw the whole range 0.1 to 0.7 should stay within about a decibel there.",
                      "draw each image's factor over the whole range 0.1 to 0.7, not only from its high end.")
    return passed(f"flatter: from noise factor {LOW_NOISE} to {HIGH_NOISE} your model loses at least 1 dB less than "
                  "the fixed-noise model, leads it at the high end, stays close at the low end, and beats the filters.")


def check_noise_factor_sampler(sampler: Callable) -> CheckResult:
    """Does sampler(count, low, high, rng) draw count noise factors uniformly between low and high from rng?"""
    for count, low, high in ((20_000, 0.1, 0.7), (5_000, 0.0, 0.25)):
        values, problem = attempt(sampler, count, low, high, np.random.default_rng(0))
        if problem is not None:
            return problem
        values = np.asarray(values, dtype="float64").reshape(-1)
        if values.size != count:
            return failed(f"sampler({count}, {low}, {high}, rng) returned {values.size} values instead of {count}.",
                          "one noise factor per image: return an array of `count` numbers.")
        if not np.isfinite(values).all() or values.min() < low or values.max() > high:
            return failed(f"sampler({count}, {low}, {high}, rng) returned values from {values.min():.3f} to "
                          f"{values.max():.3f}, outside [{low}, {high}].",
                          "draw between low and high only, for instance with rng.uniform.")
        tenths = np.histogram(values, bins=10, range=(low, high))[0]
        expected = count / 10
        if np.abs(tenths - expected).max() > 6 * np.sqrt(expected):  # far beyond a uniform draw's scatter
            return failed(f"the values are not spread evenly over [{low}, {high}]: each tenth of the range "
                          f"should hold about {expected:.0f} of {count}, they hold {tenths.min()} to {tenths.max()}.",
                          "every noise factor in the range should be equally likely: a uniform draw.")
    first, problem = attempt(sampler, 100, 0.1, 0.7, np.random.default_rng(1))
    second, _ = attempt(sampler, 100, 0.1, 0.7, np.random.default_rng(2))
    if problem is not None or second is None or np.allclose(np.asarray(first, dtype="float64"),
                                                            np.asarray(second, dtype="float64")):
        return failed("two different generators gave the same noise factors.",
                      "draw from the generator passed as rng, not from np.random or a generator of your own.")
    return passed("noise factors: one per image, uniform over the range, drawn from the generator given.")


def _applied_to_a_copy(function: Callable, images: np.ndarray,
                       *args: Any) -> tuple[np.ndarray | None, CheckResult | None]:
    """Run the student's corruption on a copy of the images; a fault, a changed input or shape is a verdict."""
    given = images.copy()
    result, problem = attempt(function, given, *args, np.random.default_rng(0))
    if problem is not None:
        return None, problem
    if not np.array_equal(given, images):
        return None, failed("your function changed the images it was given.", "work on a copy: images.copy().")
    result = np.asarray(result, dtype="float64")
    if result.shape != images.shape:
        return None, failed(f"images of shape {images.shape} came back with shape {result.shape}.",
                            "return the corrupted images in the shape they came in.")
    return result, None


def check_salt_and_pepper(corrupt: Callable) -> CheckResult:
    """Does corrupt(images, fraction, rng) set that fraction of pixels, chosen at random, to 0 or 1 (half each)?"""
    images = np.full((200, 28, 28, 1), 0.5, dtype="float32")  # grey: every changed pixel shows
    for fraction in (0.0, 0.05, 0.3):
        corrupted, problem = _applied_to_a_copy(corrupt, images, fraction)
        if problem is not None:
            return problem
        changed = corrupted != 0.5
        values = corrupted[changed]
        neither = ~np.isin(values, (0.0, 1.0))
        if neither.any():
            return failed(f"with fraction {fraction}, {neither.mean():.0%} of the changed pixels are neither 0 nor 1 "
                          f"(for example {values[neither][0]:.3f}).",
                          "salt-and-pepper noise sets a pixel to exactly 0 (pepper) or 1 (salt), nothing in between.")
        patterns = changed.reshape(len(images), -1)
        if fraction > 0 and (patterns == patterns[0]).all(axis=1).mean() > 0.5:
            return failed("most images have the same pixels replaced.",
                          "draw a fresh choice for every pixel of every image: one random array of the images' shape.")
        share = changed.mean()
        if abs(share - fraction) > 5 * np.sqrt(fraction * (1 - fraction) / changed.size) + 1e-3:
            return failed(f"with fraction {fraction}, {share:.2%} of the pixels changed.",
                          "replace each pixel with probability `fraction` and leave the others as they are.")
        if fraction > 0 and not 0.4 < (values == 1.0).mean() < 0.6:
            return failed(f"{(values == 1.0).mean():.0%} of the changed pixels are salt (1), the rest pepper (0).",
                          "choose 0 or 1 with equal chance for each pixel you replace.")
    return passed("salt and pepper: the right share of pixels set to 0 or 1, half each, a fresh pattern per image, "
                  "the input left as it was.")


def check_block_mask(mask_block: Callable) -> CheckResult:
    """Does mask_block(images, size, rng) zero one size x size block per image, placed at random inside it?"""
    images = np.full((400, 28, 20, 1), 0.5, dtype="float32")  # not square: rows and columns cannot be swapped
    for size in (8, 5):
        masked, problem = _applied_to_a_copy(mask_block, images, size)
        if problem is not None:
            return problem
        zero = (masked == 0.0).all(axis=-1)  # (count, height, width): the masked pixels
        if not zero.any():
            return failed(f"with size {size}, no pixel was set to 0.",
                          "set the block's pixels to 0: image[top:top + size, left:left + size] = 0.0.")
        if not np.all(masked[~zero] == 0.5):
            return failed("pixels outside the masked block changed.",
                          "set the block's pixels to 0 and leave every other pixel as it was.")
        area = zero.sum(axis=(1, 2))
        rows, columns = zero.any(axis=2), zero.any(axis=1)
        square = (_span(rows) == size) & (_span(columns) == size) & (area == size * size)
        if not square.all():
            example = int(np.argmin(square))
            return failed(f"with size {size}, {np.sum(~square)} of {len(images)} images do not have exactly one "
                          f"{size}x{size} block of zeros (image {example}: {area[example]} zero pixels in "
                          f"{rows[example].sum()} rows and {columns[example].sum()} columns).",
                          "choose the block's top-left corner so that the whole block lies inside the image: "
                          "top from 0 to height - size, left from 0 to width - size.")
        for axis, name, found, last in (("top", "rows", rows, images.shape[1] - size),
                                        ("left", "columns", columns, images.shape[2] - size)):
            edges = np.argmax(found, axis=1)
            if edges.min() > 0 or edges.max() < last or len(np.unique(edges)) < 0.8 * (last + 1):
                return failed(f"with size {size}, the blocks' {axis} edges take {len(np.unique(edges))} of the "
                              f"{last + 1} possible positions, from {edges.min()} to {edges.max()}.",
                              f"draw each image's block position uniformly over the whole image ({axis} edge 0 to "
                              f"{last} here), a new one for every image.")
    first, problem = attempt(mask_block, images[:50], 8, np.random.default_rng(1))
    second, _ = attempt(mask_block, images[:50], 8, np.random.default_rng(2))
    if problem is not None or second is None or np.array_equal(np.asarray(first), np.asarray(second)):
        return failed("two different generators placed the blocks in the same places.",
                      "draw the positions from the generator passed as rng.")
    return passed("block mask: one size x size block of zeros per image, anywhere inside it, the rest untouched.")
