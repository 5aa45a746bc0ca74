"""Every course notebook is also a reveal.js slide deck: `python -m aecourse slides [all|NN ...]`.

Each cell's metadata says where it goes (`slideshow.slide_type`: a numbered section starts a slide, its
follow-ups are subslides, set-up code is skipped). Cells tagged 'hide-input' show their figure without
their plotting code. The template `slides.html.j2` beside this module fits figures and code to reveal's
960×700 slide, sets GIF animations side by side, and leaves out the nbval markers; a slide still taller than the
screen scrolls. `jupyter nbconvert` with nbconvert_arguments() makes the same decks.

A deck needs no network to be shown: reveal.js (from the sphinx-revealjs package) and MathJax (from
jupyter-server-mathjax), both installed by requirements.txt, are copied into assets/ beside the decks, and
the decks load them from there. Copy the whole folder to present on another machine.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter
from traitlets.config import Config

from ..paths import PROJECT_ROOT

SLIDES_DIR = PROJECT_ROOT / "build" / "slides"
TEMPLATE = Path(__file__).with_name("slides.html.j2")
HIDE_INPUT_TAG = "hide-input"
SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")
ASSETS = "assets"
REVEAL_PREFIX, MATHJAX_URL = f"{ASSETS}/reveal.js", f"{ASSETS}/mathjax/MathJax.js"
REVEAL_THEME = "white"  # nbconvert's default, 'simple', loads its fonts from Google
# What the decks use of each package: (package, folder inside it, parts copied to assets/<name>).
ASSET_SOURCES = {
    "reveal.js": ("sphinx_revealjs", "_static/revealjs", ["LICENSE", "dist/reveal.js", "dist/reveal.css",
                                                          "dist/reset.css", "dist/theme/white.css",
                                                          "dist/theme/fonts/source-sans-pro", "plugin/notes"]),
    "mathjax": ("jupyter_server_mathjax", "static", ["LICENSE", "MathJax.js", "config", "extensions", "jax",
                                                     "fonts/HTML-CSS/STIX-Web"]),
}


def nbconvert_arguments(output_dir: str = "build/slides") -> list[str]:
    """The options of `jupyter nbconvert` that make the same decks as export() (run from the project root)."""
    return ["--to", "slides", "--template-file", f"notebooks/aecourse/commands/{TEMPLATE.name}", "--no-prompt",
            f"--TagRemovePreprocessor.remove_input_tags={HIDE_INPUT_TAG}", "--SlidesExporter.reveal_scroll=True",
            f"--SlidesExporter.reveal_url_prefix={REVEAL_PREFIX}", f"--SlidesExporter.mathjax_url={MATHJAX_URL}",
            f"--SlidesExporter.reveal_theme={REVEAL_THEME}",
            "--output-dir", output_dir]


def nbconvert_command() -> str:
    """The plain command line that writes every deck to build/slides/ (run from the project root).

    It writes the decks only; `python -m aecourse slides` also copies the assets/ folder they load.
    """
    return " ".join(["jupyter nbconvert", *nbconvert_arguments(), "notebooks/[0-9][0-9]_*.ipynb"])


def exporter() -> SlidesExporter:
    """nbconvert's SlidesExporter with the course's options (those of nbconvert_arguments())."""
    config = Config()
    config.TemplateExporter.template_file = str(TEMPLATE)
    config.TemplateExporter.exclude_input_prompt = True  # `In [12]:` takes width and says nothing on a slide
    config.TemplateExporter.exclude_output_prompt = True
    config.TagRemovePreprocessor.remove_input_tags = {HIDE_INPUT_TAG}
    config.SlidesExporter.reveal_scroll = True  # a slide taller than the screen scrolls instead of being cut
    config.SlidesExporter.reveal_url_prefix = REVEAL_PREFIX
    config.SlidesExporter.mathjax_url = MATHJAX_URL
    config.SlidesExporter.reveal_theme = REVEAL_THEME
    return SlidesExporter(config=config)


def _package_folder(package: str) -> Path:
    """Where an installed package lives, found without importing it (sphinx_revealjs imports Sphinx)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"the slides need the Python package {package!r} for their offline copy of reveal.js "
                         "and MathJax; install the course's requirements: pip install -r requirements.txt")
    return Path(spec.submodule_search_locations[0])


def copy_assets(output_dir: Path = SLIDES_DIR) -> Path:
    """Copy reveal.js and MathJax from their installed packages to OUTPUT_DIR/assets/; return that folder."""
    assets = output_dir / ASSETS
    for name, (package, folder, parts) in ASSET_SOURCES.items():
        source = _package_folder(package) / folder
        for part in parts:
            target = assets / name / part
            target.parent.mkdir(parents=True, exist_ok=True)
            if (source / part).is_dir():
                shutil.copytree(source / part, target, dirs_exist_ok=True)
            else:
                shutil.copy2(source / part, target)
    return assets


def cells_without_slide_type(notebook: nbformat.NotebookNode) -> list[int]:
    """Indices of the cells whose slideshow metadata is missing or not a reveal.js slide type."""
    return [index for index, cell in enumerate(notebook.cells)
            if cell.get("metadata", {}).get("slideshow", {}).get("slide_type") not in SLIDE_TYPES]


def export(path: Path, output_dir: Path = SLIDES_DIR) -> Path:
    """Write the notebook's deck as OUTPUT_DIR/NN_name.slides.html, with the assets it loads; return its path."""
    notebook = nbformat.read(path, as_version=4)
    unplaced = cells_without_slide_type(notebook)
    if unplaced:
        raise ValueError(f"{path.name}: cells {unplaced} have no slideshow metadata; give each cell a slide type "
                         f"({', '.join(SLIDE_TYPES)}) in its metadata, e.g. in JupyterLab's property inspector.")
    html, _ = exporter().from_notebook_node(notebook, resources={"metadata": {"name": path.stem,
                                                                             "path": str(path.parent)}})
    copy_assets(output_dir)
    deck = output_dir / f"{path.stem}.slides.html"
    deck.write_text(html, encoding="utf-8")
    return deck

