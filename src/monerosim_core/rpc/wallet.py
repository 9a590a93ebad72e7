"""The monero-wallet-rpc JSON-RPC client and the values it returns. Import from
:mod:`monerosim_core.rpc`."""

from __future__ import annotations

import attrs
import httpx

from monerosim_core.rpc.http import BaseClient, Endpoint
from monerosim_core.timeouts import timeouts


@attrs.frozen
class Balance:
    """``get_balance``: ``balance`` includes locked outputs (a coinbase stays locked
    for 60 blocks, an ordinary transfer for 10); ``unlocked_balance`` is spendable."""

    balance: int
    unlocked_balance: int
    blocks_to_unlock: int


@attrs.frozen
class TransferResult:
    """``transfer``: the relayed transaction's hash, its fee and the amount sent."""

    tx_hash: str
    fee: int
    amount: int
    weight: int


@attrs.frozen
class WalletTransfer:
    """One entry of ``get_transfers``. ``type`` is ``in``, ``out``, ``pending``,
    ``failed``, ``pool`` or ``block`` (a coinbase this wallet received). ``height``
    is 0 while the transaction is unconfirmed."""

    txid: str
    type: str
    amount: int
    fee: int
    height: int
    confirmations: int
    timestamp: int
    locked: bool


class WalletClient(BaseClient):
    """JSON-RPC client for one ``monero-wallet-rpc`` serving one wallet.

    ``login`` is the ``--rpc-login`` pair the process was started with (HTTP
    digest auth); None for a process started with ``--disable-rpc-login``.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        login: tuple[str, str] | None,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        auth = httpx.DigestAuth(*login) if login is not None else None
        self._rpc = Endpoint(
            "wallet-rpc", host, port, timeout=timeout, auth=auth, transport=transport
        )

    def get_version(self, *, timeout: float | None = None) -> int:
        """The RPC version; answers with no wallet open (a cheap liveness check)."""
        r = self._rpc.json_rpc("get_version", None, timeout)
        return self._rpc.shape("get_version", lambda: int(r["version"]))

    def create_wallet(
        self,
        filename: str,
        password: str,
        language: str = "English",
        *,
        timeout: float | None = None,
    ) -> None:
        """Create ``filename`` in the process's ``--wallet-dir`` and open it (1-7 s;
        by default allowed :attr:`Timeouts.wallet_create`)."""
        params = {"filename": filename, "password": password, "language": language}
        self._rpc.json_rpc(
            "create_wallet", params, timeouts().wallet_create if timeout is None else timeout
        )

    def restore_deterministic_wallet(
        self, filename: str, mnemonic: str, password: str, *, restore_height: int = 0
    ) -> str:
        """Create ``filename`` from a 25-word mnemonic and open it; its address.

        The wallet scans from ``restore_height`` on its first refresh, so it finds
        blocks that paid its address before it existed (``create_wallet`` skips
        blocks timestamped over a day before its creation). Slow like
        :meth:`create_wallet` (wallet-rpc generates a TLS key for every wallet).
        """
        params = {
            "filename": filename,
            "seed": mnemonic,
            "password": password,
            "restore_height": restore_height,
            "language": "English",
        }
        r = self._rpc.json_rpc("restore_deterministic_wallet", params, timeouts().wallet_create)
        return self._rpc.shape("restore_deterministic_wallet", lambda: str(r["address"]))

    def open_wallet(self, filename: str, password: str, *, timeout: float | None = None) -> None:
        params = {"filename": filename, "password": password}
        self._rpc.json_rpc(
            "open_wallet", params, timeouts().wallet_create if timeout is None else timeout
        )

    def close_wallet(self) -> None:
        """Save and close the open wallet; the process keeps running."""
        self._rpc.json_rpc("close_wallet", None, None)

    def get_address(self, account_index: int = 0) -> str:
        """The account's primary address (account 0: the wallet's main address)."""
        r = self._rpc.json_rpc("get_address", {"account_index": account_index}, None)
        return self._rpc.shape("get_address", lambda: str(r["address"]))

    def refresh(self, *, timeout: float | None = None) -> int:
        """Scan new blocks now (the process also does so every ~20 s); returns how
        many blocks were fetched."""
        r = self._rpc.json_rpc("refresh", None, timeout)
        return self._rpc.shape("refresh", lambda: int(r["blocks_fetched"]))

    def get_balance(self, refresh: bool = False, *, account_index: int = 0) -> Balance:
        """The balance; with ``refresh`` the wallet first scans up to the daemon's tip."""
        if refresh:
            self.refresh()
        r = self._rpc.json_rpc("get_balance", {"account_index": account_index}, None)
        return self._rpc.shape(
            "get_balance",
            lambda: Balance(
                int(r["balance"]), int(r["unlocked_balance"]), int(r.get("blocks_to_unlock", 0))
            ),
        )

    def transfer(
        self,
        address: str,
        amount_atomic: int,
        *,
        priority: int = 0,
        do_not_relay: bool = False,
        timeout: float | None = None,
    ) -> TransferResult:
        """Send ``amount_atomic`` to ``address`` and relay it (unless ``do_not_relay``).

        ``priority``: 0 default, 1 unimportant, 2 normal, 3 elevated, 4 priority.
        By default allowed :attr:`Timeouts.transfer` (decoy selection can be slow).
        Failures come back as RpcMethodError, e.g. code -17 "not enough money"
        (also when the money is there but still locked) and -2 for a bad address.
        """
        params = {
            "destinations": [{"address": address, "amount": amount_atomic}],
            "priority": priority,
            "do_not_relay": do_not_relay,
        }
        r = self._rpc.json_rpc(
            "transfer", params, timeouts().transfer if timeout is None else timeout
        )
        return self._rpc.shape(
            "transfer",
            lambda: TransferResult(
                str(r["tx_hash"]),
                int(r["fee"]),
                int(r["amount"]),
                int(r.get("weight", 0)),
            ),
        )

    def get_transfers(
        self,
        *,
        incoming: bool = True,
        outgoing: bool = True,
        pending: bool = True,
        failed: bool = True,
        pool: bool = True,
    ) -> list[WalletTransfer]:
        """The wallet's history of the selected kinds, ordered by height then time."""
        params = {
            "in": incoming,
            "out": outgoing,
            "pending": pending,
            "failed": failed,
            "pool": pool,
        }
        r = self._rpc.json_rpc("get_transfers", params, None)

        def build() -> list[WalletTransfer]:
            entries = [
                WalletTransfer(
                    txid=str(t["txid"]),
                    type=str(t["type"]),
                    amount=int(t["amount"]),
                    fee=int(t.get("fee", 0)),
                    height=int(t.get("height", 0)),
                    confirmations=int(t.get("confirmations", 0)),
                    timestamp=int(t.get("timestamp", 0)),
                    locked=bool(t.get("locked", False)),
                )
                for key in ("in", "out", "pending", "failed", "pool")
                for t in r.get(key, [])
            ]
            return sorted(entries, key=lambda t: (t.height or 1 << 62, t.timestamp))

        return self._rpc.shape("get_transfers", build)

    def get_height(self) -> int:
        """How many blocks the wallet has scanned (same convention as DaemonInfo.height)."""
        r = self._rpc.json_rpc("get_height", None, None)
        return self._rpc.shape("get_height", lambda: int(r["height"]))

    def store(self) -> None:
        """Write the wallet file now."""
        self._rpc.json_rpc("store", None, None)

    def stop_wallet(self, *, timeout: float | None = None) -> None:
        """Save the wallet and exit the process (about 2 s after the answer)."""
        self._rpc.json_rpc("stop_wallet", None, timeout)
