"""What the self-check tests assert of a wrong answer: it fails, and says how to fix it."""

from aecourse.checks import CheckResult


def assert_fails(result: CheckResult) -> None:
    """The verdict is a failure, and its message carries a hint."""
    assert not result, f"a wrong answer passed: {result!r}"
    assert "Hint:" in result.message, f"a failure should give a hint: {result!r}"
