"""Self-checks for the exercises of notebook 08 (anomaly detection).

Every check measures: an AUC function against scikit-learn's on made-up scores, a threshold against the
quantiles of the scores it should and should not come from, a precision formula against a count of
flagged inputs. None compares with a number that only one trained model would hit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import CheckResult, attempt, failed, passed

AUC_DEFINITION = ("the AUC, in percent, of the scores with every other digit as the positive class (the anomalies): "
                  "100 * roc_auc_score(labels != digit, scores)")


def _made_up_scores(rng: np.random.Generator, digit: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels 0-9 and scores where the other digits score higher on average, each by its own margin."""
    labels = rng.integers(0, 10, size=3000)
    margins = rng.uniform(0.2, 1.5, size=10)
    margins[digit] = 0.0
    return labels, rng.standard_normal(len(labels)) + margins[labels]


def _reference_auc(scores: np.ndarray, digit: int, labels: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return 100 * roc_auc_score(labels != digit, scores)


def check_one_class_auc(auc_function: Callable) -> CheckResult:
    """Check auc_function(scores, digit, labels) -> the one-class test AUC (%) on made-up scores for three digits."""
    rng = np.random.default_rng(8)
    for digit in (3, 8, 0):
        labels, scores = _made_up_scores(rng, digit)
        expected = _reference_auc(scores, digit, labels)
        value, problem = attempt(auc_function, scores, digit, labels)
        if problem is not None:
            return problem
        try:
            value = float(value)
        except (TypeError, ValueError):
            return failed(f"one_class_auc returned {type(value).__name__}, not one number.",
                          "return a single float: " + AUC_DEFINITION + ".")
        if abs(value - expected) < 1e-6:
            continue
        if abs(100 * value - expected) < 1e-4:
            return failed(f"for digit {digit} one_class_auc gives {value:.4f}, a fraction; the chapter reports "
                          f"percent ({expected:.2f}).", "multiply by 100.")
        if abs(value - (100 - expected)) < 1e-4:
            return failed(f"for digit {digit} one_class_auc gives {value:.2f}, which is 100 minus the AUC "
                          f"({expected:.2f}): the normal digit is treated as the positive class, or the score's sign "
                          "is flipped.", "the anomalies (labels != digit) are the positives, and a higher score "
                          "means more anomalous.")
        return failed(f"for digit {digit}, made-up scores, one_class_auc gives {value:.3f}; expected {expected:.3f}.",
                      AUC_DEFINITION + ". An accuracy at one threshold, or an AUC against one other digit only, "
                      "is not the same number.")
    return passed("one_class_auc matches scikit-learn's ROC AUC (%) with the other digits as anomalies.")


def check_threshold(threshold: float, held_out_scores: np.ndarray, test_normal_scores: np.ndarray,
                    accepted: float) -> CheckResult:
    """Check a threshold meant to let through a share `accepted` of the held-out normals' scores."""
    held_out_scores, test_normal_scores = (np.asarray(scores, dtype="float64").ravel()
                                           for scores in (held_out_scores, test_normal_scores))
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        return failed(f"the threshold is {type(threshold).__name__}, not one number.",
                      "a threshold is one score: np.quantile(held_out_scores, accepted).")
    let_through = float(np.mean(held_out_scores <= threshold))
    step = 1.5 / len(held_out_scores)  # one held-out image either way: quantile conventions differ by that much
    if abs(let_through - accepted) <= step:
        return passed(f"the threshold lets through {let_through:.1%} of the held-out normals, as asked "
                      f"({accepted:.0%}).")
    on_test = float(np.mean(test_normal_scores <= threshold))
    if abs(on_test - accepted) <= 1.5 / len(test_normal_scores):
        return failed(f"the threshold lets through {on_test:.1%} of the *test* normals but {let_through:.1%} of the "
                      "held-out ones: it was chosen on the test set.",
                      "choose it on the held-out normals only: the test set is for measuring the result.")
    if abs(let_through - (1 - accepted)) <= step:
        return failed(f"the threshold lets through only {let_through:.1%} of the held-out normals: it flags "
                      f"{1 - let_through:.0%} of them.", f"take the {accepted:.0%} quantile, "
                      "np.quantile(held_out_scores, accepted), not the 1 − accepted one.")
    return failed(f"the threshold lets through {let_through:.1%} of the held-out normals instead of {accepted:.0%}.",
                  "np.quantile(held_out_scores, accepted) on the held-out normals' scores of the same model and score.")


def check_precision_at(precision_function: Callable) -> CheckResult:
    """Check precision_function(rate, recall, false_alarms) against a count of flagged inputs."""
    cases = [(0.9, 0.8, 0.05), (0.01, 0.8, 0.05), (0.01, 0.5, 0.01), (0.3, 0.99, 0.2)]
    for rate, recall, false_alarms in cases:
        anomalies, normals = 1_000_000 * rate, 1_000_000 * (1 - rate)  # a million inputs, counted
        expected = recall * anomalies / (recall * anomalies + false_alarms * normals)
        value, problem = attempt(precision_function, rate, recall, false_alarms)
        if problem is not None:
            return problem
        try:
            value = float(np.asarray(value, dtype="float64"))
        except (TypeError, ValueError):
            return failed(f"precision_at returned {type(value).__name__}, not a number.",
                          "precision = anomalies flagged / all inputs flagged.")
        if abs(value - expected) > 1e-6:
            return failed(f"with {rate:.0%} anomalies, recall {recall:.0%} and false alarms on {false_alarms:.0%} "
                          f"of the normals, precision_at gives {value:.4f}; counting a million inputs gives "
                          f"{expected:.4f}.", "flagged anomalies: rate × recall; flagged normals: (1 − rate) × "
                          "false alarms; precision is the first over their sum.")
    return passed("precision_at matches a count of flagged inputs, for common and for rare anomalies.")
