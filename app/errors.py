"""One APIError and the JSON error handlers: every error, ours or Werkzeug's (404, 405, 413, 429...), is
`{"error": {"code", "message"}}` with the right status. An unexpected exception is a 500 with no internals."""
from __future__ import annotations

import errno
import logging
import sqlite3

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# Werkzeug's status -> our code
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
         422: "invalid", 429: "rate_limited", 503: "unavailable"}


class APIError(Exception):
    def __init__(self, http_status: int, code: str, message: str, headers: dict | None = None, **extra):
        super().__init__(message)
        self.status, self.code, self.message = http_status, code, message
        self.headers = headers or {}
        self.extra = extra


def body(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def register(app: Flask) -> None:
    @app.errorhandler(APIError)
    def api_error(e: APIError):
        return jsonify(body(e.code, e.message, **e.extra)), e.status, e.headers

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        status = e.code or 500
        message = e.description or e.name
        if status == 413:
            message = ("request too large: uploads are limited to "
                       f"{app.config['MAX_UPLOAD_MB']} MB and {app.config['MAX_FORM_PARTS']} form parts")
        headers = {k: v for k, v in e.get_response().headers.items() if k in ("Allow", "Retry-After")}
        if status == 429 and "Retry-After" not in headers:
            headers["Retry-After"] = "60"
        return jsonify(body(CODES.get(status, "error"), message)), status, headers

    @app.errorhandler(Exception)
    def unexpected(e: Exception):
        if (unavailable := backend_error(e)) is not None:
            code, message = unavailable
            log.error("%s: %s: %s", code, type(e).__name__, e)
            return jsonify(body(code, message)), 503, {"Retry-After": "10"}
        log.exception("unhandled error")
        return jsonify(body("internal", "internal server error")), 500


def backend_error(e: Exception) -> tuple[str, str] | None:
    """A job store, storage or broker failure (Redis or SQLite down or refusing writes, a full disk, S3 or the
    queue unreachable) is the service being unavailable, a 503 with a code saying which part; None otherwise.
    The message names no server path or exception text."""
    kinds = [(sqlite3.Error, "job_store_unavailable", "the job store is unavailable")]
    try:
        import redis
        kinds.append((redis.RedisError, "job_store_unavailable", "the job store is unavailable"))
    except ImportError:
        pass
    try:
        import kombu.exceptions
        kinds.append((kombu.exceptions.KombuError, "broker_unavailable", "the job queue is unreachable"))
    except ImportError:
        pass
    try:
        import botocore.exceptions
        kinds.append(((botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError), "storage_unavailable",
                      "the image storage is unavailable"))
    except ImportError:
        pass
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
        return "storage_full", "the server is out of disk space; try again later"
    kinds.append((OSError, "storage_unavailable", "the image storage is unavailable"))
    for types, code, message in kinds:
        if isinstance(e, types):
            return code, message + "; try again shortly"
    return None
