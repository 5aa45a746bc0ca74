"""Google Colab: the "Open in Colab" badges, the notebooks' bootstrap cell, and retargeting both.

On Colab a notebook opened from GitHub runs alone, without the helper package, the weights or the
other notebooks. Its first code cell (tagged 'colab-setup') therefore clones the course and changes into
its notebooks/ folder; anywhere else that cell does nothing. The badges and the clone URL name one
repository and branch; `python -m aecourse colab --repository OWNER/NAME` rewrites all of them at once.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from ..paths import NOTEBOOKS_DIR, PROJECT_ROOT, exercise_notebooks
from .runner import PARAMETERS_TAG

DEFAULT_REPOSITORY = "aecourse/autoencoders-with-keras"  # a placeholder until the course is published
DEFAULT_BRANCH = "main"
SETUP_TAG = "colab-setup"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"

_NAME = r"[A-Za-z0-9_.-]+"
_REPOSITORY = re.compile(rf"{_NAME}/{_NAME}")
_BRANCH = re.compile(r"[A-Za-z0-9_./-]+")
# A badge anywhere in a markdown text; the branch may contain slashes, so it ends at /notebooks/.
BADGE = re.compile(r"\[!\[Open In Colab\]\(" + re.escape(BADGE_IMAGE) + r"\)\]"
                   rf"\(https://colab\.research\.google\.com/github/(?P<repository>{_NAME}/{_NAME})"
                   r"/blob/(?P<branch>\S+?)/notebooks/(?P<notebook>(?:exercises/)?[^/\s)]+\.ipynb)\)")
# A link to a repository on GitHub (a clone URL ends in .git, a page address in / or nothing).
REPOSITORY_URL = re.compile(rf"https://github\.com/(?P<repository>{_NAME}/{_NAME})")

# NEEDED maps what the course imports to the pip name to install where Colab lacks it. TensorFlow is not
# in it: Colab ships its own build (with GPU support), which tensorflow-cpu would replace.
_SETUP_SOURCE = '''\
# Colab only: clone the course and install what Colab lacks. Anywhere else this cell does nothing.
import sys
if "google.colab" in sys.modules:
    import importlib.util, os, subprocess
    COURSE_URL = "https://github.com/{repository}.git"
    COURSE_BRANCH = "{branch}"
    COURSE_DIR = "/content/{name}"
    if not os.path.isdir(COURSE_DIR):  # a clone made by another notebook of this session is reused
        subprocess.run(["git", "clone", "-q", "--depth", "1", "-b", COURSE_BRANCH, COURSE_URL, COURSE_DIR], check=True)
    os.chdir(f"{{COURSE_DIR}}/notebooks")  # where aecourse, the weights and the figures are found
    sys.path.insert(0, os.getcwd())
    NEEDED = {{"keras": "keras", "sklearn": "scikit-learn", "scipy": "scipy", "matplotlib": "matplotlib",
              "h5py": "h5py", "PIL": "pillow", "ipywidgets": "ipywidgets", "ipycanvas": "ipycanvas",
              "nbformat": "nbformat", "nbclient": "nbclient"}}
    missing = [package for module, package in NEEDED.items() if importlib.util.find_spec(module) is None]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)'''


def check_target(repository: str, branch: str) -> None:
    """Refuse a repository that is not OWNER/NAME or a branch name that git would not accept."""
    if not _REPOSITORY.fullmatch(repository) or repository.endswith(".git"):
        raise ValueError(f"{repository!r} is not a GitHub repository; give it as OWNER/NAME, "
                         "e.g. aecourse/autoencoders-with-keras.")
    if not _BRANCH.fullmatch(branch) or ".." in branch or branch.startswith(("/", "-")) or branch.endswith("/"):
        raise ValueError(f"{branch!r} is not a usable branch name (letters, digits, '_', '.', '-' and '/').")


def colab_url(notebook_name: str, repository: str = DEFAULT_REPOSITORY, branch: str = DEFAULT_BRANCH) -> str:
    """The address that opens a course notebook from GitHub in Colab."""
    return f"https://colab.research.google.com/github/{repository}/blob/{branch}/notebooks/{notebook_name}"


def badge(notebook_name: str, repository: str = DEFAULT_REPOSITORY, branch: str = DEFAULT_BRANCH) -> str:
    """The markdown "Open in Colab" badge of a course notebook."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(notebook_name, repository, branch)})"


def setup_source(repository: str = DEFAULT_REPOSITORY, branch: str = DEFAULT_BRANCH) -> str:
    """The source of the bootstrap cell that clones the course on Colab."""
    check_target(repository, branch)
    return _SETUP_SOURCE.format(repository=repository, branch=branch, name=repository.split("/")[1])


def setup_cell(repository: str = DEFAULT_REPOSITORY, branch: str = DEFAULT_BRANCH) -> nbformat.NotebookNode:
    """The bootstrap cell, tagged for tooling and left out of the slides."""
    cell = nbformat.v4.new_code_cell(setup_source(repository, branch))
    cell.metadata["tags"] = [SETUP_TAG]
    cell.metadata["slideshow"] = {"slide_type": "skip"}
    return cell


def with_badge(markdown: str, notebook_name: str, repository: str = DEFAULT_REPOSITORY,
               branch: str = DEFAULT_BRANCH) -> str:
    """The markdown with its badge pointing at the given target; a badge is added after the title if missing."""
    new_badge = badge(notebook_name, repository, branch)
    if BADGE.search(markdown):
        return BADGE.sub(lambda match: new_badge, markdown)
    title, _, rest = markdown.partition("\n")
    return f"{title}\n\n{new_badge}\n{rest}" if rest else f"{title}\n\n{new_badge}"


def _cells_tagged(notebook: nbformat.NotebookNode, tag: str) -> list[int]:
    return [index for index, cell in enumerate(notebook.cells) if tag in cell.get("metadata", {}).get("tags", [])]


def retarget_notebook(notebook: nbformat.NotebookNode, notebook_name: str, repository: str = DEFAULT_REPOSITORY,
                      branch: str = DEFAULT_BRANCH) -> None:
    """Point the title cell's badge and the bootstrap cell at the target, adding either where missing."""
    title = notebook.cells[0] if notebook.cells else None
    if title is None or title.cell_type != "markdown" or not title.source.startswith("# "):
        raise ValueError(f"{notebook_name}: the first cell must be the markdown title ('# ...') that holds the badge.")
    title.source = with_badge(title.source, notebook_name, repository, branch)
    setup = _cells_tagged(notebook, SETUP_TAG)
    if setup:
        # Rewritten whole: an old cell of an earlier template is brought up to date as well.
        notebook.cells[setup[0]].source = setup_source(repository, branch)
        return
    parameters = _cells_tagged(notebook, PARAMETERS_TAG)
    if not parameters:
        raise ValueError(f"{notebook_name}: no cell tagged '{PARAMETERS_TAG}'; the bootstrap cell goes before it.")
    first_code = min(index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    notebook.cells.insert(min(first_code, parameters[0]), setup_cell(repository, branch))


def retarget_readme(text: str, repository: str = DEFAULT_REPOSITORY, branch: str = DEFAULT_BRANCH,
                    previous: set[str] | None = None) -> str:
    """The README with every Colab badge, and every link to the course's repository, pointing at the target.

    The course's repository is the one its badges named before (or `previous`, or the placeholder): links
    to other projects on GitHub stay as they are.
    """
    old = {match["repository"] for match in BADGE.finditer(text)} | (previous or set()) | {DEFAULT_REPOSITORY}
    text = BADGE.sub(lambda match: badge(match["notebook"], repository, branch), text)

    def relink(match: re.Match) -> str:
        name = match["repository"]
        bare = name.removesuffix(".git")
        return f"https://github.com/{repository}{name[len(bare):]}" if bare in old else match[0]

    return REPOSITORY_URL.sub(relink, text)


def retarget(repository: str = DEFAULT_REPOSITORY, branch: str = DEFAULT_BRANCH,
             root: Path = PROJECT_ROOT) -> list[Path]:
    """Point every notebook's badge and bootstrap cell, and the README's badges and links, at the target.

    Returns the files that changed. Nothing is written unless every file can be updated; the notebooks keep
    their outputs (neither cell has any).
    """
    check_target(repository, branch)
    chapters = sorted((root / NOTEBOOKS_DIR.name).glob("[0-9][0-9]_*.ipynb"))
    notebooks = chapters + exercise_notebooks(root / NOTEBOOKS_DIR.name)
    if not chapters:
        raise FileNotFoundError(f"No course notebooks (NN_name.ipynb) in {root / NOTEBOOKS_DIR.name}.")
    previous: set[str] = set()
    updates: dict[Path, str] = {}
    for path in notebooks:
        text = path.read_text(encoding="utf-8")
        notebook = nbformat.reads(text, as_version=4)
        if notebook.cells:
            previous |= {match["repository"] for match in BADGE.finditer(notebook.cells[0].source)}
        retarget_notebook(notebook, path.relative_to(root / NOTEBOOKS_DIR.name).as_posix(), repository, branch)
        new_text = nbformat.writes(notebook)
        updates[path] = new_text if new_text.endswith("\n") else new_text + "\n"  # as nbformat.write() does
    readme = root / "README.md"
    updates[readme] = retarget_readme(readme.read_text(encoding="utf-8"), repository, branch, previous)
    missing = sorted({path.name for path in chapters} - {match["notebook"] for match in BADGE.finditer(updates[readme])})
    if missing:
        raise ValueError(f"{readme} has no Colab badge for {', '.join(missing)}: add a column to its notebook "
                         "table with each notebook's badge (aecourse.colab.badge() writes one), then run this again.")
    changed = [path for path, text in updates.items() if text != path.read_text(encoding="utf-8")]
    for path in changed:
        path.write_text(updates[path], encoding="utf-8")
    return changed
