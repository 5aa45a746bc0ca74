"""Fault injection: the whole suite's load path against a damaged weights/ folder.

A copy of the course (notebooks, helper, weights, figures) gets one weight file truncated, one corrupted,
one missing, two swapped, and a manifest entry without a key. `python -m aecourse execute` of every chapter
that loads one of them must then stop each with its own clear message, no traceback, and change no file of
the copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aecourse.paths import PROJECT_ROOT

# What each notebook must say: the first weights it loads are the damaged ones.
EXPECTED = {
    "01_autoencoder_mnist": "01_dense_ae.weights.h5 has 1000 bytes but the manifest records",
    "02_autoencoder_visualization": "02_ae_code2.weights.h5 is corrupted or was modified",
    "03_variational_autoencoder": "03_vae_beta1.weights.h5 is missing",
    "04_convolutional_vae": "04_conv_vae.weights.h5 holds the weights recorded for '06_mnist_denoiser'",
    "05_faces_autoencoders": "the manifest entry for '05_shallow_ae' lacks 'sha256'",
    "06_denoising": "06_mnist_denoiser.weights.h5 holds the weights recorded for '04_conv_vae'",
    "07_measuring_vaes": "03_vae_beta1.weights.h5 is missing",
}


def _damage(weights: Path) -> None:
    truncated = weights / "01_dense_ae.weights.h5"
    truncated.write_bytes(truncated.read_bytes()[:1000])
    corrupted = weights / "02_ae_code2.weights.h5"
    content = bytearray(corrupted.read_bytes())
    content[len(content) // 2] ^= 0xFF
    corrupted.write_bytes(bytes(content))
    (weights / "03_vae_beta1.weights.h5").unlink()
    first, second = weights / "04_conv_vae.weights.h5", weights / "06_mnist_denoiser.weights.h5"
    first_content = first.read_bytes()
    first.write_bytes(second.read_bytes())
    second.write_bytes(first_content)
    manifest = json.loads((weights / "manifest.json").read_text())
    del manifest["05_shallow_ae"]["sha256"]
    (weights / "manifest.json").write_text(json.dumps(manifest, indent=2))


def _digests(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file() and "__pycache__" not in path.parts}


@pytest.mark.slow
def test_every_notebook_stops_with_its_message_and_nothing_changes(tmp_path):
    course = tmp_path / "course"
    ignored = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for folder in ("notebooks", "weights", "figures"):
        shutil.copytree(PROJECT_ROOT / folder, course / folder, ignore=ignored)
    _damage(course / "weights")
    before = _digests(course)
    env = {key: value for key, value in os.environ.items()
           if key not in ("AECOURSE_WEIGHTS", "AECOURSE_FIGURES", "PYTHONPATH")}  # the copy's own folders

    chapters = [stem[:2] for stem in EXPECTED]  # the chapters whose first weights are the damaged ones
    completed = subprocess.run([sys.executable, "-m", "aecourse", "execute", *chapters], cwd=course / "notebooks",
                               env=env, capture_output=True, text=True, timeout=600)

    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr and "\x1b[" not in completed.stderr, completed.stderr
    failures = [line.strip() for line in completed.stderr.splitlines() if " stopped in cell " in line]
    assert len(failures) == len(EXPECTED), completed.stderr
    for stem, message in EXPECTED.items():
        line = next((line for line in failures if line.startswith(f"{stem}.ipynb stopped")), "")
        assert "WeightsError: " in line and message in line, (stem, completed.stderr)
        assert "git checkout -- weights/" in line
    assert f"{len(EXPECTED)} of {len(EXPECTED)} notebooks failed" in completed.stderr
    assert _digests(course) == before
