"""The self-checks of the exercises of notebook 09: reference answers pass, wrong ones fail with a hint.

The reference answers come from the exercise notebook itself (its cells tagged `definitions`), and the
chapter's own measurements pass too; the wrong answers are the ones students write.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from aecourse import definitions_from
from aecourse.checks.discrete import check_bits_per_image, check_code_usage
from verdicts import assert_fails


@pytest.fixture(scope="module")
def exercises_09() -> dict:
    return definitions_from("exercises/09_exercises.ipynb")


# ---------------------------------------------------------------- check_code_usage

def test_the_reference_usage_and_the_chapters_pass(exercises_09):
    assert check_code_usage(exercises_09["my_code_usage"])
    chapter = exercises_09["notebook_09"]["code_usage"]
    assert check_code_usage(lambda grids, num_codes: (chapter(grids, num_codes)["used"],
                                                      chapter(grids, num_codes)["perplexity"]))


def _shares(grids, num_codes):
    counts = np.bincount(np.asarray(grids).ravel(), minlength=num_codes)
    return counts, counts[counts > 0] / counts.sum()


def _entropy_in_nats(grids, num_codes):
    counts, shares = _shares(grids, num_codes)
    return int(np.sum(counts > 0)), float(-np.sum(shares * np.log(shares)))


def _entropy_in_bits(grids, num_codes):
    counts, shares = _shares(grids, num_codes)
    return int(np.sum(counts > 0)), float(-np.sum(shares * np.log2(shares)))


def _mixed_bases(grids, num_codes):
    counts, shares = _shares(grids, num_codes)
    return int(np.sum(counts > 0)), float(2 ** -np.sum(shares * np.log(shares)))


def _every_code_counted(grids, num_codes):
    counts, shares = _shares(grids, num_codes)
    return len(counts), float(np.exp(-np.sum(shares * np.log(shares))))


def _codes_used_as_perplexity(grids, num_codes):
    counts, _ = _shares(grids, num_codes)
    return int(np.sum(counts > 0)), float(np.sum(counts > 0))


def _grid_by_grid(grids, num_codes):
    perplexities = []
    for grid in grids:
        _, shares = _shares(grid, num_codes)
        perplexities.append(np.exp(-np.sum(shares * np.log(shares))))
    return int(np.sum(_shares(grids, num_codes)[0] > 0)), float(np.mean(perplexities))


def _zeros_not_skipped(grids, num_codes):
    counts = np.bincount(np.asarray(grids).ravel(), minlength=num_codes)
    shares = counts / counts.sum()
    return int(np.sum(counts > 0)), float(np.exp(-np.sum(shares * np.log(shares))))  # nan: 0 * log 0


def _usage_that_raises(grids, num_codes):
    raise NotImplementedError()


@pytest.mark.parametrize("wrong", [_entropy_in_nats, _entropy_in_bits, _mixed_bases, _every_code_counted,
                                   _codes_used_as_perplexity, _grid_by_grid, _zeros_not_skipped, _usage_that_raises])
def test_wrong_usage_functions_fail(wrong):
    with np.errstate(divide="ignore", invalid="ignore"):
        assert_fails(check_code_usage(wrong))


# ---------------------------------------------------------------- check_bits_per_image

def test_the_reference_bits_pass(exercises_09):
    assert check_bits_per_image(exercises_09["my_bits_per_image"])


def test_the_reference_bits_pass_from_backend_tensors(exercises_09):
    from keras import ops

    reference = exercises_09["my_bits_per_image"]
    assert check_bits_per_image(lambda logits, grids: ops.convert_to_tensor(reference(logits, grids)))


def _log_probabilities(logits):
    logits = np.asarray(logits, "float64")
    return logits - logsumexp(logits, axis=-1, keepdims=True)


def _chosen(values, grids):
    return np.take_along_axis(values, np.asarray(grids)[..., None], axis=-1)[..., 0]


def _in_nats(logits, grids):
    return -_chosen(_log_probabilities(logits), grids).sum(axis=(1, 2))


def _mean_over_cells(logits, grids):
    return -_chosen(_log_probabilities(logits), grids).mean(axis=(1, 2)) / np.log(2)


def _logits_as_log_probabilities(logits, grids):
    return -_chosen(np.asarray(logits, "float64"), grids).sum(axis=(1, 2)) / np.log(2)


def _naive_softmax(logits, grids):
    logits = np.asarray(logits, "float64")
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)  # overflows near 1 000
    return -np.log2(_chosen(probabilities, grids)).sum(axis=(1, 2))


def _softmax_over_the_wrong_axis(logits, grids):
    logits = np.asarray(logits, "float64")
    return -_chosen(logits - logsumexp(logits, axis=0, keepdims=True), grids).sum(axis=(1, 2)) / np.log(2)


def _most_likely_code(logits, grids):
    return -_log_probabilities(logits).max(axis=-1).sum(axis=(1, 2)) / np.log(2)


def _one_total(logits, grids):
    return float(-_chosen(_log_probabilities(logits), grids).sum() / np.log(2))


def _bits_that_raise(logits, grids):
    raise NotImplementedError()


@pytest.mark.parametrize("wrong", [_in_nats, _mean_over_cells, _logits_as_log_probabilities, _naive_softmax,
                                   _softmax_over_the_wrong_axis, _most_likely_code, _one_total, _bits_that_raise])
def test_wrong_bits_functions_fail(wrong):
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        assert_fails(check_bits_per_image(wrong))
