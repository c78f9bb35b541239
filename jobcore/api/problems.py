"""Errors as HTTP: the one error body, the documented responses, and the mapping of
jobcore's errors (and FastAPI's) to status codes.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from jobcore.api.wire import Wire
from jobcore.db import is_connection_error, unavailable
from jobcore.errors import (
    ConfigError,
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    JobBusy,
    JobcoreError,
    JobNotFound,
    JobNotRunnable,
    UnknownJobType,
    UnknownOrganization,
    UsageError,
)
from jobcore.jobs.registry import job_types

log = logging.getLogger(__name__)


class ErrorDetail(Wire):
    code: str
    message: str
    field: str | None = None


class ErrorBody(Wire):
    error: ErrorDetail


def error_response(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, field=field))
    return JSONResponse(body.model_dump(by_alias=True), status_code=status)


_ERRORS = {
    400: "Malformed request (for example a body that is not JSON)",
    401: "Missing or malformed bearer token",
    403: "Token not recognised",
    404: "No such job",
    409: "The job is busy (another process call holds it), finished, or the action "
         "conflicts with its state",
    422: "Invalid input; `field` names the offending field",
    503: "The database cannot be reached",
}


def responses_for(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody, "description": _ERRORS[code]} for code in codes}


class HTTPProblem(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


# jobcore's errors as HTTP: the first matching class wins (subclasses before their bases).
_ERROR_MAP: tuple[tuple[type[JobcoreError], int, str, str | None], ...] = (
    (ConfigError, 422, "invalid_config", None),  # the field comes from the error itself
    (UnknownJobType, 422, "unknown_job_type", "jobType"),
    (UnknownOrganization, 422, "unknown_organization", "orgId"),
    (Forbidden, 403, "forbidden", None),
    (JobNotFound, 404, "not_found", None),
    (JobBusy, 409, "busy", None),
    (JobNotRunnable, 409, "finished", None),
    (Conflict, 409, "conflict", None),
    (DatabaseUnavailable, 503, "database_unavailable", None),
    (UsageError, 422, "invalid", None),
)


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method any route serves at this path (Starlette lists only one route's)."""
    methods: set[str] = set()
    for route in app.routes:
        match, _ = route.matches({"type": "http", "path": path, "method": "GET"})
        if match != Match.NONE and getattr(route, "methods", None):
            methods |= set(route.methods)
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
        response = error_response(exc.status_code, codes.get(exc.status_code, "http_error"),
                          str(exc.detail))
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed_methods(app, request.url.path))
        return response

    @app.exception_handler(HTTPProblem)
    def problem(_: Request, exc: HTTPProblem) -> JSONResponse:
        response = error_response(exc.status, exc.code, exc.message, exc.field)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(RequestValidationError)
    def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        loc = [str(p) for p in first["loc"] if p not in ("body", "query", "path")]
        if loc and loc[0] in job_types():  # the tag of the body's per-job-type variant
            loc = loc[1:]
        if first.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            return error_response(422, "unknown_job_type",
                          f"jobType must be one of {', '.join(job_types())}", "jobType")
        field = ".".join(loc) or None
        return error_response(422, "invalid", f"{field or 'request'}: {first['msg']}", field)

    @app.exception_handler(sa.exc.DBAPIError)
    def database_error(_: Request, exc: sa.exc.DBAPIError) -> JSONResponse:
        if is_connection_error(exc):  # the server restarting or away: try again later
            return error_response(503, "database_unavailable", str(unavailable(exc)))
        log.error("database error", exc_info=exc)
        return error_response(500, "internal", f"Database error: {type(exc.orig).__name__}")

    @app.exception_handler(Exception)
    def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error", exc_info=exc)
        return error_response(500, "internal", f"Internal error: {type(exc).__name__}")

    @app.exception_handler(JobcoreError)
    def jobcore_error(_: Request, exc: JobcoreError) -> JSONResponse:
        for error_class, status, code, field in _ERROR_MAP:
            if isinstance(exc, error_class):
                if isinstance(exc, ConfigError):
                    field = exc.field
                return error_response(status, code, str(exc), field)
        return error_response(500, "internal", str(exc))
