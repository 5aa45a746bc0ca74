"""A notebook's headline numbers: one readable line for the student, one JSON record for RESULTS.md.

The cell that measures a shipped model calls record_result(). The executed notebook then holds the number
twice, as text that nbval checks and as a JSON MIME bundle that `python -m aecourse report` reads: the
report never runs a model, so each number has exactly one definition, the notebook cell that measured it.
"""

from __future__ import annotations

from IPython.display import display

RESULT_MIME = "application/vnd.aecourse.result+json"
LIKELIHOOD_MIME = "application/vnd.aecourse.likelihood+json"
RESULT_TAG = "result"  # the tag of the cells that call record_result()
SIGNIFICANT_DIGITS = 4


def significant(value: float, digits: int = SIGNIFICANT_DIGITS) -> str:
    """A number to a few significant digits, as the course prints its results."""
    return f"{value:.{digits}g}"


def record_result(weights: str, model: str, metric: str, value: float, *, terms: dict[str, float] | None = None,
                  baseline: str = "–", anchor: str = "–", bound: float | None = None,
                  at_least: float | None = None, log_likelihood: str = "–") -> None:
    """Show the measured number in one line and record it (with its baseline, anchor and bound) for the report.

    terms: the parts that add up to value (the VAE's reconstruction and KL); bound: an upper limit, at_least:
    a lower limit (for numbers where higher is better), each stated by the notebook and asserted in a cell
    tagged `claim`; log_likelihood: a VAE's importance-weighted estimate of -log p(x), with its K and subset.
    """
    value = float(significant(value))
    parts = [[name, float(significant(part))] for name, part in (terms or {}).items()]  # pairs keep their order
    record = {"weights": weights, "model": model, "metric": metric, "value": value, "terms": parts,
              "baseline": baseline, "anchor": anchor, "bound": bound, "at_least": at_least,
              "log_likelihood": log_likelihood}
    shown = significant(value) + ("" if not parts else " = " + " + ".join(
        f"{name} {significant(part)}" for name, part in parts))
    notes = [f"baseline {baseline}"] if baseline != "–" else []
    notes += [f"−log p(x), IWAE: {log_likelihood}"] if log_likelihood != "–" else []
    notes += [] if bound is None else [f"bound ≤ {bound:g}: {'met' if value <= bound else 'MISSED'}"]
    notes += [] if at_least is None else [f"bound ≥ {at_least:g}: {'met' if value >= at_least else 'MISSED'}"]
    line = f"result {weights}: {metric} {shown}" + (f" ({'; '.join(notes)})" if notes else "")
    display({RESULT_MIME: record, "text/plain": line}, raw=True)


def record_likelihood(weights: str, note: str) -> None:
    """Show and record a VAE's importance-weighted -log p(x), measured in another chapter than its -ELBO.

    The report adds the note (the estimate, K, the subset and the -ELBO on it) to that model's row.
    """
    display({LIKELIHOOD_MIME: {"weights": weights, "log_likelihood": note},
             "text/plain": f"result {weights}: −log p(x), IWAE: {note}"}, raw=True)
