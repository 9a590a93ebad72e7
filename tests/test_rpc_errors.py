"""How RPC failures reach callers: one exception tree, every message naming the
RPC method and the endpoint. ``httpx.MockTransport`` stands in for the answers a
real daemon cannot be made to give on demand; a refused connection is real."""

from __future__ import annotations

import json
import pickle
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from monerosim_core.rpc import (
    DaemonClient,
    RpcConnectionError,
    RpcError,
    RpcMethodError,
    RpcResponseError,
    RpcStatusError,
    RpcTimeout,
    WalletClient,
)

Handler = Callable[[httpx.Request], httpx.Response]


def daemon(handler: Handler) -> DaemonClient:
    return DaemonClient("127.0.0.1", 38081, timeout=30, transport=httpx.MockTransport(handler))


def wallet(handler: Handler) -> WalletClient:
    return WalletClient(
        "127.0.0.1", 38083, login=("u", "p"), timeout=60, transport=httpx.MockTransport(handler)
    )


def answer(doc: Any, status_code: int = 200) -> Handler:
    return lambda request: httpx.Response(status_code, json=doc)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once it is closed


def test_json_rpc_error_object_is_a_method_error_with_code_and_message() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        error = {"code": -17, "message": "not enough money"}
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": "0", "error": error})

    with wallet(handler) as client, pytest.raises(RpcMethodError) as caught:
        client.transfer("4Addr", 10**12)

    err = caught.value
    assert (err.code, err.message, err.method) == (-17, "not enough money", "transfer")
    assert str(err) == "transfer on wallet-rpc 127.0.0.1:38083: error -17: not enough money"
    assert seen[0]["method"] == "transfer"
    assert seen[0]["params"]["destinations"] == [{"address": "4Addr", "amount": 10**12}]


def test_busy_status_is_a_status_error_naming_method_and_endpoint() -> None:
    busy = {"jsonrpc": "2.0", "id": "0", "result": {"status": "BUSY", "untrusted": False}}
    with daemon(answer(busy)) as client, pytest.raises(RpcStatusError) as caught:
        client.generateblocks(1, "4Addr")

    assert caught.value.status == "BUSY"
    assert str(caught.value) == "generateblocks on monerod 127.0.0.1:38081: BUSY"


def test_failed_status_from_a_plain_endpoint_names_that_endpoint() -> None:
    failed = {"status": "Failed, size of data mismatch", "untrusted": False}
    with daemon(answer(failed)) as client, pytest.raises(RpcStatusError) as caught:
        client.get_transactions(["00"])

    assert str(caught.value) == (
        "get_transactions on monerod 127.0.0.1:38081: Failed, size of data mismatch"
    )


def test_timeout_is_rpc_timeout_with_the_limit_and_cause() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with daemon(handler) as client, pytest.raises(RpcTimeout) as caught:
        client.get_info()

    assert str(caught.value) == (
        "get_info on monerod 127.0.0.1:38081: no answer within 30 s (ReadTimeout: timed out)"
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_per_call_timeout_is_reported() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.extensions["timeout"]["read"] == 120
        raise httpx.ReadTimeout("timed out", request=request)

    with daemon(handler) as client, pytest.raises(RpcTimeout, match="within 120 s"):
        client.generateblocks(500, "4Addr", timeout=120)


def test_refused_connection_is_a_connection_error() -> None:
    port = closed_port()
    client = DaemonClient("127.0.0.1", port, timeout=5)
    with client, pytest.raises(RpcConnectionError) as caught:
        client.get_info()

    message = str(caught.value)
    assert message.startswith(
        f"get_info on monerod 127.0.0.1:{port}: connection failed (ConnectError"
    )
    assert "refused" in message.lower()
    assert caught.value.__cause__ is None


def test_body_that_is_not_json_is_a_response_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>proxy error</html>")

    with daemon(handler) as client, pytest.raises(RpcResponseError) as caught:
        client.get_info()

    assert str(caught.value) == (
        "get_info on monerod 127.0.0.1:38081: answer is not JSON: '<html>proxy error</html>'"
    )


def test_unauthorized_says_the_login_is_wrong() -> None:
    with wallet(answer({}, status_code=401)) as client, pytest.raises(RpcResponseError) as caught:
        client.get_balance()

    assert str(caught.value) == (
        "get_balance on wallet-rpc 127.0.0.1:38083: HTTP 401 Unauthorized"
        " (wrong or missing RPC login)"
    )


def test_result_missing_a_field_is_a_response_error() -> None:
    partial = {"jsonrpc": "2.0", "id": "0", "result": {"status": "OK", "height": 5}}
    with daemon(answer(partial)) as client, pytest.raises(RpcResponseError) as caught:
        client.get_info()

    assert str(caught.value).startswith("get_info on monerod 127.0.0.1:38081: unexpected result")
    assert "top_block_hash" in str(caught.value)


def test_answer_without_result_or_error_is_a_response_error() -> None:
    client = daemon(answer({"jsonrpc": "2.0", "id": "0"}))
    with client, pytest.raises(RpcResponseError, match="answer has no result object"):
        client.get_connections()


@pytest.mark.parametrize(
    "error",
    [
        RpcConnectionError("get_info", "monerod 127.0.0.1:1", "cannot connect"),
        RpcTimeout("get_info", "monerod 127.0.0.1:1", "no answer"),
        RpcMethodError("transfer", "wallet-rpc 127.0.0.1:2", -17, "not enough money"),
        RpcStatusError("generateblocks", "monerod 127.0.0.1:1", "BUSY"),
        RpcResponseError("get_info", "monerod 127.0.0.1:1", "answer is not JSON"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_error_is_an_rpc_error_and_survives_pickling(error: RpcError) -> None:
    # Agents run as processes; an error may cross a process boundary.
    assert isinstance(error, RpcError)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
