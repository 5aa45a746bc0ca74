"""Showing the course's own code and media inside a notebook."""

from __future__ import annotations

import inspect

from IPython.display import Code


def show_source(*objects) -> Code:
    """The source of helper classes and functions, highlighted: the exact code the notebooks run."""
    return Code("\n\n".join(inspect.getsource(item) for item in objects), language="python")
