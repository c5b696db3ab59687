"""The service's error body, as one exception type per HTTP status, rendered in one place.

Azure answers every failure with ``{"error": {"code", "message", "target"?, "details"?, "innererror"?}}``
and an ``x-ms-error-code`` header (azure-contract.md §2.5). Handlers raise these classes; the app's error
handlers (``register``) turn them, Flask's own 404/405/413 and anything unexpected into that body, so no
route can answer with HTML or a bare 500 page.

::

    ApiError                       status, code, message, target, innererror, details
     +-- BadRequest          400   InvalidRequest / InvalidArgument
     +-- Unauthorized        401   the gateway's key refusal
     +-- Forbidden           403   Forbidden / QuotaExceeded: the container refused by its Billing endpoint
     +-- NotFound            404   NotFound / ProjectNotFound / OperationNotFound
     +-- Conflict            409
     +-- PayloadTooLarge     413
     +-- TooManyRequests     429   with Retry-After
     +-- ServiceUnavailable  503   with Retry-After
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

UNAUTHORIZED_MESSAGE = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an "
    "active subscription and use a correct regional API endpoint for your resource."
)
"""The real service's 401 message, verbatim from a recorded response (sdk-clients.md §6)."""


@dataclass
class ApiError(Exception):
    """An error answer. ``inner`` is the ``innererror.code``; ``details`` are nested errors (e.g. one per issue)."""

    message: str
    code: str = "InvalidRequest"
    inner: str | None = None
    target: str | None = None
    details: list[dict[str, Any]] = field(default_factory=list)
    retry_after: float | None = None
    status: ClassVar[int] = 500

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        if self.details:
            error["details"] = self.details
        if self.inner:
            error["innererror"] = {"code": self.inner, "message": self.message}
        return {"error": error}

    def response(self) -> Response:
        response = jsonify(self.body())
        response.status_code = self.status
        response.headers["x-ms-error-code"] = self.code
        if self.retry_after is not None:
            response.headers["Retry-After"] = f"{self.retry_after:.3f}".rstrip("0").rstrip(".")  # never 2.2e+06
        return response


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401

    def __init__(self) -> None:
        super().__init__(UNAUTHORIZED_MESSAGE, code="401")


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class TooManyRequests(ApiError):
    status = 429


class ServiceUnavailable(ApiError):
    status = 503


def invalid(message: str, *, target: str | None = None, inner: str = "InvalidParameterValue") -> BadRequest:
    """The most common refusal: a bad value the caller can fix, named by ``target``."""
    return BadRequest(message, code="InvalidRequest", inner=inner, target=target)


_BY_STATUS: dict[int, tuple[type[ApiError], str]] = {
    400: (BadRequest, "InvalidRequest"),
    404: (NotFound, "NotFound"),
    405: (BadRequest, "InvalidRequest"),
    413: (PayloadTooLarge, "InvalidRequest"),
}


def _from_http(exc: HTTPException) -> Response:
    kind, code = _BY_STATUS.get(exc.code or 500, (ApiError, "InternalServerError"))
    allowed = ", ".join(getattr(exc, "valid_methods", None) or [])
    messages = {
        404: "The requested resource does not exist; check the path against the API reference.",
        405: f"This resource does not support that method; allowed: {allowed}",
        413: "The request body is larger than this operation accepts.",
    }
    response = kind(messages.get(exc.code or 500, exc.description or exc.name), code=code).response()
    response.status_code = exc.code or 500
    return response


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    error = ApiError("The emulator failed unexpectedly; its log has the details.", code="InternalServerError")
    return error.response()


def register(app: Flask) -> None:
    """Make every error of ``app`` an Azure error body (registered on the app: 404/405 never reach blueprints)."""
    app.register_error_handler(ApiError, lambda exc: exc.response())
    app.register_error_handler(HTTPException, _from_http)
    app.register_error_handler(Exception, _unexpected)
