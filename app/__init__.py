"""The Flask API. Imports no torch and nothing from worker/ but its torch-free modules (queue, job_store, storage,
generators).

create_app(test_config=None, settings=None): config from the settings (worker/settings.py: the environment, same
names), then test_config over it.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app import errors
from app.errors import APIError
from worker import queue
from worker.job_store import get_store
from worker.settings import Settings, get as get_settings
from worker.storage import get_storage

PUBLIC = {"health.health", "docs.openapi", "docs.docs", "docs_ui.static", "styles.thumbnail", "web.index",
          "web.files"}


def client_id() -> str:
    return getattr(g, "client", None) or f"ip:{request.remote_addr}"


def create_app(test_config: dict | None = None, settings: Settings | None = None) -> Flask:
    app = Flask(__name__)
    settings = settings or get_settings()
    app.config.update(settings.flask())
    app.config.update(test_config or {})
    app.extensions["settings"] = settings
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    app.json.sort_keys = False
    if app.config["TRUST_PROXY"]:
        n = int(app.config["TRUST_PROXY"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    url, var = app.config["REDIS_URL"] or "", app.config["VAR_DIR"]
    queue.configure(url, var)
    app.config.setdefault("ENQUEUE", queue.enqueue)  # tests pass their own
    app.extensions["jobs"] = get_store(url, var)
    app.extensions["media"] = get_storage(var_dir=var)

    errors.register(app)
    app.before_request(authenticate)
    app.after_request(cors)
    app.after_request(allow_api_methods)
    limiter = Limiter(client_id, app=app, storage_uri=url or "memory://", headers_enabled=True,
                      swallow_errors=True, default_limits=[limit("RATE_LIMIT")],
                      default_limits_exempt_when=lambda: not current_app.config["RATE_LIMIT"])
    from app import docs, generators, health, jobs, portrait, snack, styles, stylize, web
    app.after_request(web.security_headers)  # nosniff, a CSP, frame-ancestors: on every response
    for mod in (stylize, portrait):
        limiter.limit(limit("RATE_LIMIT_SUBMIT"), methods=["POST"],
                      exempt_when=lambda: not current_app.config["RATE_LIMIT_SUBMIT"])(mod.bp)
    for mod in (health, docs, web):
        limiter.exempt(mod.bp)
    limiter.exempt(docs.ui)
    app.register_blueprint(docs.ui)  # the Swagger UI's files, from the flask-openapi3-swagger wheel
    for mod in (stylize, portrait, jobs, styles, generators, health, docs, web, snack):
        app.register_blueprint(mod.bp)
    return app


def limit(name: str):
    return lambda: current_app.config[name] or "1000000/second"


def authenticate():
    """Bearer API keys when API_KEYS is set, compared in constant time against every key."""
    keys = [k.strip() for k in current_app.config["API_KEYS"].split(",") if k.strip()]
    if not keys or request.method == "OPTIONS" or request.endpoint in PUBLIC:
        return None
    header = request.headers.get("Authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else ""
    ok = False
    for key in keys:  # no early exit: timing does not tell which key matched, or how far
        ok |= hmac.compare_digest(given.encode(), key.encode())
    if not ok:
        raise APIError(401, "unauthorized", "a valid API key is required: Authorization: Bearer <key>",
                       headers={"WWW-Authenticate": "Bearer"})
    g.client = "key:" + hashlib.sha256(given.encode()).hexdigest()[:16]
    return None


def allow_api_methods(resp):
    """`Allow` on an /api path (a 405, an OPTIONS) names that route's methods, not the GET of the web app's
    catch-all, which also matches every path (the OpenAPI document lists only the route's own)."""
    if "Allow" in resp.headers and request.path.startswith("/api/"):
        try:
            endpoint = current_app.url_map.bind_to_environ(request.environ).match(request.path, method="GET")[0]
        except HTTPException:
            endpoint = None
        if endpoint in (None, "web.files"):
            resp.headers["Allow"] = ", ".join(m.strip() for m in resp.headers["Allow"].split(",")
                                              if m.strip() not in ("GET", "HEAD"))
    return resp


def cors(resp):
    allowed = [o.strip() for o in current_app.config["CORS_ORIGINS"].split(",") if o.strip()]
    origin = request.headers.get("Origin")
    if origin and (origin in allowed or "*" in allowed):
        resp.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        resp.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Idempotency-Key"
        resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        resp.headers["Access-Control-Expose-Headers"] = "Location, Retry-After, Idempotent-Replayed"
        resp.headers["Access-Control-Max-Age"] = "600"
        resp.headers.add("Vary", "Origin")
    return resp
