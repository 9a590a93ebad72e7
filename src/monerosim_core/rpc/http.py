"""The HTTP side of the RPC clients: one long-lived httpx.Client per server and the
mapping of every failure onto :mod:`monerosim_core.rpc.errors`.

Private to the :mod:`monerosim_core.rpc` package; import the clients from the package.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import attrs
import httpx

from monerosim_core.rpc.errors import (
    RpcConnectionError,
    RpcMethodError,
    RpcResponseError,
    RpcStatusError,
    RpcTimeout,
)
from monerosim_core.timeouts import timeouts

T = TypeVar("T")
Json = dict[str, Any]


@attrs.define
class MethodTimings:
    """The calls of one RPC method made by this process, and their wall time."""

    calls: int = 0
    errors: int = 0
    wall: float = 0.0


_timings: dict[str, MethodTimings] = {}
_timings_lock = threading.Lock()


def rpc_timings() -> dict[str, MethodTimings]:
    """Every RPC method this process has called, with counts and wall time (a copy)."""
    with _timings_lock:
        return {m: attrs.evolve(t) for m, t in _timings.items()}


def _count(method: str, started: float, ok: bool) -> None:
    with _timings_lock:
        t = _timings.setdefault(method, MethodTimings())
        t.calls += 1
        t.errors += 0 if ok else 1
        t.wall += time.perf_counter() - started


class Endpoint:
    """One RPC server: the HTTP client and the mapping of failures onto RpcError."""

    def __init__(
        self,
        kind: str,
        host: str,
        port: int,
        *,
        timeout: float | None,
        auth: httpx.Auth | None,
        transport: httpx.BaseTransport | None,
    ) -> None:
        """``timeout`` (wall seconds) applies to every call that gives none;
        None means :attr:`Timeouts.rpc <monerosim_core.timeouts.Timeouts.rpc>`."""
        self.name = f"{kind} {host}:{port}"
        self.timeout = timeouts().rpc if timeout is None else timeout
        self._http = httpx.Client(
            base_url=f"http://{host}:{port}",
            timeout=self.timeout,
            auth=auth,
            transport=transport,
            trust_env=False,
        )

    def close(self) -> None:
        self._http.close()

    def json_rpc(
        self, method: str, params: Mapping[str, Any] | None, timeout: float | None
    ) -> Json:
        body: Json = {"jsonrpc": "2.0", "id": "0", "method": method}
        if params:
            body["params"] = dict(params)
        return self._json_rpc_body(method, body, timeout)

    def json_rpc_list(self, method: str, params: list[Any], timeout: float | None) -> Json:
        """A JSON-RPC call whose params are a list (``submit_block``)."""
        body: Json = {"jsonrpc": "2.0", "id": "0", "method": method, "params": params}
        return self._json_rpc_body(method, body, timeout)

    def _json_rpc_body(self, method: str, body: Json, timeout: float | None) -> Json:
        doc = self._post(method, "/json_rpc", body, timeout)
        error = doc.get("error")
        if error is not None:
            code, message = (
                (error.get("code"), error.get("message"))
                if isinstance(error, dict)
                else (None, error)
            )
            raise RpcMethodError(
                method, self.name, code if isinstance(code, int) else 0, str(message)
            ) from None
        result = doc.get("result")
        if not isinstance(result, dict):
            raise RpcResponseError(
                method, self.name, f"answer has no result object: {_snippet(doc)}"
            )
        self._check_status(method, result)
        return result

    def plain(self, path: str, body: Mapping[str, Any], timeout: float | None) -> Json:
        """POST to one of monerod's non-JSON-RPC endpoints (``/get_transactions``...)."""
        doc = self.plain_unchecked(path, body, timeout)
        self._check_status(path.lstrip("/"), doc)
        return doc

    def plain_unchecked(self, path: str, body: Mapping[str, Any], timeout: float | None) -> Json:
        """:meth:`plain` without the status check, for answers that explain a refusal."""
        return self._post(path.lstrip("/"), path, dict(body), timeout)

    def shape(self, method: str, build: Callable[[], T]) -> T:
        """Build a value from a result; a missing or mistyped field is RpcResponseError."""
        try:
            return build()
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RpcResponseError(
                method, self.name, f"unexpected result ({type(exc).__name__}: {exc})"
            ) from None

    def _check_status(self, method: str, result: Mapping[str, Any]) -> None:
        status = result.get("status")
        if status is not None and status != "OK":
            raise RpcStatusError(method, self.name, str(status))

    def _post(self, method: str, path: str, body: Json, timeout: float | None) -> Json:
        started = time.perf_counter()
        ok = False
        try:
            doc = self._exchange(method, path, body, timeout)
            ok = True
            return doc
        finally:
            _count(method, started, ok)

    def _exchange(self, method: str, path: str, body: Json, timeout: float | None) -> Json:
        try:
            response = self._http.post(
                path, json=body, timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout
            )
        except httpx.TimeoutException as exc:
            wait = self.timeout if timeout is None else timeout
            raise RpcTimeout(
                method, self.name, f"no answer within {wait:g} s ({_cause(exc)})"
            ) from None
        except httpx.TransportError as exc:
            # Refused, reset, or closed without an answer: the process is not (or no
            # longer) serving, which callers handle the same way.
            raise RpcConnectionError(
                method, self.name, f"connection failed ({_cause(exc)})"
            ) from None
        except httpx.HTTPError as exc:
            raise RpcResponseError(method, self.name, _cause(exc)) from None
        if response.status_code != 200:
            hint = " (wrong or missing RPC login)" if response.status_code == 401 else ""
            raise RpcResponseError(
                method, self.name, f"HTTP {response.status_code} {response.reason_phrase}{hint}"
            )
        try:
            doc = json.loads(response.content)
        except ValueError:
            raise RpcResponseError(
                method, self.name, f"answer is not JSON: {_snippet(response.content)}"
            ) from None
        if not isinstance(doc, dict):
            raise RpcResponseError(
                method, self.name, f"answer is not a JSON object: {_snippet(doc)}"
            )
        return doc


def _cause(exc: Exception) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _snippet(value: object, limit: int = 80) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else repr(value)
    return repr(text[:limit] + "...") if len(text) > limit else repr(text)


class BaseClient:
    _rpc: Endpoint

    @property
    def endpoint(self) -> str:
        """How errors name this server, e.g. ``monerod 127.0.0.1:38081``."""
        return self._rpc.name

    def close(self) -> None:
        """Close the HTTP connection pool. The client is unusable afterwards."""
        self._rpc.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
