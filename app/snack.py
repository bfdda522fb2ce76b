"""GET /api/snack: the fields the "Open in Expo Snack" form posts to https://snack.expo.dev (expo/snack's
docs/url-query-parameters.md): name, description, platform, supportedPlatforms, sdkVersion, dependencies
(comma-separated name@version) and files (a JSON string: {path: {type: "CODE", contents}}).

The files are the app's own source (mobile/App.tsx and mobile/src, read from disk, never fetched), with
src/lib/snack.ts filled in with the address a phone should use, so the app in Snack talks to this server with no
typing. The address: PUBLIC_URL when set; else the address the request came in on when that is not a loopback
one; else this machine's LAN address with the server's port. `server` is null and `warning` says what to set when
none is found. No API key is ever put in the payload (a Snack is public): the user types it in the app's Settings.
"""
from __future__ import annotations

import ipaddress
import json
import re
import socket
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request

from app.errors import APIError

bp = Blueprint("snack", __name__, url_prefix="/api")

MOBILE = Path(__file__).resolve().parent.parent / "mobile"
CONFIG = "src/lib/snack.ts"  # the one file whose contents the payload fills in
# Snack's runtime bundles these itself; listing them would pin versions it does not offer.
BUILT_IN = {"react", "react-native", "react-dom", "react-native-web", "expo", "@expo/metro-runtime"}
IMPORT = re.compile(r"""(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*|^\s*import\s+)['"]([^'"./][^'"]*)['"]""", re.M)


def source_files(root: Path = MOBILE) -> dict[str, str]:
    """App.tsx and everything under src/, keyed by the path relative to mobile/ (as the app imports them)."""
    paths = [root / "App.tsx", *sorted(p for p in (root / "src").rglob("*") if p.is_file())]
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in paths}


def package_name(spec: str) -> str:
    parts = spec.split("/")
    return "/".join(parts[:2]) if spec.startswith("@") else parts[0]


def dependencies(files: dict[str, str], package: dict) -> list[str]:
    """name@version for every package the files import that package.json lists, except Snack's built-ins."""
    deps = package.get("dependencies", {})
    used = {package_name(m) for text in files.values() for m in IMPORT.findall(text)}
    missing = used - set(deps) - BUILT_IN
    if missing:  # an import package.json does not list would fail in Snack as it fails in `npm ci`
        raise RuntimeError(f"imported but not in mobile/package.json: {sorted(missing)}")
    return [f"{name}@{deps[name]}" for name in sorted(used - BUILT_IN)]


def sdk_version(package: dict) -> str:
    """Expo SDK N is expo@N.x.y; Snack names it "N.0.0"."""
    major = re.match(r"\D*(\d+)", package["dependencies"]["expo"]).group(1)
    return f"{major}.0.0"


def is_loopback(host: str) -> bool:
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def lan_ip() -> str | None:
    """The address of the interface that routes to a private network, i.e. the one a phone on the same Wi-Fi
    reaches. A UDP connect() sends nothing; it only makes the kernel pick the outgoing interface."""
    for probe in ("10.255.255.255", "192.168.255.255", "172.31.255.255"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                ip = s.getsockname()[0]
        except OSError:
            continue
        if ip and not ipaddress.ip_address(ip).is_loopback and ip != "0.0.0.0":
            return ip
    return None


def server_address(public_url: str, host_url: str, port: int | None) -> tuple[str | None, str]:
    """(address or None, where it came from / what to do)."""
    if public_url:
        return public_url.rstrip("/"), "PUBLIC_URL"
    scheme, _, hostport = host_url.rstrip("/").partition("://")
    host = hostport.rsplit(":", 1)[0] if not hostport.endswith("]") else hostport
    if not is_loopback(host):
        return f"{scheme}://{hostport}", "the address this page was opened with"
    ip = lan_ip()
    if ip is None:
        return None, ("no LAN address found (this machine has no network interface besides loopback): set "
                      "PUBLIC_URL to an address your phone can reach, e.g. PUBLIC_URL=http://192.168.1.20:5000, "
                      "or type the address in the app's Settings")
    return f"http://{ip}:{port}" if port else f"http://{ip}", "this machine's LAN address"


def config_file(server: str | None) -> str:
    return ("// Filled in by the server's GET /api/snack: the address the app in Snack talks to.\n"
            f"export const SNACK_SERVER: string = {json.dumps(server or '')};\n")


def payload(server: str | None, root: Path = MOBILE) -> dict:
    files = source_files(root)
    package = json.loads((root / "package.json").read_text())
    files[CONFIG] = config_file(server)
    return {
        "name": "Neural Art",
        "description": "Paint photos in a style and make GAN portraits, on your own neural-art server"
                       + (f" at {server}" if server else "") + ".",
        "platform": "mydevice",
        "supportedPlatforms": "mydevice,ios,android,web",
        "sdkVersion": sdk_version(package),
        "dependencies": ",".join(dependencies(files, package)),
        "files": json.dumps({path: {"type": "CODE", "contents": text} for path, text in files.items()}),
    }


@bp.get("/snack")
def snack():
    if not (MOBILE / "App.tsx").is_file():
        raise APIError(503, "snack_unavailable", f"this server has no copy of the app's source ({MOBILE}/App.tsx and "
                       "src/); run it from the repository, or build the api image with mobile/App.tsx, "
                       "mobile/src and mobile/package.json copied in")
    port = request.host.rsplit(":", 1)[1] if re.search(r":\d+$", request.host) else None  # none: 80/443
    public = current_app.config.get("PUBLIC_URL") or ""
    server, why = server_address(public, request.host_url, int(port) if port else None)
    body = {"url": "https://snack.expo.dev", "method": "POST", "fields": payload(server), "server": server}
    if server is None:
        body["warning"] = why
    else:
        body["server_from"] = why
    return jsonify(body)
