"""The --backends option that both benchmarks take: Keras backend names, comma-separated."""

from __future__ import annotations

import argparse

KERAS_BACKENDS = ("tensorflow", "jax", "torch")


def parse_backends(text: str) -> list[str]:
    """tensorflow,jax,torch -> ["tensorflow", "jax", "torch"], refusing names Keras does not know."""
    backends = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(backends) - set(KERAS_BACKENDS))
    if unknown or not backends:
        raise argparse.ArgumentTypeError(f"unknown backend(s) {unknown}: use {', '.join(KERAS_BACKENDS)}")
    return backends
