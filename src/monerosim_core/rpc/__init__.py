"""Typed JSON-RPC clients for ``monerod`` and ``monero-wallet-rpc``.

Each client owns one long-lived :class:`httpx.Client` with an explicit timeout;
close it with :meth:`close` or use the client as a context manager. Methods return
small frozen values (amounts are always ``int`` atomic units, 1 XMR = 10**12) and
raise only the errors of :mod:`monerosim_core.rpc.errors`.

The HTTP clients ignore proxy environment variables (``trust_env=False``): every
endpoint is a loopback address, and an inherited ``HTTP_PROXY`` would otherwise
send the calls elsewhere.

Facts about monero 0.18 that shape these methods:

* monerod omits empty lists from its answers (no ``tx_hashes`` key for a block
  without transactions, no ``chains`` when there is no alternative chain), so
  every list field is read with a default.
* ``generateblocks`` answers ``status: BUSY`` while the node is syncing; that is
  :class:`RpcStatusError` with ``status == "BUSY"``, and callers retry.
* The first block a node mines or verifies costs 1-4 s (RandomX set-up); after
  that a block takes 70-100 ms, so give long ``generateblocks`` runs their own
  ``timeout``.
* A coinbase output pays a one-time key, not an address: only the receiving
  wallet can tell it was paid (``get_transfers`` lists it with ``type == "block"``
  and ``txid`` equal to the block's ``miner_tx_hash``).

The clients live in :mod:`~monerosim_core.rpc.daemon` and
:mod:`~monerosim_core.rpc.wallet`; import everything from here.
"""

from __future__ import annotations

from monerosim_core.rpc.daemon import (
    AltChain,
    Block,
    BlockHeader,
    BlockTemplate,
    ChainTip,
    DaemonClient,
    DaemonInfo,
    GeneratedBlocks,
    PeerConnection,
    TxStatus,
)
from monerosim_core.rpc.errors import (
    RpcConnectionError,
    RpcError,
    RpcMethodError,
    RpcResponseError,
    RpcStatusError,
    RpcTimeout,
)
from monerosim_core.rpc.http import MethodTimings, rpc_timings
from monerosim_core.rpc.wallet import Balance, TransferResult, WalletClient, WalletTransfer

__all__ = [
    "AltChain",
    "Balance",
    "Block",
    "BlockHeader",
    "BlockTemplate",
    "ChainTip",
    "DaemonClient",
    "DaemonInfo",
    "GeneratedBlocks",
    "MethodTimings",
    "PeerConnection",
    "RpcConnectionError",
    "RpcError",
    "RpcMethodError",
    "RpcResponseError",
    "RpcStatusError",
    "RpcTimeout",
    "TransferResult",
    "TxStatus",
    "WalletClient",
    "WalletTransfer",
    "rpc_timings",
]
