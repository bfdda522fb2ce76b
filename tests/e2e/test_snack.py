"""Open in Expo Snack, in the web build in headless Debian Chromium against the real API (`python -m worker.serve`
with no workers: nothing here paints). The click's form POST to snack.expo.dev is caught by a Playwright route and
aborted, so nothing leaves the machine. Also the first screen and the page's structure: what the app says it is,
one visible element per testID on every tab, the presets as one keyboard radio group.
"""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from tests.e2e.test_app import DESKTOP, DIST, PHONE, missing, page, shot, tid  # noqa: F401 (page: the fixture)
from tests.harness import Serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
SNACK = "https://snack.expo.dev"


def serve(env: dict):
    if not (DIST / "index.html").is_file():
        missing("the web build (mobile/dist)", "run `make web`")
    tmp = Path(tempfile.mkdtemp(prefix="e2e-snack-"))
    s = Serve(tmp, env={"WEB_DIR": str(DIST), "WORKER_QUEUES": "", **env})  # the API only
    try:
        s.wait_ready(lambda h: "status" in h, timeout=90)
        yield s
    finally:
        s.stop(signal.SIGTERM, timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def lan():
    yield from serve({"PUBLIC_URL": ""})


@pytest.fixture(scope="module")
def public():
    yield from serve({"PUBLIC_URL": "http://192.168.1.20:5000"})


def tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files", "mobile/App.tsx", "mobile/src"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.split()
    return sorted(p.removeprefix("mobile/") for p in out)


def open_snack(page, url: str) -> dict:
    """Settings -> Open in Expo Snack; returns the form fields of the POST it sent (caught and aborted)."""
    sent = []

    def catch(route):
        sent.append(route.request)
        route.abort()
    page.context.route(f"{SNACK}/**", catch)
    page.context.route(SNACK, catch)
    page.goto(url)
    tid(page, "settings-tab").click()
    button = tid(page, "open-snack")
    button.wait_for()
    page.locator('[data-testid="open-snack"]:visible:not([aria-disabled="true"])').wait_for()  # the form is loaded
    shot(page, f"snack-settings-{page.viewport_size['width']}")
    with page.context.expect_page() as popup:  # target=_blank: the form opens Snack in a new tab
        button.click()
    popup.value.wait_for_load_state()
    assert len(sent) == 1, f"expected one request to Snack, got {len(sent)}"
    req = sent[0]
    assert req.method == "POST" and req.url.rstrip("/") == SNACK
    assert req.headers["content-type"].startswith("application/x-www-form-urlencoded")
    fields = {k: v[0] for k, v in parse_qs(req.post_data, keep_blank_values=True).items()}
    tid(page, "snack-note").wait_for()
    popup.value.close()
    return fields


def check_payload(fields: dict, api: dict) -> dict:
    """The POSTed fields are the API's payload; its files are the app's tracked source. Returns the files."""
    assert fields == api["fields"]
    package = json.loads((ROOT / "mobile" / "package.json").read_text())
    assert fields["sdkVersion"] == package["dependencies"]["expo"].split(".")[0] + ".0.0"
    for dep in fields["dependencies"].split(","):
        name, version = dep.rsplit("@", 1)
        assert package["dependencies"][name] == version
    files = json.loads(fields["files"])
    assert sorted(files) == tracked()
    assert (ROOT / "mobile" / "App.tsx").read_text() == files["App.tsx"]["contents"]
    return files


def test_open_in_snack_posts_the_app_with_the_lan_address(lan, page):
    api = lan.get("/api/snack")
    fields = open_snack(page, lan.url)
    files = check_payload(fields, api)
    config = files["src/lib/snack.ts"]["contents"]
    if api["server"] is None:  # a machine with no LAN interface: the page says what to set
        assert "PUBLIC_URL" in tid(page, "snack-warning").inner_text()
        assert 'SNACK_SERVER: string = ""' in config
    else:  # the page was opened on 127.0.0.1: the phone gets this machine's LAN address and the server's port
        assert not api["server"].startswith(("http://127.", "http://localhost"))
        assert api["server"].endswith(f":{lan.port}")
        assert f'SNACK_SERVER: string = "{api["server"]}"' in config
        assert api["server"] in tid(page, "open-snack").locator("xpath=..").inner_text()


def test_open_in_snack_uses_public_url_on_a_desktop(public, page):
    page.set_viewport_size(DESKTOP)
    files = check_payload(open_snack(page, public.url), public.get("/api/snack"))
    assert 'SNACK_SERVER: string = "http://192.168.1.20:5000"' in files["src/lib/snack.ts"]["contents"]
    shot(page, "snack-desktop")


VISIBLE_IDS = """() => {
  const seen = {};
  for (const el of document.querySelectorAll('[data-testid]')) {
    const r = el.getBoundingClientRect();
    if (!el.checkVisibility() || r.width === 0 || r.height === 0) continue;
    const id = el.getAttribute('data-testid');
    seen[id] = (seen[id] || 0) + 1;
  }
  return seen;
}"""


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_first_screen_says_what_it_is_and_each_testid_shows_once(public, page, size):
    page.set_viewport_size(size)
    page.goto(public.url)
    tid(page, "preset-0").wait_for()
    intro = tid(page, "intro").inner_text()
    assert "own server" in intro and public.url in intro
    # one level-1 heading, the sections below it at level 2
    assert page.locator("h1:visible").all_inner_texts() == ["Neural Art"]
    assert page.locator("h2:visible").count() >= 3
    shot(page, f"first-screen-{size['width']}", tall=1800 if size == PHONE else 0)
    for tab in ("stylize", "portrait", "history", "settings"):
        tid(page, f"{tab}-tab").click()
        counts = page.evaluate(VISIBLE_IDS)
        assert counts.get(f"{tab}-tab") == 1
        assert not {k: n for k, n in counts.items() if n > 1}, f"{tab}: testIDs shown more than once"
    # the tab bar lines up with the content column instead of spanning a wide window
    bar = tid(page, "stylize-tab").locator("xpath=..").bounding_box()
    assert bar["width"] <= min(size["width"], 760) + 1


def test_presets_are_one_keyboard_radio_group(public, page):
    page.goto(public.url)
    tid(page, "preset-0").wait_for()
    presets = page.locator('[role="radiogroup"][aria-label="Preset styles"]:visible [role="radio"]')
    assert presets.count() == 26
    tabbable = page.locator('[role="radiogroup"][aria-label="Preset styles"]:visible [role="radio"][tabindex="0"]')
    assert tabbable.count() == 1  # one Tab stop for the whole group
    tabbable.focus()
    assert tid(page, "preset-0").get_attribute("aria-checked") == "false"
    page.keyboard.press("Space")  # Space (or Enter) selects the focused preset
    assert tid(page, "preset-0").get_attribute("aria-checked") == "true"
    page.keyboard.press("ArrowRight")
    assert tid(page, "preset-1").get_attribute("aria-checked") == "true"
    assert page.evaluate("document.activeElement.dataset.testid") == "preset-1"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.dataset.testid") == "preset-25"
    assert tid(page, "preset-25").get_attribute("aria-checked") == "true"
    page.keyboard.press("Tab")  # leaves the group at once
    assert not (page.evaluate("document.activeElement.dataset.testid || ''")).startswith("preset-")
    # captions are readable, and on a phone the tiles fill the row (no empty strip at the right)
    assert page.locator('[data-testid="preset-0"]:visible div[dir="auto"]').evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)") >= 13
    grid = page.locator('[role="radiogroup"][aria-label="Preset styles"]:visible').bounding_box()
    first = tid(page, "preset-0").bounding_box()
    row = [tid(page, f"preset-{i}").bounding_box() for i in range(26)]
    right = max(b["x"] + b["width"] for b in row if abs(b["y"] - first["y"]) < 1)
    assert grid["x"] + grid["width"] - right < 4


@pytest.fixture(scope="module")
def keyed():
    yield from serve({"PUBLIC_URL": "http://192.168.1.20:5000", "API_KEYS": "e2e-key-1"})


def test_api_key_in_settings_unlocks_the_app(keyed, page):
    page.goto(keyed.url)
    err = tid(page, "styles-error")
    err.wait_for()
    assert "API key" in err.inner_text() and "Settings" in err.inner_text()
    tid(page, "settings-tab").click()
    assert "API key" in tid(page, "snack-error").inner_text()  # /api/snack needs the key too
    tid(page, "api-key").fill("e2e-key-1")
    requests = []
    page.on("request", lambda r: requests.append(r) if "/api/" in r.url else None)
    tid(page, "server-save").click()
    assert "with an API key" in tid(page, "settings-note").inner_text()
    page.locator('[data-testid="open-snack"]:visible:not([aria-disabled="true"])').wait_for()
    tid(page, "stylize-tab").click()
    tid(page, "preset-0").wait_for()
    api = [r for r in requests if "/api/styles/" not in r.url]  # thumbnails are public
    assert api and all(r.headers.get("authorization") == "Bearer e2e-key-1" for r in api), [r.url for r in api]
    # kept across a reload, like the server URL
    page.reload()
    tid(page, "preset-0").wait_for()
    shot(page, "api-key-ok")
