"""One JSON shape for every error: ``{"error": {"code": ..., "message": ...}}`` with the right status.

Handlers here turn what the routes and the framework raise into that shape, so a client parses
one thing whatever went wrong: a validation error names the field, an unavailable warehouse or
Dagster is a 503 that says which, and an unexpected failure is a bare 500 that leaks nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from resources.warehouse import WarehouseError
from scout_leads.reader import MartsUnavailable

log = logging.getLogger("scout_api")

# Status -> code for the errors the framework raises itself (unknown path, wrong method ...).
_FRAMEWORK_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


class ApiError(Exception):
    """An error a route answers with: HTTP status, a stable code, a message for people."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class ServiceUnavailable(ApiError):
    """A system the API depends on (warehouse, Dagster) cannot answer now: 503."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(503, code, message, {"Retry-After": "10"})


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def _respond(status: int, code: str, message: str, headers=None, details=None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    """``query.limit``, ``body.keywords.0``: where the bad value was."""
    return ".".join(str(part) for part in loc)


async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
    return _respond(exc.status, exc.code, exc.message, exc.headers)


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    details = []
    for error in exc.errors():
        message = str(error.get("msg", "invalid value"))
        if error.get("type") == "json_invalid":
            message = f"malformed JSON ({error.get('ctx', {}).get('error', 'cannot be parsed')})"
        details.append({"field": _field(tuple(error.get("loc", ()))), "message": message})
    first = details[0] if details else {"field": "request", "message": "invalid"}
    code = "malformed_json" if any(e.get("type") == "json_invalid" for e in exc.errors()) else "invalid_input"
    return _respond(422, code, f"{first['field']}: {first['message']}", details=details)


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _FRAMEWORK_CODES.get(exc.status_code, "http_error")
    return _respond(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))


async def _marts_unavailable(_: Request, exc: MartsUnavailable) -> JSONResponse:
    return _respond(503, "marts_unavailable", str(exc), {"Retry-After": "10"})


async def _warehouse_error(_: Request, exc: WarehouseError) -> JSONResponse:
    # Warehouse errors carry the masked location (never a password): safe to show.
    return _respond(503, "warehouse_unavailable", str(exc), {"Retry-After": "10"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return _respond(500, "internal_error", "an unexpected error occurred; see the API's log")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(MartsUnavailable, _marts_unavailable)
    app.add_exception_handler(WarehouseError, _warehouse_error)
    app.add_exception_handler(Exception, _unexpected)
