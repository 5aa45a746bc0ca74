"""`jupyter nbconvert --to html`, the usual way to share a notebook, shows every figure and GIF."""

import subprocess
import sys

import nbformat
import pytest
from bs4 import BeautifulSoup

from aecourse.paths import NOTEBOOKS_DIR, course_notebooks

NOTEBOOKS = course_notebooks(NOTEBOOKS_DIR)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_html_export_shows_every_gif(path, tmp_path):
    subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", "--output-dir", str(tmp_path), str(path)],
                   check=True, capture_output=True)
    page = BeautifulSoup((tmp_path / f"{path.stem}.html").read_text(encoding="utf-8"), "html.parser")
    outputs = [output for cell in nbformat.read(path, as_version=4).cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if "image/gif" in output.get("data", {})], \
        "a GIF stored as image/gif too is stored twice: animation() stores it once, as an HTML <img>"
    gifs = [image["src"] for output in outputs
            for image in BeautifulSoup("".join(output.get("data", {}).get("text/html", "")), "html.parser").select("img")
            if image.get("src", "").startswith("data:image/gif")]
    shown = [image["src"] for image in page.select("img") if image.get("src", "").startswith("data:image/gif")]
    assert sorted(shown) == sorted(gifs)
    assert "<IPython.core.display.Image object>" not in page.get_text()
