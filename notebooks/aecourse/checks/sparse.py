"""Self-checks for the exercises of notebook 10 (sparse autoencoders).

Every check measures the student's function on small data whose answer is known by construction: the
fraction of variance unexplained against its definition, the dead units of codes built with a known number
of them, a refit against least squares on each code's own units. None compares with a number that only one
trained model would give. A wrong answer that students give is recognised and named in the hint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import CheckResult, as_numpy, attempt, failed, passed

FVU_FORMULA = ("FVU = Σ (x − x̂)² / Σ (x − x̄)², both sums over every image and pixel, x̄ the mean image "
               "(the mean over the images, pixel by pixel)")


def _scalar(function: Callable, *args: Any, hint: str) -> tuple[float | None, CheckResult | None]:
    """Call the student's function and take its result as one number, or a failing verdict saying what came back."""
    values, problem = attempt(function, *args)
    if problem is not None:
        return None, problem
    name = getattr(function, "__name__", "your function")
    try:
        array = as_numpy(values)
    except Exception as error:  # whatever the student returned
        return None, failed(f"{name} returned something that is not a number ({error}).", "return one number.")
    if array.size != 1:
        return None, failed(f"{name} returned {array.size} numbers (shape {array.shape}); expected one number.", hint)
    return float(array.reshape(())), None


def _fvu_cases(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Images whose pixels have very different means and spreads, and reconstructions of uneven quality."""
    pixel_means, pixel_spreads = rng.uniform(0.1, 0.9, 30), rng.uniform(0.02, 0.4, 30)
    images = pixel_means + pixel_spreads * rng.standard_normal((60, 30))
    errors = rng.uniform(0.02, 0.3, (60, 1)) * rng.standard_normal((60, 30))
    return {"images": images, "reconstructions": images + errors}


def check_fraction_unexplained(fraction_unexplained: Callable) -> CheckResult:
    """Check fraction_unexplained(images, reconstructions) against its definition, and name the usual mistakes."""
    case = _fvu_cases(np.random.default_rng(0))
    images, reconstructions = case["images"], case["reconstructions"]
    squared_error = np.sum((images - reconstructions) ** 2)
    expected = squared_error / np.sum((images - images.mean(axis=0)) ** 2)
    hint = "one number for all the images together: sum over the images as well as over the pixels."
    value, problem = _scalar(fraction_unexplained, images.astype("float32"), reconstructions.astype("float32"),
                             hint=hint)
    if problem is not None:
        return problem
    mistakes = {
        "the mean squared error itself": np.mean((images - reconstructions) ** 2),
        "one minus the answer, the fraction of variance *explained*": 1 - expected,
        "the squared error over the sum of the squared pixels, Σ x²": squared_error / np.sum(images**2),
        "the squared error over the squared distance to the mean of all pixels together":
            squared_error / np.sum((images - images.mean()) ** 2),
        "the average over the images of each image's own ratio":
            np.mean(np.sum((images - reconstructions) ** 2, axis=1)
                    / np.sum((images - images.mean(axis=0)) ** 2, axis=1)),
        "the average over the pixels of each pixel's own ratio":
            np.mean(np.sum((images - reconstructions) ** 2, axis=0) / np.sum((images - images.mean(axis=0)) ** 2, axis=0)),
    }
    if abs(value - expected) <= 1e-4 * expected:
        perfect, problem = _scalar(fraction_unexplained, images, images.copy(), hint=hint)
        mean_image = np.broadcast_to(images.mean(axis=0), images.shape).copy()
        mean_only, other_problem = _scalar(fraction_unexplained, images, mean_image, hint=hint)
        if problem or other_problem:
            return problem or other_problem
        if abs(perfect) > 1e-6 or abs(mean_only - 1) > 1e-6:
            return failed(f"a perfect copy gives {perfect:.4g} and the mean image {mean_only:.4g}; they should "
                          "give 0 and 1.", FVU_FORMULA + ".")
        return passed(f"fraction_unexplained gives {value:.4f}, as the definition does: 0 for a perfect copy, 1 for "
                      "the mean image.")
    for mistake, wrong in mistakes.items():
        if abs(value - wrong) <= 1e-4 * abs(wrong):
            return failed(f"fraction_unexplained gives {value:.4f}: that is {mistake}; the definition gives "
                          f"{expected:.4f}.", FVU_FORMULA + ".")
    return failed(f"fraction_unexplained gives {value:.4f}; the definition gives {expected:.4f}.", FVU_FORMULA + ".")


def _codes_with_dead_units(rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """ReLU codes of 200 images by 16 units: 3 dead, one that fires on a single image, two empty images."""
    codes = np.maximum(rng.standard_normal((200, 16)) - 1.2, 0.0)
    codes[:, :3] = 0.0  # dead
    codes[:, 3] = 0.0
    codes[17, 3] = 0.8  # fires once: rare, but alive
    codes[:, 4] = rng.uniform(0.1, 2.0, 200)  # fires on every image
    codes[[5, 90]] = 0.0  # two images on which no unit fires
    codes[[5, 90], 4] = 0.0
    return codes, 3


def check_count_dead(count_dead: Callable) -> CheckResult:
    """Check count_dead(codes) on ReLU codes with a known number of dead units, a rare unit and empty images."""
    codes, expected = _codes_with_dead_units(np.random.default_rng(1))
    value, problem = _scalar(count_dead, codes.astype("float32"),
                             hint="a unit is dead if its code is zero on every image: test along the images' axis "
                                  "(axis 0), then count the units for which that holds.")
    if problem is not None:
        return problem
    hints = {
        expected / codes.shape[1]: "that is the share of dead units; return how many there are.",
        expected + 1: "a unit that fires on one image only is rare, but alive: dead means zero on every image.",
        2: "that counts the images on which no unit fires; count the units that fire on no image (axis 0).",
        int(np.sum(np.any(codes == 0, axis=0))): "that counts units that are zero on *some* image; a dead unit is "
                                                  "zero on *every* image.",
        codes.shape[1] - expected: "that counts the live units.",
    }
    if value == expected:
        return passed(f"count_dead finds the {expected} dead units, and keeps the unit that fires once alive.")
    for wrong, hint in hints.items():
        if abs(value - wrong) < 1e-9:
            return failed(f"count_dead gives {value:g}; these codes have {expected} dead units.", hint)
    return failed(f"count_dead gives {value:g}; these codes have {expected} dead units.",
                  "a unit is dead if its code is 0 on every image: np.all(codes <= 0, axis=0), then count.")


def _shrunk_codes(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A small dictionary, images made of a few of its rows, and codes that keep those units but shrink them."""
    units, pixels, count = 12, 40, 25
    dictionary = rng.standard_normal((units, pixels))
    dictionary /= np.linalg.norm(dictionary, axis=1, keepdims=True)
    offset = rng.uniform(0.0, 0.5, pixels)
    true_codes = np.zeros((count, units))
    for row in true_codes:
        row[rng.choice(units, size=4, replace=False)] = rng.uniform(1.0, 3.0, 4)
    images = offset + true_codes @ dictionary + 0.01 * rng.standard_normal((count, pixels))
    shrunk = np.where(true_codes > 0, np.maximum(true_codes - 0.5, 0.05), 0.0)
    return {"dictionary": dictionary, "offset": offset, "images": images, "codes": shrunk}


def _least_squares_on_support(dictionary, offset, images, codes) -> np.ndarray:
    refitted = np.zeros_like(codes)
    for row, (image, code) in enumerate(zip(images, codes)):
        support = np.flatnonzero(code > 0)
        refitted[row, support] = np.linalg.lstsq(dictionary[support].T, image - offset, rcond=None)[0]
    return refitted


def check_refit(refit: Callable) -> CheckResult:
    """Check refit(dictionary, offset, images, codes): least squares on each code's own non-zero units."""
    case = _shrunk_codes(np.random.default_rng(2))
    expected = _least_squares_on_support(**case)
    value, problem = attempt(refit, **{name: array.astype("float32") for name, array in case.items()})
    if problem is not None:
        return problem
    try:
        value = as_numpy(value)
    except Exception as error:
        return failed(f"refit returned something that is not an array ({error}).",
                      "return the refitted codes, an array shaped like codes.")
    if value.shape != case["codes"].shape:
        return failed(f"refit returned shape {value.shape}; expected {case['codes'].shape}, like the codes.",
                      "return one refitted code per image, with a value for every unit (0 off its units).")
    if np.allclose(value, case["codes"], atol=1e-4):
        return failed("refit returned the codes unchanged.",
                      "solve, for each image, min_c ‖x − b − Σ_j c_j d_j‖² over the units j its code switched on.")
    if np.any(np.abs(value[case["codes"] == 0]) > 1e-4):
        return failed("refit gives values to units that the code left at zero.",
                      "keep each image's own units (those with h_j > 0) and refit only their values.")
    without_offset = _least_squares_on_support(case["dictionary"], np.zeros_like(case["offset"]), case["images"],
                                               case["codes"])
    if np.allclose(value, without_offset, atol=1e-3):
        return failed("refit fits the images without their offset b.",
                      "the decoder adds b: fit x − b with the units' patterns, not x.")
    if not np.allclose(value, expected, atol=1e-3):
        error = float(np.abs(value - expected).max())
        return failed(f"refit differs from least squares on each code's units by up to {error:.3g}.",
                      "per image: the rows of D of its active units as columns of a matrix A, then "
                      "np.linalg.lstsq(A, x − b) gives their values.")
    return passed("refit solves least squares on each image's own units, with the offset, and leaves the others at 0.")
