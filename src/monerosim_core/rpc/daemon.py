"""The monerod JSON-RPC client and the values it returns. Import from
:mod:`monerosim_core.rpc`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import httpx

from monerosim_core.rpc.errors import RpcStatusError
from monerosim_core.rpc.http import BaseClient, Endpoint, Json
from monerosim_core.timeouts import timeouts

HEADERS_PER_CALL = 1000  # the most headers monerod answers in one get_block_headers_range


@attrs.frozen
class ChainTip:
    """The top block of a node's main chain: its height (genesis is 0) and hash.

    monerod's RPC reports the block *count* (``height`` in get_info and
    /get_height); the clients convert it here, once, so every ChainTip means the
    same thing.
    """

    height: int
    hash: str

    @classmethod
    def from_block_count(cls, count: int, top_hash: str) -> ChainTip:
        return cls(count - 1, top_hash)


@attrs.frozen
class DaemonInfo:
    """``get_info``: the node's view of the chain and of its peers.

    ``tip`` is the top block (its height counts from genesis = 0; monerod's own
    ``height`` field is the block count, one more). ``start_time`` is when the
    process started (Unix seconds).
    ``synchronized`` is false while the node catches up with a peer
    that reported a longer chain (``generateblocks`` then answers BUSY).
    """

    tip: ChainTip
    target_height: int
    outgoing_connections_count: int
    incoming_connections_count: int
    tx_pool_size: int
    synchronized: bool
    busy_syncing: bool
    alt_blocks_count: int
    difficulty: int
    nettype: str
    start_time: int


@attrs.frozen
class GeneratedBlocks:
    """``generateblocks``: the new blocks' hashes, oldest first, and the last one's height."""

    hashes: tuple[str, ...]
    height: int


@attrs.frozen
class BlockTemplate:
    """``get_block_template``: a block to mine at ``height`` on ``prev_hash``, paying the
    given address ``expected_reward`` (subsidy plus the fees of its transactions)."""

    blob: bytes
    height: int
    prev_hash: str
    expected_reward: int


@attrs.frozen
class BlockHeader:
    """A block header. ``reward`` is the coinbase total: subsidy plus fees."""

    height: int
    hash: str
    prev_hash: str
    timestamp: int
    reward: int
    num_txes: int
    miner_tx_hash: str
    difficulty: int
    orphan_status: bool

    @classmethod
    def from_rpc(cls, raw: Mapping[str, Any]) -> BlockHeader:
        return cls(
            height=int(raw["height"]),
            hash=str(raw["hash"]),
            prev_hash=str(raw["prev_hash"]),
            timestamp=int(raw["timestamp"]),
            reward=int(raw["reward"]),
            num_txes=int(raw["num_txes"]),
            miner_tx_hash=str(raw["miner_tx_hash"]),
            difficulty=int(raw["difficulty"]),
            orphan_status=bool(raw["orphan_status"]),
        )


@attrs.frozen
class Block:
    """``get_block``: the header, the hashes of the block's transactions, the
    decoded coinbase (``miner_tx``, as monerod's ``json`` field has it: ``vin``,
    ``vout`` with ``amount`` and the one-time ``target`` key, ``extra``...) and the
    serialised block (``blob``, what ``submit_block`` takes)."""

    header: BlockHeader
    tx_hashes: tuple[str, ...]
    miner_tx: Mapping[str, Any] = attrs.field(hash=False)
    blob: bytes = attrs.field(default=b"", repr=False)

    @property
    def coinbase_amount(self) -> int:
        """Total paid by the coinbase outputs; equals ``header.reward``."""
        return sum(int(out["amount"]) for out in self.miner_tx.get("vout", []))


@attrs.frozen
class TxStatus:
    """Where a transaction is: in the pool (``block_height is None``) or mined."""

    tx_hash: str
    in_pool: bool
    block_height: int | None
    confirmations: int | None


@attrs.frozen
class PeerConnection:
    """One P2P connection. Two loopback nodes that list each other as peers hold
    two connections (one each way) with the same ``peer_id``."""

    address: str
    peer_id: str
    incoming: bool
    height: int
    state: str


@attrs.frozen
class AltChain:
    """``get_alternate_chains``: a side chain, its tip and where it left the main chain."""

    block_hash: str
    height: int
    length: int
    main_chain_parent_block: str


class DaemonClient(BaseClient):
    """JSON-RPC client for one ``monerod``. Calls are blocking and thread-compatible
    (httpx clients may be shared between threads).

    ``login`` is the ``--rpc-login`` pair the node was started with (HTTP digest
    auth); None for a node without one.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        login: tuple[str, str] | None = None,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``transport`` exists for tests (``httpx.MockTransport``)."""
        auth = httpx.DigestAuth(*login) if login is not None else None
        self._rpc = Endpoint("monerod", host, port, timeout=timeout, auth=auth, transport=transport)

    def get_info(self) -> DaemonInfo:
        r = self._rpc.json_rpc("get_info", None, None)
        return self._rpc.shape(
            "get_info",
            lambda: DaemonInfo(
                tip=ChainTip.from_block_count(int(r["height"]), str(r["top_block_hash"])),
                target_height=int(r.get("target_height", 0)),
                outgoing_connections_count=int(r["outgoing_connections_count"]),
                incoming_connections_count=int(r["incoming_connections_count"]),
                tx_pool_size=int(r["tx_pool_size"]),
                synchronized=bool(r["synchronized"]),
                busy_syncing=bool(r["busy_syncing"]),
                alt_blocks_count=int(r.get("alt_blocks_count", 0)),
                difficulty=int(r["difficulty"]),
                nettype=str(r.get("nettype", "")),
                start_time=int(r.get("start_time", 0)),
            ),
        )

    def get_tip(self) -> ChainTip:
        """``/get_height``: the top block, far cheaper than get_info on a busy node
        (no peer or pool statistics), for polling."""
        r = self._rpc.plain("/get_height", {}, None)
        return self._rpc.shape(
            "get_height", lambda: ChainTip.from_block_count(int(r["height"]), str(r["hash"]))
        )

    def generateblocks(
        self,
        amount_of_blocks: int,
        wallet_address: str,
        prev_block: str | None = None,
        *,
        timeout: float | None = None,
    ) -> GeneratedBlocks:
        """Mine ``amount_of_blocks`` blocks (regtest) paying ``wallet_address``.

        ``prev_block`` builds on that block instead of this node's tip; callers that
        mine on several nodes pass the tip they last saw so a node that has not yet
        received it cannot fork the chain. Raises RpcStatusError("BUSY") while the
        node syncs.
        """
        params: Json = {"amount_of_blocks": amount_of_blocks, "wallet_address": wallet_address}
        if prev_block is not None:
            params["prev_block"] = prev_block
        r = self._rpc.json_rpc(
            "generateblocks", params, timeouts().generate if timeout is None else timeout
        )
        return self._rpc.shape(
            "generateblocks",
            lambda: GeneratedBlocks(tuple(str(h) for h in r.get("blocks", [])), int(r["height"])),
        )

    def get_block_template(
        self, wallet_address: str, extra_nonce: bytes, *, prev_block: str | None = None
    ) -> BlockTemplate:
        """A block template on this node's tip (or on ``prev_block``, a block it holds
        off its main chain) paying ``wallet_address``, with the pool transactions
        this node would mine.

        ``extra_nonce`` goes into the coinbase; make it unique per call: monerod
        serves a cached template while address, extra nonce, pool and tip are
        unchanged, and that cache misses a transaction that just moved out of the
        node's "local" state (measured). Give ``prev_block`` only to build off the
        main chain: with it, monerod caps the template's transactions at twice the
        parent block's weight, so after a one-transaction block the block holds one
        (measured: 1 of 9). Check ``prev_hash`` against the parent you expect.
        """
        params = {"wallet_address": wallet_address, "extra_nonce": extra_nonce.hex()}
        if prev_block is not None:
            params["prev_block"] = prev_block
        r = self._rpc.json_rpc("get_block_template", params, None)
        return self._rpc.shape(
            "get_block_template",
            lambda: BlockTemplate(
                blob=bytes.fromhex(str(r["blocktemplate_blob"])),
                height=int(r["height"]),
                prev_hash=str(r["prev_hash"]),
                expected_reward=int(r["expected_reward"]),
            ),
        )

    def submit_block(self, blob: bytes, *, timeout: float | None = None) -> None:
        """Submit a mined block; RpcMethodError when the node refuses it."""
        self._rpc.json_rpc_list(
            "submit_block", [blob.hex()], timeouts().generate if timeout is None else timeout
        )

    def send_raw_transaction(self, tx_hex: str) -> None:
        """Hand this node a transaction (as a wallet's daemon would receive it).

        Raises RpcStatusError with monerod's reason (double spend, fee too low...)
        when the node refuses it; a transaction it already has is accepted again.
        """
        r = self._rpc.plain_unchecked(
            "/send_raw_transaction", {"tx_as_hex": tx_hex, "do_not_relay": False}, None
        )
        if r.get("status") != "OK":
            reasons = [k for k, v in r.items() if v is True and k != "untrusted"]
            detail = str(r.get("reason") or "") or ", ".join(reasons) or str(r.get("status"))
            raise RpcStatusError("send_raw_transaction", self._rpc.name, detail)

    def get_block_headers_range(self, start_height: int, end_height: int) -> list[BlockHeader]:
        """The main-chain headers from ``start_height`` to ``end_height``, both included."""
        params = {"start_height": start_height, "end_height": end_height}
        r = self._rpc.json_rpc("get_block_headers_range", params, None)
        return self._rpc.shape(
            "get_block_headers_range",
            lambda: [BlockHeader.from_rpc(h) for h in r.get("headers", [])],
        )

    def main_chain_headers(self, start_height: int, end_height: int) -> list[BlockHeader]:
        """Like :meth:`get_block_headers_range`, any length (asked in chunks that
        monerod answers)."""
        headers: list[BlockHeader] = []
        for start in range(start_height, end_height + 1, HEADERS_PER_CALL):
            headers += self.get_block_headers_range(
                start, min(end_height, start + HEADERS_PER_CALL - 1)
            )
        return headers

    def get_last_block_header(self) -> BlockHeader:
        r = self._rpc.json_rpc("get_last_block_header", None, None)
        return self._rpc.shape(
            "get_last_block_header", lambda: BlockHeader.from_rpc(r["block_header"])
        )

    def get_block_header_by_height(self, height: int) -> BlockHeader:
        r = self._rpc.json_rpc("get_block_header_by_height", {"height": height}, None)
        return self._rpc.shape(
            "get_block_header_by_height", lambda: BlockHeader.from_rpc(r["block_header"])
        )

    def get_block_header_by_hash(self, block_hash: str) -> BlockHeader:
        r = self._rpc.json_rpc("get_block_header_by_hash", {"hash": block_hash}, None)
        return self._rpc.shape(
            "get_block_header_by_hash", lambda: BlockHeader.from_rpc(r["block_header"])
        )

    def get_block(self, height: int | None = None, *, block_hash: str | None = None) -> Block:
        """The block at ``height`` or with ``block_hash`` (give exactly one)."""
        if (height is None) == (block_hash is None):
            raise ValueError("get_block needs exactly one of height or block_hash")
        params: Json = {"height": height} if block_hash is None else {"hash": block_hash}
        r = self._rpc.json_rpc("get_block", params, None)

        def build() -> Block:
            body = json.loads(r["json"])
            return Block(
                header=BlockHeader.from_rpc(r["block_header"]),
                tx_hashes=tuple(str(h) for h in r.get("tx_hashes", [])),
                miner_tx=body["miner_tx"],
                blob=bytes.fromhex(str(r["blob"])),
            )

        return self._rpc.shape("get_block", build)

    def get_transaction_hexes(self, hashes: Iterable[str]) -> dict[str, str]:
        """The serialised transactions (hex) among ``hashes`` that this node knows."""
        wanted = list(hashes)
        if not wanted:
            return {}
        r = self._rpc.plain("/get_transactions", {"txs_hashes": wanted}, None)
        return self._rpc.shape(
            "get_transactions",
            lambda: {str(tx["tx_hash"]): str(tx["as_hex"]) for tx in r.get("txs", [])},
        )

    def get_transaction_pool_hashes(self) -> list[str]:
        """Hashes of the transactions in this node's pool (any order)."""
        r = self._rpc.plain("/get_transaction_pool_hashes", {}, None)
        return self._rpc.shape(
            "get_transaction_pool_hashes", lambda: [str(h) for h in r.get("tx_hashes", [])]
        )

    def get_transactions(self, hashes: Iterable[str]) -> dict[str, TxStatus | None]:
        """Each requested hash mapped to where the transaction is, or None when this
        node does not know it (never seen, or dropped from the pool)."""
        wanted = list(hashes)
        if not wanted:
            return {}
        r = self._rpc.plain("/get_transactions", {"txs_hashes": wanted}, None)

        def build() -> dict[str, TxStatus | None]:
            found: dict[str, TxStatus | None] = dict.fromkeys(wanted)
            for tx in r.get("txs", []):
                in_pool = bool(tx["in_pool"])
                found[str(tx["tx_hash"])] = TxStatus(
                    tx_hash=str(tx["tx_hash"]),
                    in_pool=in_pool,
                    block_height=None if in_pool else int(tx["block_height"]),
                    confirmations=None if in_pool else int(tx.get("confirmations", 0)),
                )
            return found

        return self._rpc.shape("get_transactions", build)

    def get_connections(self) -> list[PeerConnection]:
        r = self._rpc.json_rpc("get_connections", None, None)
        return self._rpc.shape(
            "get_connections",
            lambda: [
                PeerConnection(
                    address=str(c["address"]),
                    peer_id=str(c["peer_id"]),
                    incoming=bool(c["incoming"]),
                    height=int(c["height"]),
                    state=str(c["state"]),
                )
                for c in r.get("connections", [])
            ],
        )

    def get_alternate_chains(self) -> list[AltChain]:
        r = self._rpc.json_rpc("get_alternate_chains", None, None)
        return self._rpc.shape(
            "get_alternate_chains",
            lambda: [
                AltChain(
                    block_hash=str(c["block_hash"]),
                    height=int(c["height"]),
                    length=int(c["length"]),
                    main_chain_parent_block=str(c["main_chain_parent_block"]),
                )
                for c in r.get("chains", [])
            ],
        )

    def stop_daemon(self, *, timeout: float | None = None) -> None:
        """Ask monerod to exit. It answers at once and exits about 2 s later."""
        self._rpc.plain("/stop_daemon", {}, timeout)
