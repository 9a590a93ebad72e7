"""Wallets derived from the run seed: the same keys for the same seed and agent, always."""

from __future__ import annotations

import itertools

import pytest

from monerosim_core.planning.wallet_keys import wallet_entropy, wallet_keys

# Checked against monero-wallet-rpc 0.18.0.0: restore_deterministic_wallet with this
# mnemonic gives this address, and query_key gives these keys.
SEED0_MINER0 = "42DmjA9PKfX55upyHhUUq94BGkGSpD9e5CeA54NVSgQwFhLhEFv3zQ38RRQ8EAX1pDZZVKTjHgeSY8wBenABvPb4UTHvake"  # noqa: E501


def test_a_known_wallet_derives_to_its_known_address() -> None:
    keys = wallet_keys(0, "miner-0")
    assert keys.address == SEED0_MINER0
    assert keys.mnemonic.split()[:3] == ["logic", "poetry", "affair"]
    assert len(keys.mnemonic.split()) == 25
    assert keys.spend_key.startswith("beeb6059") and keys.view_key.startswith("14906254")


def test_keys_depend_on_seed_and_agent_and_nothing_else() -> None:
    wallet_keys.cache_clear()
    again = wallet_keys(42, "user-01")
    assert again == wallet_keys(42, "user-01")
    addresses = {
        wallet_keys(seed, agent).address
        for seed, agent in itertools.product((1, 2, 2**63 + 5, -7), ("miner-01", "user-01"))
    }
    assert len(addresses) == 8
    assert all(a.startswith("4") and len(a) == 95 for a in addresses)  # mainnet format


def test_a_bool_is_not_a_seed() -> None:
    with pytest.raises(TypeError):
        wallet_entropy(True, "miner-01")  # type: ignore[arg-type]
