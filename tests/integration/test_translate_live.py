"""engine=translate for real: a tiny CycleGAN generator in the official key layout, saved as safetensors into a
temporary MODELS_DIR/translate, served by `python -m worker.serve` (gunicorn + a Celery worker on the fast queue
ONLY, so the job can only finish if the API put it there), over real HTTP, on the embedded default.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from tests.harness import Serve
from tests.integration.test_service_live import CONTENT, result_image

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MODEL = "tiny_monet"


def save_tiny_cyclegan(models) -> None:
    import torch
    from safetensors.torch import save_file

    from worker.core.cyclegan import ResnetGenerator

    torch.manual_seed(0)
    net = ResnetGenerator(ngf=4, n_blocks=9)  # official resnet_9blocks layout, 1/16 of the channels
    folder = models / "translate"
    folder.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(folder / f"{MODEL}.safetensors"))
    (folder / f"{MODEL}.json").write_text(json.dumps({"family": "resnet", "direction": "A->B", "size": 64}))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("translate")
    models = tmp / "models"
    save_tiny_cyclegan(models)
    # WARM_MODELS=0: this MODELS_DIR has no bundled models to warm up
    s = Serve(tmp, env={"MODELS_DIR": str(models), "WORKER_QUEUES": "fast", "WARM_MODELS": "0"}, content=CONTENT)
    s.models = models
    try:
        s.wait_ready(lambda h: h["workers"]["queues"] == ["fast"], timeout=120)
        yield s
    finally:
        s.stop()


def test_translate_job_runs_the_dropped_in_model(server):
    listed = server.get("/api/generators")
    assert [m["name"] for m in listed["translate"]] == [MODEL] and listed["generators"] == []
    assert listed["translate"][0]["family"] == "resnet"

    job = server.submit({"engine": "translate", "model": MODEL, "size": "64"})
    assert job["params"] == {"engine": "translate", "size": 64, "model": MODEL}
    done = server.wait(job["id"], timeout=120)
    assert done["status"] == "succeeded", (done, server.tail())
    got = result_image(server, done)
    assert got.size == (64, 48)

    # The same model in this process gives the same picture: the worker really ran it, on the stored content.
    from worker.engines import translate
    want = translate.run(Image.open(io.BytesIO(CONTENT)).convert("RGB"), model=MODEL, size=64, device="cpu",
                         models_root=server.models)
    diff = np.abs(np.asarray(got, np.int16) - np.asarray(want, np.int16))
    assert diff.max() <= 2, diff.max()
    assert np.asarray(got).std() > 1  # not a blank image


def test_unknown_model_over_http_is_422_naming_the_available_one(server):
    status, _, body = server.post("/api/stylize", {"engine": "translate", "model": "monet"}, {"content": CONTENT})
    assert status == 422 and body["error"]["code"] == "unknown_model" and MODEL in body["error"]["message"]
