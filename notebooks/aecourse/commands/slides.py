"""Every course notebook is also a reveal.js slide deck: `python -m aecourse slides [all|NN ...]`.

Each cell's metadata says where it goes (`slideshow.slide_type`: a numbered section starts a slide, its
follow-ups are subslides, set-up code is skipped). Cells tagged 'hide-input' show their figure without
their plotting code. The template `slides.html.j2` beside this module fits figures and code to reveal's
960×700 slide, shows GIF animations, and leaves out the nbval markers; a slide still taller than the
screen scrolls. `jupyter nbconvert` with nbconvert_arguments() makes the same decks.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbconvert import SlidesExporter
from traitlets.config import Config

from ..paths import PROJECT_ROOT

SLIDES_DIR = PROJECT_ROOT / "build" / "slides"
TEMPLATE = Path(__file__).with_name("slides.html.j2")
HIDE_INPUT_TAG = "hide-input"
SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")


def nbconvert_arguments(output_dir: str = "build/slides") -> list[str]:
    """The options of `jupyter nbconvert` that make the same decks as export() (run from the project root)."""
    return ["--to", "slides", "--template-file", f"notebooks/aecourse/commands/{TEMPLATE.name}", "--no-prompt",
            f"--TagRemovePreprocessor.remove_input_tags={HIDE_INPUT_TAG}", "--SlidesExporter.reveal_scroll=True",
            "--output-dir", output_dir]


def nbconvert_command() -> str:
    """The plain command line that writes every deck to build/slides/ (run from the project root)."""
    return " ".join(["jupyter nbconvert", *nbconvert_arguments(), "notebooks/[0-9][0-9]_*.ipynb"])


def exporter() -> SlidesExporter:
    """nbconvert's SlidesExporter with the course's options (those of nbconvert_arguments())."""
    config = Config()
    config.TemplateExporter.template_file = str(TEMPLATE)
    config.TemplateExporter.exclude_input_prompt = True  # `In [12]:` takes width and says nothing on a slide
    config.TemplateExporter.exclude_output_prompt = True
    config.TagRemovePreprocessor.remove_input_tags = {HIDE_INPUT_TAG}
    config.SlidesExporter.reveal_scroll = True  # a slide taller than the screen scrolls instead of being cut
    return SlidesExporter(config=config)


def cells_without_slide_type(notebook: nbformat.NotebookNode) -> list[int]:
    """Indices of the cells whose slideshow metadata is missing or not a reveal.js slide type."""
    return [index for index, cell in enumerate(notebook.cells)
            if cell.get("metadata", {}).get("slideshow", {}).get("slide_type") not in SLIDE_TYPES]


def export(path: Path, output_dir: Path = SLIDES_DIR) -> Path:
    """Write the notebook's deck as OUTPUT_DIR/NN_name.slides.html and return its path."""
    notebook = nbformat.read(path, as_version=4)
    unplaced = cells_without_slide_type(notebook)
    if unplaced:
        raise ValueError(f"{path.name}: cells {unplaced} have no slideshow metadata; give each cell a slide type "
                         f"({', '.join(SLIDE_TYPES)}) in its metadata, e.g. in JupyterLab's property inspector.")
    html, _ = exporter().from_notebook_node(notebook, resources={"metadata": {"name": path.stem,
                                                                             "path": str(path.parent)}})
    output_dir.mkdir(parents=True, exist_ok=True)
    deck = output_dir / f"{path.stem}.slides.html"
    deck.write_text(html, encoding="utf-8")
    return deck

