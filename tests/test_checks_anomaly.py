"""The self-checks of the exercises of notebook 08: reference answers pass, wrong ones fail with a hint.

The reference functions come from the exercise notebook itself (its cells tagged `definitions`); the
thresholds are checked on made-up scores, right or wrong by construction.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from aecourse import definitions_from
from aecourse.checks.anomaly import check_one_class_auc, check_precision_at, check_threshold
from verdicts import assert_fails


@pytest.fixture(scope="module")
def exercises_08() -> dict:
    return definitions_from("exercises/08_exercises.ipynb")


# ---------------------------------------------------------------- check_one_class_auc

def test_the_reference_auc_and_the_chapters_pass(exercises_08):
    assert check_one_class_auc(exercises_08["my_one_class_auc"])
    assert check_one_class_auc(exercises_08["notebook_08"]["one_class_auc"])


def _normal_as_positive(scores, digit, labels):
    return 100 * roc_auc_score(labels == digit, scores)


def _fraction(scores, digit, labels):
    return roc_auc_score(labels != digit, scores)


def _low_scores_as_anomalies(scores, digit, labels):
    return 100 * roc_auc_score(labels != digit, -scores)


def _accuracy_at_the_median(scores, digit, labels):
    return 100 * accuracy_score(labels != digit, scores > np.median(scores))


def _against_one_other_digit(scores, digit, labels):
    other = (digit + 1) % 10
    kept = (labels == digit) | (labels == other)
    return 100 * roc_auc_score(labels[kept] == other, scores[kept])


def _one_value_per_image(scores, digit, labels):
    return 100 * (scores > np.median(scores))


def _not_written(scores, digit, labels):
    raise NotImplementedError()


@pytest.mark.parametrize("wrong", [_normal_as_positive, _fraction, _low_scores_as_anomalies, _accuracy_at_the_median,
                                   _against_one_other_digit, _one_value_per_image, _not_written])
def test_wrong_auc_functions_fail(wrong):
    assert_fails(check_one_class_auc(wrong))


# ---------------------------------------------------------------- check_threshold

@pytest.fixture
def scores() -> tuple[np.ndarray, np.ndarray]:
    """Held-out and test normals' scores of one model: the test normals score a little higher, as they do."""
    rng = np.random.default_rng(1)
    return rng.gamma(4.0, 1.0, size=585), rng.gamma(4.0, 1.1, size=974)


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "nearest", "midpoint"])
def test_the_held_out_quantile_passes_whatever_its_convention(scores, method):
    held_out, test_normals = scores
    assert check_threshold(np.quantile(held_out, 0.99, method=method), held_out, test_normals, accepted=0.99)


def test_another_seed_of_scores_passes():
    rng = np.random.default_rng(7)
    held_out, test_normals = rng.lognormal(size=600), rng.lognormal(size=1000)
    assert check_threshold(np.quantile(held_out, 0.95), held_out, test_normals, accepted=0.95)


@pytest.mark.parametrize("wrong", [
    lambda held_out, test_normals: np.quantile(test_normals, 0.99),  # chosen on the test set
    lambda held_out, test_normals: np.quantile(held_out, 0.01),  # the other end
    lambda held_out, test_normals: np.quantile(held_out, 0.95),  # the chapter's 95 %, not 99 %
    lambda held_out, test_normals: held_out.mean() + 2 * held_out.std(),  # a rule of thumb
    lambda held_out, test_normals: held_out.max(),  # accepts them all
    lambda held_out, test_normals: "high",  # not a number
])
def test_wrong_thresholds_fail(scores, wrong):
    held_out, test_normals = scores
    assert_fails(check_threshold(wrong(held_out, test_normals), held_out, test_normals, accepted=0.99))


# ---------------------------------------------------------------- check_precision_at

def test_the_reference_precision_passes(exercises_08):
    assert check_precision_at(exercises_08["my_precision_at"])


@pytest.mark.parametrize("wrong", [
    lambda rate, recall, false_alarms: recall / (recall + false_alarms),  # ignores how rare anomalies are
    lambda rate, recall, false_alarms: rate * recall / (rate * recall + false_alarms),  # forgets (1 - rate)
    lambda rate, recall, false_alarms: (1 - rate) * false_alarms / (rate * recall + (1 - rate) * false_alarms),
    lambda rate, recall, false_alarms: recall,  # the recall itself
    lambda rate, recall, false_alarms: 1 - false_alarms,  # the share of normals let through
    lambda rate, recall, false_alarms: rate * false_alarms / (rate * false_alarms + (1 - rate) * recall),  # swapped
])
def test_wrong_precision_formulas_fail(wrong):
    assert_fails(check_precision_at(wrong))
