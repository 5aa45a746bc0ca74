"""Every chapter gives the same outputs and figures on another CPU and with another thread count.

Another CPU is simulated on this one. OpenBLAS picks a kernel for the CPU it finds (OPENBLAS_CORETYPE
overrides the choice), and NumPy picks code paths for the instruction sets it finds
(NPY_DISABLE_CPU_FEATURES switches off the ones the simulated CPU lacks), and so does oneDNN, under
TensorFlow's matrix products (ONEDNN_MAX_CPU_ISA caps its choice). The kernels:

- SkylakeX: AVX-512 (Intel servers since 2017, AMD Zen 4 and later);
- Haswell: AVX2 and FMA (most laptops since 2013; OpenBLAS's Zen kernel for AMD Zen 1–3 is this one);
- Sandybridge: AVX only, the oldest CPU that TensorFlow runs on (older kernels, Nehalem or Prescott,
  are for CPUs without AVX, which cannot run the course at all).

Each chapter runs twice more than under nbval: with the Haswell kernel on one thread, and with the
Sandybridge kernel on two. A kernel needs the instructions it was written for, so one that this CPU cannot
run is skipped, saying so. Every output must equal the committed one (text to the character, a picture to
the eye, as `python -m aecourse execute` compares them), and every saved figure must be the same to the eye
as the committed file: then re-executing on that CPU leaves git clean.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from aecourse.commands.runner import execute, keep_unchanged_pictures
from aecourse.paths import PROJECT_ROOT, course_notebooks
from aecourse.pictures import same_to_the_eye

# kernel: (the CPU flags it needs, as /proc/cpuinfo spells them; NumPy's dispatch targets such a CPU lacks)
KERNELS = {
    "SkylakeX": ({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}, ()),
    "Haswell": ({"avx2", "fma"}, ("X86_V4", "AVX512_ICL", "AVX512_SPR")),
    "Sandybridge": ({"avx"}, ("X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR")),
}
# TensorFlow's matrix products go through oneDNN, which picks its own kernels for the CPU: the widest
# instruction set it may use on a CPU of each kind (its variable ONEDNN_MAX_CPU_ISA).
ONEDNN_ISA = {"SkylakeX": "AVX512_CORE", "Haswell": "AVX2", "Sandybridge": "AVX"}
RUNS = [("Haswell", 1), ("Sandybridge", 2)]  # (kernel, threads)


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str] | None:
    """The instruction-set flags of this CPU, or None where /proc/cpuinfo does not say (not Linux on x86)."""
    if not cpuinfo.is_file():
        return None
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return None


def _texts(cell: nbformat.NotebookNode) -> list:
    """A cell's outputs as compared here: everything but the PNG bytes, which are compared to the eye."""
    return [{key: value for key, value in output.items() if key != "data"}
            | {"data": {mime: value for mime, value in output.get("data", {}).items() if mime != "image/png"}}
            for output in cell.get("outputs", [])]


def differences(executed: nbformat.NotebookNode, committed: nbformat.NotebookNode) -> list[str]:
    """Where the executed notebook differs from the committed one, pictures compared to the eye."""
    executed = keep_unchanged_pictures(executed, committed)
    found = []
    for number, (cell, before) in enumerate(zip(executed.cells, committed.cells)):
        if cell.cell_type != "code":
            continue
        if _texts(cell) != _texts(before):
            found.append(f"cell {number} `{cell.source.splitlines()[0][:50]}`: its output changed")
        pictures = [(output, old) for output, old in zip(cell.outputs, before.outputs)
                    if "image/png" in output.get("data", {})]
        if any(output.data["image/png"] != old.get("data", {}).get("image/png") for output, old in pictures):
            found.append(f"cell {number} `{cell.source.splitlines()[0][:50]}`: a figure changed to the eye")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("kernel, threads", RUNS, ids=[f"{kernel}-{threads}thread" for kernel, threads in RUNS])
@pytest.mark.parametrize("path", course_notebooks(), ids=lambda path: path.stem)
def test_outputs_and_figures_are_the_same_on_another_cpu(path, kernel, threads, tmp_path, monkeypatch):
    import numpy as np  # noqa: F401  (NumPy's table of CPU features below)
    from numpy._core._multiarray_umath import __cpu_dispatch__

    flags = cpu_flags()
    needed, lacking = KERNELS[kernel]
    if flags is None:
        pytest.skip("no /proc/cpuinfo: cannot tell which OpenBLAS kernels this CPU can run")
    if not needed <= flags:
        pytest.skip(f"this CPU lacks {', '.join(sorted(needed - flags))}: OpenBLAS's {kernel} kernel cannot run here")
    monkeypatch.setenv("OPENBLAS_CORETYPE", kernel)  # the kernel inherits these
    monkeypatch.setenv("NPY_DISABLE_CPU_FEATURES", " ".join(t for t in lacking if t in __cpu_dispatch__))
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", ONEDNN_ISA[kernel])
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.setenv(variable, str(threads))
    monkeypatch.setenv("AECOURSE_FIGURES", str(tmp_path))

    executed = execute(path, timeout=600)

    changed = differences(executed, nbformat.read(path, as_version=4))
    assert not changed, f"with OpenBLAS's {kernel} kernel on {threads} thread(s): {changed}"
    saved = sorted(tmp_path.glob("*.png"))
    assert saved, "the notebook saves its figures"
    figures = [figure.name for figure in saved
               if not same_to_the_eye((PROJECT_ROOT / "figures" / figure.name).read_bytes(), figure.read_bytes())]
    assert not figures, f"figures that differ to the eye with OpenBLAS's {kernel} kernel: {figures}"
