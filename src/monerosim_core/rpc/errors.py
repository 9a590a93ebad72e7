"""The RPC exception tree, written down in one place.

Every error raised by :mod:`monerosim_core.rpc` is an :class:`RpcError`. Catch the
branch that matches what you can do about it::

    RpcError                  base: .method, .endpoint, .message
    ├── RpcConnectionError    nothing listens there (refused, unreachable): the
    │                         process is down or not started yet
    ├── RpcTimeout            connected, but no answer within the timeout: the
    │                         process is busy (long generateblocks, wallet refresh)
    ├── RpcMethodError        a JSON-RPC ``error`` object: .code, .message
    │                         (e.g. -17 "not enough money" from a wallet transfer)
    ├── RpcStatusError        monerod answered with ``status`` other than "OK":
    │                         .status (e.g. "BUSY" from generateblocks while syncing)
    └── RpcResponseError      an answer that is not a usable response: HTTP error
                              status (401 = wrong RPC login), body not JSON, or a
                              field missing from the result

``str(error)`` always names the RPC method and the endpoint, for example
``generateblocks on monerod 127.0.0.1:38081: BUSY``. The clients raise these
``from None``: the httpx traceback adds nothing, and its text is kept in
``message``.
"""

from __future__ import annotations


class RpcError(Exception):
    """An RPC call failed. ``endpoint`` reads like ``monerod 127.0.0.1:38081``."""

    def __init__(self, method: str, endpoint: str, message: str) -> None:
        super().__init__(method, endpoint, message)
        self.method = method
        self.endpoint = endpoint
        self.message = message

    def __str__(self) -> str:
        return f"{self.method} on {self.endpoint}: {self.message}"


class RpcConnectionError(RpcError):
    """The endpoint could not be reached (connection refused, unreachable)."""


class RpcTimeout(RpcError):
    """The endpoint did not answer within the timeout."""


class RpcMethodError(RpcError):
    """The server answered with a JSON-RPC error object."""

    def __init__(self, method: str, endpoint: str, code: int, message: str) -> None:
        super().__init__(method, endpoint, message)
        self.args = (method, endpoint, code, message)  # so the error pickles
        self.code = code

    def __str__(self) -> str:
        return f"{self.method} on {self.endpoint}: error {self.code}: {self.message}"


class RpcStatusError(RpcError):
    """monerod answered, but its ``status`` field is not ``"OK"``."""

    def __init__(self, method: str, endpoint: str, status: str) -> None:
        super().__init__(method, endpoint, status)
        self.status = status


class RpcResponseError(RpcError):
    """The answer is not a usable RPC response (HTTP error, not JSON, wrong shape)."""


__all__ = [
    "RpcConnectionError",
    "RpcError",
    "RpcMethodError",
    "RpcResponseError",
    "RpcStatusError",
    "RpcTimeout",
]
