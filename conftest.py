"""Test-wide settings: quiet, reproducible TensorFlow and figures written outside the repository."""

import os
import tempfile

# Set before any kernel starts: nbval's kernels inherit this environment (--nbval-current-env).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# Test runs must not rewrite the committed figures; `python -m aecourse execute` refreshes those.
os.environ.setdefault("AECOURSE_FIGURES", tempfile.mkdtemp(prefix="aecourse-figures-"))

collect_ignore_glob = ["tests/fixtures/*", "build/*", ".venv/*"]


def pytest_collection_modifyitems(items):
    """nbval's notebook cells start a kernel, so they are `slow` like the other kernel tests."""
    import pytest
    from nbval.plugin import IPyNbCell

    for item in items:
        if isinstance(item, IPyNbCell):
            item.add_marker(pytest.mark.slow)
