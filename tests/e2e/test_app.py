"""The phone app's web build in a real headless Chromium against the real service (`python -m worker.serve`, as
`make serve` runs it: gunicorn + Celery workers + real engines), serving mobile/dist at /.

Debian's /usr/bin/chromium only (never a downloaded browser), a fresh profile per test. Tiny generated images and
small sizes keep it short on 2 cores. Screenshots land in E2E_SHOTS (default /tmp/e2e-*.png).
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.harness import Serve, free_port
from worker import settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
DIST = settings.get().WEB_DIR  # the web build the served app uses (WEB_DIR)
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("E2E_SHOTS", "/tmp"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def missing(what: str, fix: str):
    """In CI a missing prerequisite is a failure; on a dev box a skip that says how to get it."""
    msg = f"{what} is missing: {fix}"
    if os.environ.get("CI"):
        pytest.fail(msg)
    print(f"SKIP: {msg}")
    pytest.skip(msg)


@pytest.fixture(scope="module")
def server():
    if not (DIST / "index.html").is_file():
        missing("the web build (mobile/dist)", "run `make web`")
    # Its own directory, not pytest's tmp: a concurrent pytest prunes old pytest tmp dirs under a live server.
    # No REDIS_URL: the embedded default, what a fresh `make serve` runs.
    tmp = Path(tempfile.mkdtemp(prefix="e2e-serve-"))
    s = Serve(tmp, env={"WEB_DIR": str(DIST)})
    try:
        s.wait_ready(timeout=180)
        yield s.url
    finally:
        s.stop(signal.SIGTERM, timeout=30)  # serve stops its gunicorn and workers
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def page():
    if not Path(CHROMIUM).exists():
        missing(CHROMIUM, "apt-get install chromium (.ci/run does it)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        profile = tempfile.mkdtemp(prefix="e2e-chromium-")  # a fresh, empty profile per test
        ctx = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM,
                                                    headless=True, args=ARGS, viewport=PHONE)
        pg = ctx.pages[0] if ctx.pages else ctx.new_page()
        pg.set_default_timeout(30_000)
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        yield pg
        ctx.close()
        shutil.rmtree(profile, ignore_errors=True)
        assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    """A small 'photo': sky, sun, hills; enough structure for a style to show."""
    img = Image.new("RGB", (160, 120), (120, 170, 230))
    d = ImageDraw.Draw(img)
    d.ellipse((100, 12, 136, 48), fill=(250, 220, 80))
    d.polygon([(0, 120), (0, 80), (50, 55), (100, 85), (160, 60), (160, 120)], fill=(60, 130, 60))
    d.rectangle((30, 80, 60, 110), fill=(160, 60, 40))
    path = tmp_path_factory.mktemp("img") / "photo.jpg"
    img.save(path, "JPEG", quality=90)
    return path


@pytest.fixture(scope="module")
def style_image(tmp_path_factory) -> Path:
    """Bold diagonal stripes: a style Gatys can pick up in a few steps."""
    img = Image.new("RGB", (96, 96), (30, 30, 60))
    d = ImageDraw.Draw(img)
    for x in range(-96, 96, 16):
        d.line([(x, 0), (x + 96, 96)], fill=(240, 120, 30), width=6)
    path = tmp_path_factory.mktemp("img") / "style.png"
    img.save(path, "PNG")
    return path


def tid(page, name: str):
    """The visible element with this testID (forms on hidden tabs stay mounted, so ids repeat across tabs)."""
    return page.locator(f'[data-testid="{name}"]:visible')


def shot(page, name: str, tall: int = 0) -> None:
    """The app scrolls inside its own view, so a full-page shot is the viewport; `tall` grows it for one shot."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    if tall:
        page.set_viewport_size({"width": size["width"], "height": tall})
    page.screenshot(path=str(SHOTS / f"e2e-{name}.png"))
    if tall:
        page.set_viewport_size(size)


def image_loaded(page, test_id: str, timeout: float = 30) -> bool:
    """react-native-web renders an Image as a div with a hidden <img>: it has loaded when naturalWidth > 0."""
    img = page.locator(f'[data-testid="{test_id}"]:visible img')
    end = time.time() + timeout
    while time.time() < end:
        if img.count() and img.first.evaluate("i => i.complete && i.naturalWidth > 0"):
            return True
        time.sleep(0.25)
    return False


def pick(page, button: str, path: Path, shown: str) -> None:
    """The web image picker opens a file input: answer its file chooser, wait for the picked image to show."""
    with page.expect_file_chooser() as fc:
        tid(page, button).click()
    fc.value.set_files(str(path))
    page.locator(f'[aria-label="{shown}"]:visible').wait_for()


def pick_photo(page, photo: Path) -> None:
    pick(page, "content-pick", photo, "Your photo")


def open_app(page, url: str) -> None:
    page.goto(url)
    tid(page, "preset-0").wait_for()
    assert image_loaded(page, "preset-0"), "preset thumbnail did not load"


def small(page) -> None:
    tid(page, "advanced-toggle").click()
    tid(page, "size-256").click()


def test_stylize_fast_with_a_preset(server, page, photo):
    open_app(page, server)
    assert page.locator('[data-testid^="preset-"]:visible').count() == 26
    pick_photo(page, photo)
    tid(page, "preset-3").click()
    assert tid(page, "preset-3").get_attribute("aria-checked") == "true"
    small(page)
    shot(page, "stylize-form", tall=2200)
    tid(page, "submit").click()
    tid(page, "job-status").wait_for()
    tid(page, "result-image").wait_for(timeout=120_000)
    assert tid(page, "job-status").inner_text() == "Done"
    assert image_loaded(page, "result-image"), "the result image did not load"
    assert image_loaded(page, "before-image"), "the before image did not load"
    assert tid(page, "save-result").inner_text() == "Download"
    tid(page, "share-result").wait_for()
    shot(page, "stylize-result")
    with page.expect_download() as dl:
        tid(page, "save-result").click()
    path = dl.value.path()
    assert Image.open(path).format == "PNG" and max(Image.open(path).size) == 256
    # the job is in the history with its thumbnail, marked done
    tid(page, "history-tab").click()
    item = page.locator('[data-testid^="history-item-"]')
    assert item.count() == 1
    assert "done" in item.first.inner_text()


def test_progress_and_cancel_a_gatys_job(server, page, photo, style_image):
    open_app(page, server)
    pick_photo(page, photo)
    tid(page, "engine-gatys").click()
    # Best quality paints from a style image (presets are Fast networks): the form asks for one
    assert "needs your own style image" in tid(page, "submit-hint").inner_text()
    assert tid(page, "submit").get_attribute("aria-disabled") == "true"
    pick(page, "style-pick", style_image, "Your style image")
    small(page)
    # 60 steps: a snapshot every 6 (worker.tasks.snapshot_every), and still running when we cancel
    tid(page, "steps").fill("60")
    tid(page, "submit").click()
    tid(page, "job-progress").wait_for()
    status = tid(page, "job-status")
    page.wait_for_function(
        "() => /step [1-9]\\d*\\/60/.test(document.querySelector('[data-testid=job-status]')?.innerText || '')",
        timeout=120_000)
    assert re.search(r"step \d+/60", status.inner_text())
    assert tid(page, "job-progress").get_attribute("aria-valuenow") is not None
    assert image_loaded(page, "job-preview", timeout=90), "no live preview while painting"
    assert "Painting" in status.inner_text(), status.inner_text()
    shot(page, "gatys-running")
    # an app restart (reload) opens the running job again from the stored history and keeps polling it
    page.reload()
    page.wait_for_function(
        "() => /^Painting · step \\d+\\/60/.test(document.querySelector('[data-testid=job-status]')?.innerText || '')",
        timeout=30_000)
    tid(page, "cancel").click()
    tid(page, "cancel-yes").click()  # Cancel asks first
    page.wait_for_function(
        "() => document.querySelector('[data-testid=job-status]')?.innerText === 'Canceled'", timeout=60_000)
    assert tid(page, "cancel").count() == 0
    tid(page, "run-again").wait_for()
    tid(page, "history-tab").click()
    assert "canceled" in page.locator('[data-testid^="history-item-"]').first.inner_text()


def paint_portrait(page, preset: int, title: str) -> None:
    """A fast portrait at 256 px with this preset, to the end: its job page shows `title`, then Done."""
    tid(page, f"preset-{preset}").click()
    tid(page, "engine-fast").click()
    small(page)
    tid(page, "portrait-generate").click()
    tid(page, "job-status").wait_for()
    assert title in page.inner_text("body")
    page.wait_for_function(
        "() => ['Done', 'Canceled'].includes(document.querySelector('[data-testid=job-status]')?.innerText)"
        " || /^Failed/.test(document.querySelector('[data-testid=job-status]')?.innerText || '')", timeout=120_000)
    assert tid(page, "job-status").inner_text() == "Done"


def test_portrait(server, page):
    page.set_viewport_size(DESKTOP)
    open_app(page, server)
    tid(page, "portrait-tab").click()
    seed = tid(page, "portrait-seed").inner_text()
    tid(page, "portrait-new-face").click()
    assert tid(page, "portrait-seed").inner_text() != seed
    paint_portrait(page, preset=5, title="face #")
    assert image_loaded(page, "result-image"), "the portrait did not load"
    assert image_loaded(page, "before-image"), "the generated face did not load"
    assert page.locator('[aria-label="The generated face"]:visible').count() == 1
    shot(page, "portrait-result", tall=1100)


@pytest.fixture(scope="module")
def face_photo(tmp_path_factory) -> Path:
    """A 'photo' with a face in it: a DCGAN face pasted onto a gradient (tests make their own images)."""
    from tests.test_faces import gan_photo
    from worker.core.images import to_image

    path = tmp_path_factory.mktemp("face") / "me.png"
    to_image(gan_photo()).save(path)
    return path


def test_portrait_from_a_photo(server, page, face_photo):
    page.set_viewport_size(DESKTOP)
    open_app(page, server)
    tid(page, "portrait-tab").click()
    tid(page, "portrait-from-photo").click()
    assert tid(page, "portrait-seed").count() == 0  # the seed belongs to "New face"
    pick(page, "portrait-photo-pick", face_photo, "Your portrait photo")
    paint_portrait(page, preset=7, title="from your photo")
    assert image_loaded(page, "result-image"), "the portrait did not load"
    assert image_loaded(page, "before-image"), "the aligned face (urls.face) did not load"
    shot(page, "portrait-photo-result", tall=1100)


def test_server_down_shows_errors(server, page):
    open_app(page, server)
    tid(page, "settings-tab").click()
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    tid(page, "server-url").fill(dead)
    tid(page, "server-save").click()
    tid(page, "settings-note").wait_for()
    tid(page, "server-test").click()
    assert "unreachable" in tid(page, "settings-error").inner_text()
    tid(page, "stylize-tab").click()
    err = tid(page, "styles-error")
    err.wait_for()
    assert "Could not load the styles" in err.inner_text() and dead in err.inner_text()
    shot(page, "server-down")
    # back to the real server: Retry recovers
    tid(page, "settings-tab").click()
    tid(page, "server-reset").click()
    tid(page, "stylize-tab").click()
    tid(page, "preset-0").wait_for()
