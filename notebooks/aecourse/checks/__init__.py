"""Self-checks for the exercises: call one with your answer and see at once whether it holds, and why not.

Each check returns a CheckResult, which shows as one line in the notebook (✓ or ✗ with a hint) and is
truthy when the answer passes. A check never raises on a wrong answer: a student sees what is wrong,
not a traceback. Each topic's checks live in a module of their own: `autoencoders` (notebooks 01, 02),
`vae` (03, 04, 07), `faces` (05) and `denoising` (06), e.g. `from aecourse.checks.vae import check_gaussian_kl`.
"""

from __future__ import annotations

import re

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CheckResult:
    """The verdict of a self-check: passed or not, and what to tell the student."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"{'✓' if self.passed else '✗'} {self.message}"


def passed(message: str) -> CheckResult:
    """A passing verdict."""
    return CheckResult(True, message)


def failed(problem: str, hint: str) -> CheckResult:
    """A failing verdict: what is wrong, then a hint towards the fix."""
    return CheckResult(False, f"{problem} Hint: {hint}")


PREAMBLES = ("Exception encountered", "Graph execution error", "Detected at node", "Arguments received", "•", "File ",
             "Traceback")


def _reason(error: Exception) -> str:
    """The line of an error message that says what went wrong, without a backend's preamble and trace (≤ 300 chars)."""
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(error)).splitlines() if line.strip()]
    reasons = [line for line in lines if not line.startswith(PREAMBLES)]
    if any(line.startswith("Detected at node") for line in lines):  # TensorFlow's: the reason comes after the trace
        reasons = [line for line in reasons if re.search(r"[Ii]ncompatible|[Mm]ust|[Ee]xpected|[Ii]nvalid", line)] \
            or reasons[-1:]
    reason = reasons[0] if reasons else (lines[0] if lines else "")
    reason = reason.rstrip(".")
    return reason if len(reason) <= 300 else reason[:297] + "..."


def as_numpy(values: Any) -> np.ndarray:
    """A tensor of any Keras backend, or a NumPy array, list or number, as a float64 NumPy array."""
    if not isinstance(values, (np.ndarray, list, tuple, float, int, np.number)):
        import keras  # imported only for a tensor: checking NumPy answers needs no backend

        values = keras.ops.convert_to_numpy(values)
    return np.asarray(values, dtype="float64")


def attempt(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, CheckResult | None]:
    """Call the student's function; on an exception return a failing verdict instead of raising."""
    try:
        return function(*args, **kwargs), None
    except Exception as error:  # any fault in the student's code becomes feedback, not a traceback
        name = getattr(function, "__name__", "your function")
        return None, failed(f"calling {name} raised {type(error).__name__}: {_reason(error)}.",
                            "run it on a small example first and compare the shapes you get with the ones expected.")
