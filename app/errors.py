"""One APIError and the JSON error handlers: every error, ours or Werkzeug's (404, 405, 413, 429...), is
`{"error": {"code", "message"}}` with the right status. An unexpected exception is a 500 with no internals."""
from __future__ import annotations

import logging

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
        log.exception("unhandled error")
        return jsonify(body("internal", "internal server error")), 500
