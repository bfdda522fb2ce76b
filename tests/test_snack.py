"""GET /api/snack: the Open in Expo Snack payload (the app's own files, its dependencies and SDK, the address)."""
from __future__ import annotations

import json
import re
import subprocess

import pytest

from app import create_app, snack

ROOT = snack.MOBILE.parent
PACKAGE = json.loads((snack.MOBILE / "package.json").read_text())


@pytest.fixture
def make(tmp_path, monkeypatch):
    for name in ("API_KEYS", "PUBLIC_URL", "RATE_LIMIT"):
        monkeypatch.delenv(name, raising=False)

    def build(**cfg):
        return create_app({"VAR_DIR": str(tmp_path), "RATE_LIMIT": "", **cfg}).test_client()
    return build


def fields(resp):
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["fields"]


def test_files_are_what_git_tracks_with_the_address_filled_in(make, monkeypatch):
    monkeypatch.setattr(snack, "lan_ip", lambda: "192.168.1.20")
    body = make().get("/api/snack", base_url="http://localhost:5000").get_json()
    files = json.loads(body["fields"]["files"])
    tracked = subprocess.run(["git", "ls-files", "mobile/App.tsx", "mobile/src"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
    assert sorted(files) == sorted(p.removeprefix("mobile/") for p in tracked)
    for path, f in files.items():
        assert f["type"] == "CODE"
        if path != snack.CONFIG:
            assert f["contents"] == (snack.MOBILE / path).read_text(), path
    # The one generated file: the repo's copy is empty, the payload's names this server.
    assert 'SNACK_SERVER: string = ""' in (snack.MOBILE / snack.CONFIG).read_text()
    assert 'SNACK_SERVER: string = "http://192.168.1.20:5000"' in files[snack.CONFIG]["contents"]
    assert body["server"] == "http://192.168.1.20:5000"


def test_dependencies_and_sdk_come_from_package_json(make):
    f = fields(make().get("/api/snack"))
    assert f["sdkVersion"] == PACKAGE["dependencies"]["expo"].split(".")[0] + ".0.0" == "56.0.0"
    deps = dict(d.rsplit("@", 1) for d in f["dependencies"].split(","))
    for name, version in deps.items():
        assert PACKAGE["dependencies"][name] == version
    # every package the source imports is listed (Snack's own runtime packages aside), and nothing else
    text = "".join(c["contents"] for c in json.loads(f["files"]).values())
    imported = {snack.package_name(m) for m in snack.IMPORT.findall(text)}
    assert set(deps) == imported - snack.BUILT_IN
    assert {"expo-image-picker", "@react-native-async-storage/async-storage"} <= set(deps)
    assert {"react", "react-native", "expo"}.isdisjoint(deps)
    assert f["name"] and f["platform"] in ("mydevice", "ios", "android", "web")


def test_an_import_package_json_lacks_is_an_error():
    with pytest.raises(RuntimeError, match="left-pad"):
        snack.dependencies({"a.ts": "import pad from 'left-pad';"}, {"dependencies": {}})
    assert snack.dependencies({"a.ts": "const x = require('expo-file-system/legacy');\nimport {A} from './b';"},
                              {"dependencies": {"expo-file-system": "56.0.11"}}) == ["expo-file-system@56.0.11"]


def test_public_url_wins(make, monkeypatch):
    monkeypatch.setattr(snack, "lan_ip", lambda: "192.168.1.20")
    monkeypatch.setenv("PUBLIC_URL", "https://art.example.org/")
    body = make().get("/api/snack", base_url="http://10.0.0.5:5000").get_json()
    assert body["server"] == "https://art.example.org"
    assert '"https://art.example.org"' in json.loads(body["fields"]["files"])[snack.CONFIG]["contents"]


def test_the_address_the_page_came_in_on_when_not_loopback(make, monkeypatch):
    monkeypatch.setattr(snack, "lan_ip", lambda: pytest.fail("not needed"))
    assert make().get("/api/snack", base_url="http://192.168.1.7:5000").get_json()["server"] == "http://192.168.1.7:5000"


def test_on_localhost_the_lan_address_with_the_port(make, monkeypatch):
    monkeypatch.setattr(snack, "lan_ip", lambda: "10.1.2.3")
    for host in ("http://localhost:8123", "http://127.0.0.1:8123", "http://[::1]:8123"):
        assert make().get("/api/snack", base_url=host).get_json()["server"] == "http://10.1.2.3:8123", host


def test_no_lan_address_says_what_to_set(make, monkeypatch):
    monkeypatch.setattr(snack, "lan_ip", lambda: None)
    body = make().get("/api/snack", base_url="http://127.0.0.1:5000").get_json()
    assert body["server"] is None
    assert "PUBLIC_URL" in body["warning"] and "Settings" in body["warning"]
    assert 'SNACK_SERVER: string = ""' in json.loads(body["fields"]["files"])[snack.CONFIG]["contents"]


def test_lan_ip_is_never_loopback():
    ip = snack.lan_ip()
    assert ip is None or re.match(r"^\d+\.\d+\.\d+\.\d+$", ip) and not ip.startswith("127.")


def test_needs_a_key_when_keys_are_set_and_never_contains_one(make):
    client = make(API_KEYS="sekrit-key-1")
    assert client.get("/api/snack").status_code == 401
    resp = client.get("/api/snack", headers={"Authorization": "Bearer sekrit-key-1"})
    assert resp.status_code == 200 and "sekrit" not in resp.get_data(as_text=True)


def test_without_the_apps_source_a_clear_503(make, monkeypatch, tmp_path):
    monkeypatch.setattr(snack, "MOBILE", tmp_path / "mobile")
    r = make().get("/api/snack")
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "snack_unavailable"
    assert "mobile/src" in r.get_json()["error"]["message"]
