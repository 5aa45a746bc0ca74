"""Self-checks for the exercises of notebook 09 (discrete codes): how a codebook is used, and the bits of a prior.

Every check runs the student's function on grids of codes and on logits built here, whose answers are known
in closed form, never on a number that only one trained model would give.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import CheckResult, as_numpy, attempt, failed, passed

PERPLEXITY_FORMULA = ("pool every cell of every grid, p_k = count_k / number of cells, perplexity = exp(−Σ p_k ln p_k) "
                      "over the codes with p_k > 0")
BITS_FORMULA = ("log-softmax over the codes (the last axis) with the largest logit subtracted first, take each cell's "
                "own code, sum over the cells of a grid, divide by ln 2")


def _usage_cases() -> dict[str, tuple[np.ndarray, int, int, float]]:
    """Grids of codes whose usage is known: (grids, num_codes, codes used, perplexity)."""
    rng = np.random.default_rng(0)
    uneven = rng.choice(16, size=(200, 7, 7), p=np.arange(1, 17) / np.arange(1, 17).sum())
    counts = np.bincount(uneven.ravel(), minlength=64)
    shares = counts[counts > 0] / counts.sum()
    one_code_per_grid = np.repeat(np.arange(32), 7 * 7).reshape(32, 7, 7)  # every grid one code, 32 codes in all
    return {
        "one code everywhere": (np.full((10, 7, 7), 5), 64, 1, 1.0),
        "all 64 codes equally often": (np.arange(64 * 49).reshape(64, 7, 7) % 64, 64, 64, 64.0),
        "16 of 64 codes, unequally often": (uneven, 64, 16, float(np.exp(-np.sum(shares * np.log(shares))))),
        "one code per grid, 32 codes in all": (one_code_per_grid, 64, 32, 32.0),
    }


def check_code_usage(usage_function: Callable) -> CheckResult:
    """Check usage_function(grids, num_codes) -> (codes used, perplexity) on grids whose usage is known."""
    for what, (grids, num_codes, used, perplexity) in _usage_cases().items():
        answer, problem = attempt(usage_function, grids.copy(), num_codes)
        if problem is not None:
            return problem
        try:
            given_used, given_perplexity = (float(as_numpy(value)) for value in answer)
        except Exception as error:  # not a pair of numbers
            return failed(f"for {what} the function returned {answer!r}, not a pair of numbers ({error}).",
                          "return (codes used, perplexity), e.g. `return used, perplexity`.")
        if given_used != used:
            hint = ("count the codes chosen at least once: np.sum(np.bincount(grids.ravel(), minlength=num_codes) > 0)."
                    if given_used == num_codes else "count each code once, over all cells of all grids.")
            return failed(f"for {what} it says {given_used:g} codes are used; {used} are.", hint)
        entropy = np.log(perplexity)
        if not np.isfinite(given_perplexity):
            return failed(f"for {what} the perplexity is {given_perplexity}.", "skip the codes with p_k = 0: 0 · ln 0 is 0.")
        if np.isclose(given_perplexity, perplexity, rtol=1e-6, atol=1e-9):
            continue
        if perplexity > 1 and np.isclose(given_perplexity, entropy, rtol=1e-6):
            return failed(f"for {what} you return the entropy in nats, {entropy:.3f}; the perplexity is its exponential, "
                          f"{perplexity:.2f}.", "perplexity = exp(entropy): the number of equally used codes it matches.")
        if perplexity > 1 and np.isclose(given_perplexity, entropy / np.log(2), rtol=1e-6):
            return failed(f"for {what} you return the entropy in bits, {entropy / np.log(2):.3f}; the perplexity is "
                          f"2 to that power, {perplexity:.2f}.", "perplexity = 2**(entropy in bits) = exp(entropy in nats).")
        if perplexity > 1 and (np.isclose(given_perplexity, 2**entropy, rtol=1e-6)
                               or np.isclose(given_perplexity, np.exp(entropy / np.log(2)), rtol=1e-6)):
            return failed(f"for {what} the perplexity is {given_perplexity:.3f}, not {perplexity:.2f}: the entropy and "
                          "the exponential use different bases.", "use ln with exp, or log2 with 2**.")
        if given_perplexity == used and used != perplexity:
            return failed(f"for {what} the perplexity you give is the number of codes used, {used}; codes chosen "
                          f"unequally often count for less: {perplexity:.2f}.", PERPLEXITY_FORMULA + ".")
        if what.startswith("one code per grid") and np.isclose(given_perplexity, 1.0):
            return failed(f"for {what} the perplexity is 1: it looks computed grid by grid. Over all grids the 32 codes "
                          "are equally frequent, a perplexity of 32.", PERPLEXITY_FORMULA + ".")
        return failed(f"for {what} the perplexity is {given_perplexity:.4g}; expected {perplexity:.4g}.",
                      PERPLEXITY_FORMULA + ".")
    return passed("codes used and perplexity are right for one code, all 64 equally, 16 unequally and one code per grid.")


def _bits_cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Logits (grids, 7, 7, codes) and the grids of codes they are scored on."""
    rng = np.random.default_rng(1)
    grids = rng.integers(0, 8, size=(6, 7, 7))
    return {"logits of a few nats": (rng.normal(0.0, 2.0, size=(6, 7, 7, 8)), grids),
            "logits near 1 000": (1000.0 + rng.normal(0.0, 30.0, size=(6, 7, 7, 8)), grids)}


def check_bits_per_image(bits_function: Callable) -> CheckResult:
    """Check bits_function(logits, grids) -> -log2 P(grid) of each grid against the exact log-softmax."""
    for what, (logits, grids) in _bits_cases().items():
        largest = logits.max(axis=-1, keepdims=True)
        log_probabilities = logits - largest - np.log(np.exp(logits - largest).sum(axis=-1, keepdims=True))
        per_cell = -np.take_along_axis(log_probabilities, grids[..., None], axis=-1)[..., 0] / np.log(2)
        expected = per_cell.sum(axis=(1, 2))
        values, problem = attempt(bits_function, logits.astype("float32"), grids.copy())
        if problem is not None:
            return problem
        try:
            values = as_numpy(values)
        except Exception as error:  # whatever the student returned
            return failed(f"the function returned something that is not an array of numbers ({error}).",
                          "return one number of bits per grid.")
        if values.shape != expected.shape:
            return failed(f"for {what} of shape {logits.shape} the result has shape {values.shape}; expected "
                          f"{expected.shape}, one number per grid.", "sum over the two axes of the grid, axis=(1, 2).")
        if not np.all(np.isfinite(values)):
            return failed(f"for {what} the result is not finite: exp(1000) overflows.", BITS_FORMULA + ".")
        if np.allclose(values, expected, rtol=1e-4, atol=1e-3):
            continue
        if np.allclose(values, expected * np.log(2), rtol=1e-4, atol=1e-3):
            return failed(f"for {what} the result is in nats, not bits.", "divide by ln 2 (np.log(2)).")
        if np.allclose(values, expected / (7 * 7), rtol=1e-4, atol=1e-3):
            return failed(f"for {what} the result is the mean over the 49 cells; the code of a grid costs their sum.",
                          "sum over the cells instead of averaging.")
        chosen_logits = np.take_along_axis(logits, grids[..., None], axis=-1)[..., 0]
        if np.allclose(values, -chosen_logits.sum(axis=(1, 2)) / np.log(2), rtol=1e-4, atol=1e-3):
            return failed(f"for {what} the result uses the logits as if they were log-probabilities.",
                          "normalise first: " + BITS_FORMULA + ".")
        most_likely = np.sum(-log_probabilities.max(axis=-1), axis=(1, 2)) / np.log(2)
        if np.allclose(values, most_likely, rtol=1e-4, atol=1e-3):
            return failed(f"for {what} the result scores the most likely code of every cell, not the grid's own code.",
                          "pick each cell's code with np.take_along_axis(log_probabilities, grids[..., None], axis=-1).")
        return failed(f"for {what} the result is {np.round(values[:3], 2)}…, expected {np.round(expected[:3], 2)}….",
                      BITS_FORMULA + ".")
    return passed("−log2 P(grid) is right, in bits per grid, for ordinary logits and for logits near 1 000.")
