"""The WSGI layer around the app that injects faults, drops connections and writes the request journal.

It sits outside Flask on purpose: a fault is the network's or the gateway's, so it hits a request before the
key check and before routing (a 404 path can be slowed down too), and a dropped connection must leave the
app without any answer, which no Flask hook can do (Flask turns every exception into a 500 page).

Dropping works by raising waitress's ``ClientDisconnected`` before a byte of the answer is written: waitress
then closes the socket without answering, so an HTTP client fails with a connection error
(``RemoteDisconnected`` in ``http.client``, ``ConnectionError`` in requests), as it would on a dead
endpoint. Under a WSGI test client the same exception, ``DroppedConnectionError``, reaches the test.

The control plane's own routes are neither faulted nor journaled: a test must always be able to take its
faults back, and reading the journal must not fill it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import Response as FlaskResponse
from flask import request
from waitress.channel import ClientDisconnected
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .. import auth
from .journal import Entry, redact_query

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

    from ..clock import Clock
    from .faults import Faults
    from .journal import Journal

_DROP = "cner.drop_connection"


class DroppedConnectionError(ClientDisconnected):  # type: ignore[misc]
    """Raised out of the app to close the connection unanswered (waitress's own disconnect signal)."""


def drop_connection() -> FlaskResponse:
    """Ask for the current request's connection to be dropped; return the result from the view.

    The view still returns a response (Flask needs one); the interceptor discards it before a byte is sent.
    """
    request.environ[_DROP] = True
    return FlaskResponse(status=204)


class Interceptor:
    """Wraps ``app.wsgi_app``: faults and journal for every request outside the control plane."""

    def __init__(self, app: Flask, clock: Clock, faults: Faults, journal: Journal) -> None:
        self._flask = app
        self._wsgi: WSGIApplication = app.wsgi_app
        self._clock = clock
        self._faults = faults
        self._journal = journal

    def _endpoint(self, environ: WSGIEnvironment) -> str | None:
        try:
            endpoint, _ = self._flask.url_map.bind_to_environ(environ).match()
        except HTTPException:
            return None  # 404, 405 or a redirect: still a request that faults and the journal see
        return str(endpoint)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        endpoint = self._endpoint(environ)
        if endpoint is not None and endpoint.startswith("control."):
            return self._wsgi(environ, start_response)
        arrived, started = self._clock.now(), time.perf_counter()
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        rule = self._faults.draw(method, path)
        status: list[int] = []

        def record(code: int | None) -> None:
            keys = self._flask.config["CNER_API_KEYS"]
            self._journal.add(
                Entry(
                    time=arrived.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    method=method,
                    path=path,
                    query=redact_query(environ.get("QUERY_STRING", "")),
                    status=code,
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                    key_slot=auth.key_slot(keys, environ.get("HTTP_OCP_APIM_SUBSCRIPTION_KEY")),
                    fault=rule.id if rule else None,
                )
            )

        def capture(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
            status.append(int(code.split(" ", 1)[0]))
            return start_response(code, headers, exc_info)

        if rule is not None:
            if rule.latency_ms:
                time.sleep(rule.latency_ms / 1000)
            if rule.drop:
                record(None)
                raise DroppedConnectionError(f"fault {rule.id} dropped the connection")
            if rule.status is not None:
                answer = _error_answer(rule.status, rule.error_body(), rule.retry_after)
                record(rule.status)
                return answer(environ, start_response)
        result = self._wsgi(environ, capture)
        if environ.get(_DROP):
            if hasattr(result, "close"):
                result.close()
            record(None)
            raise DroppedConnectionError("the endpoint dropped the connection")
        record(status[0] if status else None)
        return result


def _error_answer(status: int, body: dict[str, Any], retry_after: int | None) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["x-ms-error-code"] = body["error"]["code"]
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response
