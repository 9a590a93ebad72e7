"""Each agent's wallet, derived from the run seed and the agent id.

The same config and seed give the same keys, mnemonic and address on every run and
every machine, so runs can be compared address by address, and the registry knows
every address before any wallet exists (blocks can pay an address whose wallet is
restored later: restore_height 0 finds them).

Derivation: 32 bytes = SHA-256 of ``monerosim/{seed}/{agent_id}/wallet-keys/v1``;
the private spend key is those bytes reduced modulo the curve order, the view key
and the (mainnet-format, as regtest uses) address follow as Monero defines them,
and the 25-word English mnemonic encodes the reduced spend key. The Monero-specific
steps are the ``bip-utils`` library's, checked against monero-wallet-rpc 0.18
(``restore_deterministic_wallet`` gives the same address and keys).

These wallets are for simulations only: anyone with the config can derive the keys.
"""

from __future__ import annotations

import functools
import hashlib

import attrs

SCHEME = "wallet-keys/v1"  # part of the hashed string: changing it changes every wallet


@attrs.frozen
class WalletKeys:
    spend_key: str  # hex, reduced
    view_key: str  # hex
    address: str
    mnemonic: str = attrs.field(repr=False)


def wallet_entropy(seed: int, agent_id: str) -> bytes:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"the run seed must be an int, not {seed!r}")
    return hashlib.sha256(f"monerosim/{seed:d}/{agent_id}/{SCHEME}".encode()).digest()


@functools.lru_cache(maxsize=4096)
def wallet_keys(seed: int, agent_id: str) -> WalletKeys:
    """The keys, address and mnemonic of ``agent_id``'s wallet in a run with ``seed``."""
    # Imported here: bip-utils takes ~0.5 s to import, and only the processes that
    # plan a run derive keys (agent processes read addresses from the registry).
    from bip_utils import Monero, MoneroCoins, MoneroLanguages, MoneroMnemonicEncoder

    monero = Monero.FromSeed(wallet_entropy(seed, agent_id), MoneroCoins.MONERO_MAINNET)
    spend = monero.PrivateSpendKey().Raw().ToBytes()
    return WalletKeys(
        spend_key=spend.hex(),
        view_key=monero.PrivateViewKey().Raw().ToHex(),
        address=str(monero.PrimaryAddress()),
        mnemonic=MoneroMnemonicEncoder(MoneroLanguages.ENGLISH).EncodeWithChecksum(spend).ToStr(),
    )
