"""Real-browser checks: headless Chromium runs notebook 03 in JupyterLab, and the interpolation slider must
redraw its figure through the kernel; a slide deck built and shown with the network blocked must present.

Needs Debian's Chromium and Playwright for Python (`apt-get install chromium chromium-driver`,
`pip install -r requirements.txt`); without them the test is skipped. Never `playwright install`:
the course drives the system browser.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from aecourse.commands import slides
from aecourse.paths import NOTEBOOKS_DIR

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import Locator, Page, expect, sync_playwright
except ImportError:  # the skip below says what to install
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
# Chromium's own background connections are refused by closed networks; keep it to the page under test.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NOTEBOOK = NOTEBOOKS_DIR / "03_variational_autoencoder.ipynb"
# Browser-side settings: no news or update checks, and every cell attached to the DOM (no windowing),
# so that locators see the whole notebook.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}
SERVER_START_S, PAGE_LOAD_S, RUN_ALL_S, WIDGET_UPDATE_S = 90, 120, 300, 60

# Kernel status, execution counts and error outputs of the open notebook, from the JupyterLab app object.
NOTEBOOK_STATE_JS = """() => {
    const panel = window.jupyterapp?.shell.currentWidget;
    const kernel = panel?.sessionContext?.session?.kernel;
    const cells = panel?.content?.model?.cells;
    if (!kernel || !cells) return null;
    const state = {status: kernel.status, counts: [], errors: []};
    for (let index = 0; index < cells.length; index++) {
        const cell = cells.get(index);
        if (cell.type !== "code") continue;
        state.counts.push(cell.executionCount);
        for (const output of cell.outputs.toJSON())
            if (output.output_type === "error") state.errors.push(`cell ${index}: ${output.ename}: ${output.evalue}`);
    }
    return state;
}"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sync_playwright is None or not CHROMIUM.is_file(),
                       reason="browser test needs Chromium and Playwright: apt-get install chromium chromium-driver; "
                              "pip install -r requirements.txt"),
]


@dataclass
class Lab:
    """A running JupyterLab server: its base URL and login token."""

    url: str
    token: str


def _write_lab_settings(config_dir: Path) -> None:
    """User settings of the isolated JupyterLab (see LAB_SETTINGS)."""
    for plugin, settings in LAB_SETTINGS.items():
        path = config_dir / "lab" / "user-settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))


def _server_url(runtime_dir: Path, server: subprocess.Popen, log: Path) -> str:
    """Base URL from the server's runtime file, once its REST API answers."""
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {server.returncode}; see {log}")
        for info_file in runtime_dir.glob("jpserver-*.json"):
            info = json.loads(info_file.read_text() or "{}")
            try:
                with urllib.request.urlopen(f"{info['url']}api/status?token={info['token']}", timeout=5):
                    return info["url"]
            except (KeyError, OSError):
                pass  # file half written, or not listening yet
        time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer within {SERVER_START_S} s; see {log}")


def _stop_lab(server: subprocess.Popen, url: str | None, token: str) -> None:
    """Shut the server down through its API (which also stops the kernel), else by SIGTERM, then SIGKILL."""
    try:
        if url is None:
            raise OSError("the server never answered")
        request = urllib.request.Request(f"{url}api/shutdown", method="POST",
                                         headers={"Authorization": f"token {token}"})
        urllib.request.urlopen(request, timeout=10).close()
    except OSError:
        server.terminate()  # on SIGTERM jupyter_server still shuts its kernels down
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """JupyterLab on a free localhost port, with its own config and runtime folders and a copy of notebook 03."""
    token = secrets.token_hex(24)
    log = tmp_path / "jupyterlab.log"
    with tempfile.TemporaryDirectory(prefix="aecourse-lab-") as scratch:
        scratch = Path(scratch)
        root, config_dir, runtime_dir = scratch / "notebooks", scratch / "config", scratch / "runtime"
        root.mkdir()
        # A copy: JupyterLab autosaves, and must never touch the committed notebook.
        shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
        _write_lab_settings(config_dir)
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config_dir), JUPYTER_RUNTIME_DIR=str(runtime_dir),
                   JUPYTER_DATA_DIR=str(scratch / "data"), IPYTHONDIR=str(scratch / "ipython"),
                   JUPYTERLAB_SETTINGS_DIR=str(config_dir / "lab" / "user-settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(config_dir / "lab" / "workspaces"),
                   # The copy lives outside notebooks/, so the kernel finds aecourse (and through it the
                   # repository's weights) on the path; AECOURSE_DATA and AECOURSE_FIGURES pass through.
                   PYTHONPATH=os.pathsep.join(filter(None, [str(NOTEBOOKS_DIR), os.environ.get("PYTHONPATH")])))
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                   "--ServerApp.port=0", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                   f"--ServerApp.root_dir={root}", "--ServerApp.terminals_enabled=False",
                   "--ServerApp.allow_root=True",  # CI runs as root in a container
                   "--LabApp.extension_manager=readonly",  # no PyPI queries from the extension manager
                   "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                   "--LabApp.expose_app_in_browser=True"]  # window.jupyterapp: kernel and cell state
        url = None
        with log.open("w") as log_file:
            server = subprocess.Popen(command, env=env, cwd=root, stdout=log_file, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)
            try:
                url = _server_url(runtime_dir, server, log)
                yield Lab(url, token)
            finally:
                _stop_lab(server, url, token)


@pytest.fixture
def page() -> Iterator[Page]:
    """A page of headless Chromium with a fresh, empty profile."""
    with tempfile.TemporaryDirectory(prefix="aecourse-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def _wait_for_notebook(page: Page, done: Callable[[dict], bool], timeout_s: float, what: str) -> dict:
    """Poll the notebook's state until done(state); on timeout, fail with the last state seen."""
    deadline, state = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        state = page.evaluate(NOTEBOOK_STATE_JS)
        if state is not None and done(state):
            return state
        page.wait_for_timeout(500)
    raise AssertionError(f"{what} within {timeout_s} s; last notebook state: {state}")


def _all_executed(state: dict) -> bool:
    """Every code cell has an execution count and the kernel is idle."""
    return state["status"] == "idle" and None not in state["counts"]


def _figure_digest(image: Locator) -> str | None:
    """Short hash of the one PNG shown by the locator, or None while there is none."""
    sources = image.evaluate_all("images => images.map(image => image.getAttribute('src') || '')")  # no waiting
    if len(sources) != 1 or not sources[0].startswith("data:image/png;base64,"):
        return None
    return "sha256:" + hashlib.sha256(sources[0].encode()).hexdigest()[:12]


def _wait_for_figure(image: Locator, done: Callable[[str | None], bool], timeout_s: float, what: str) -> str:
    """Poll the figure's digest until done(digest); on timeout, fail saying what was expected."""
    deadline, digest = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        digest = _figure_digest(image)
        if done(digest):
            return digest
        image.page.wait_for_timeout(250)
    raise AssertionError(f"{what} within {timeout_s} s (last seen: {digest})")


def _run_notebook_and_move_slider(page: Page, lab: Lab) -> None:
    """Open the copy, Run All Cells from the menu, then drive the interpolation slider."""
    page.goto(f"{lab.url}lab/tree/{NOTEBOOK.name}?token={lab.token}", timeout=PAGE_LOAD_S * 1000)
    _wait_for_notebook(page, lambda state: state["status"] == "idle", PAGE_LOAD_S, "kernel not idle")
    # The training GIFs, stored once as HTML <img> outputs, play in the opened (untrusted) notebook.
    gifs = page.locator('.jp-OutputArea-output img[src^="data:image/gif"]')
    expect(gifs).to_have_count(2)
    assert all(gifs.nth(index).evaluate("image => image.complete && image.naturalWidth > 0") for index in range(2))

    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    # The saved notebook already has execution counts: first see the run start (counts cleared, kernel busy).
    _wait_for_notebook(page, lambda state: not _all_executed(state), 30, "Run All Cells did not start")
    state = _wait_for_notebook(page, _all_executed, RUN_ALL_S, "the notebook did not finish running")
    assert not state["errors"], f"cells raised errors: {state['errors']}"
    assert state["counts"] == list(range(1, len(state["counts"]) + 1)), "cells ran out of order, or twice"

    # The FloatSlider `t` of `interact(show_interpolation, ...)` and the figure in its output widget.
    cell = page.locator(".jp-CodeCell").filter(has_text="interact(show_interpolation")
    expect(cell).to_have_count(1)
    interact = cell.locator(".jp-OutputArea-output .widget-interact")
    slider, image = interact.locator(".widget-slider"), interact.locator(".widget-output img")
    readout = slider.locator(".widget-readout")
    expect(slider.locator(".widget-label")).to_have_text("t")
    expect(readout).to_have_text("0.50")
    initial = _wait_for_figure(image, lambda digest: digest is not None, 10, "no PNG figure in the widget output")

    # Keyboard on the focused noUiSlider handle: End jumps to the maximum, PageDown steps 5 x 0.05 back.
    handle = slider.locator(".noUi-handle")
    handle.focus()
    handle.press("End")
    expect(readout).to_have_text("1.00")
    # Only the kernel can redraw the figure: the readout alone would also change with no kernel behind it.
    _wait_for_figure(image, lambda digest: digest not in (None, initial), WIDGET_UPDATE_S,
                     f"the figure did not change from {initial} after the slider moved to 1.00")
    handle.press("PageDown")
    handle.press("PageDown")
    expect(readout).to_have_text("0.50")
    # Back at t = 0.5 the kernel draws exactly the figure it drew when the cell ran.
    _wait_for_figure(image, lambda digest: digest == initial, WIDGET_UPDATE_S,
                     f"the figure did not return to {initial} with the slider back at 0.50")


# Pixels of the drawing pad's <canvas> that are not transparent.
INKED_PIXELS_JS = """canvas => {
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let index = 3; index < pixels.length; index += 4) inked += pixels[index] > 0;
    return inked;
}"""


def _draw_a_digit(page: Page) -> None:
    """Draw a stroke on the pad of section 9: the figure changes; Clear empties the canvas and the figure."""
    cell = page.locator(".jp-CodeCell").filter(has_text="DrawingPad(on_digit=show_drawing)")
    expect(cell).to_have_count(1)
    canvas = cell.locator(".jp-OutputArea-output canvas").first
    image = cell.locator(".widget-output img")
    initial = _wait_for_figure(image, lambda digest: digest is not None, 10, "no figure under the drawing pad")
    assert canvas.evaluate(INKED_PIXELS_JS) == 0

    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.down()
    for x, y in ((0.7, 0.2), (0.45, 0.8)):  # a 7: across, then down to the left
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=12)
    page.mouse.up()
    _wait_for_figure(image, lambda digest: digest not in (None, initial), WIDGET_UPDATE_S,
                     "the figure did not change after a digit was drawn")
    assert canvas.evaluate(INKED_PIXELS_JS) > 1000, "the stroke is not on the canvas"

    cell.get_by_role("button", name="Clear").click()
    deadline = time.monotonic() + WIDGET_UPDATE_S
    while canvas.evaluate(INKED_PIXELS_JS) > 0 or image.count() > 0:
        assert time.monotonic() < deadline, "Clear did not empty the canvas and the figure"
        page.wait_for_timeout(250)


def test_widgets_redraw_through_the_kernel(lab, page, tmp_path):
    """Run All in JupyterLab; the slider of section 12 and the drawing pad of section 9 redraw their figures."""
    try:
        _run_notebook_and_move_slider(page, lab)
        _draw_a_digit(page)
    except Exception as error:
        screenshot = tmp_path / "jupyterlab.png"
        try:
            page.screenshot(path=screenshot, full_page=True)
            error.add_note(f"screenshot of the page: {screenshot}")
        except PlaywrightError as screenshot_error:  # keep the original failure
            error.add_note(f"no screenshot ({screenshot_error})")
        error.add_note(f"JupyterLab server log: {tmp_path / 'jupyterlab.log'}")
        raise


# The deck's text without the TeX that MathJax keeps in <script type="math/tex"> elements, and its state.
DECK_STATE_JS = """() => {
    const slides = document.querySelector(".reveal .slides").cloneNode(true);
    slides.querySelectorAll("script, style").forEach(element => element.remove());
    const images = [...document.querySelectorAll(".reveal .slides img")];
    return {
        text: slides.textContent,
        sources: document.querySelectorAll('.reveal .slides script[type^="math/tex"]').length,
        typeset: document.querySelectorAll(".reveal .slides .MathJax").length,
        errors: document.querySelectorAll(".reveal .slides .MathJax_Error, .reveal .slides .merror").length,
        images: images.length,
        gifs: images.filter(image => image.src.startsWith("data:image/gif")).length,
        broken: images.filter(image => !image.complete || image.naturalWidth === 0).map(image => image.alt),
    };
}"""
RAW_TEX = re.compile(r"\$\$|\\(frac|mathrm|mathcal|sum|log)\b")


def _refuse_network(*args, **kwargs):
    raise OSError("network blocked by the test")


def test_offline_deck_presents_with_the_network_blocked(page, tmp_path, monkeypatch):
    """Notebook 03's deck, built and shown offline: arrow keys advance, formulas typeset, figures and GIFs show."""
    with monkeypatch.context() as offline:
        offline.setattr(socket.socket, "connect", _refuse_network)  # building must not need the network
        deck = slides.export(NOTEBOOK, tmp_path / "slides")
    requested = []

    def file_only(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            requested.append(route.request.url)
            route.abort("internetdisconnected")

    page.context.route("**/*", file_only)
    page.goto(deck.as_uri(), timeout=PAGE_LOAD_S * 1000)
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
    page.wait_for_function("""() => new Promise(done => MathJax.Hub.Queue(() => done(true)))""", timeout=60_000)

    state = page.evaluate(DECK_STATE_JS)
    assert requested == [], "the deck asked the network for these"
    assert state["sources"] > 20 and state["typeset"] == state["sources"] and state["errors"] == 0, state
    assert not RAW_TEX.search(state["text"]), RAW_TEX.search(state["text"])
    def is_gif(data: dict) -> bool:  # animation() stores a GIF once, as an HTML <img>
        return 'src="data:image/gif' in "".join(data.get("text/html", ""))

    shown = [output["data"] for cell in nbformat.read(NOTEBOOK, as_version=4).cells if cell.cell_type == "code"
             and cell.metadata["slideshow"]["slide_type"] != "skip" for output in cell.outputs
             if "image/png" in output.get("data", {}) or is_gif(output.get("data", {}))]
    assert state["images"] == len(shown) and state["gifs"] == sum(is_gif(data) for data in shown) > 0, state
    assert state["broken"] == [], state

    total = page.evaluate("() => Reveal.getTotalSlides()")
    assert total > 20
    page.locator(".reveal").click()  # focus, as the presenter's first click does
    where = "() => [Reveal.getIndices().h, Reveal.getIndices().v]"
    visited = [page.evaluate(where)]
    for key in ("ArrowRight", "ArrowRight", "ArrowLeft"):
        page.keyboard.press(key)
        page.wait_for_timeout(300)
        visited.append(page.evaluate(where))
    assert visited == [[0, 0], [1, 0], [2, 0], [1, 0]], f"arrow keys moved through slides {visited}"
