"""Every wall-clock timeout of monerosim, in one place, scaled by one factor.

Timeouts bound how long monerosim waits in real time for a process or a daemon:
they never shape simulated time. A loaded or slow machine can need longer, so all
of them scale by one factor, as Bitcoin Core's test framework does with
``--timeout-factor``: set ``MONEROSIM_TIMEOUT_FACTOR`` (or pass ``--timeout-factor``
to ``monerosim``, which sets it for every process of the run).

Use :func:`timeouts` and read a field; never write a timeout as a literal elsewhere.
"""

from __future__ import annotations

import math
import os

import attrs

FACTOR_ENV = "MONEROSIM_TIMEOUT_FACTOR"


class TimeoutFactorError(ValueError):
    """``MONEROSIM_TIMEOUT_FACTOR`` is not a positive number."""


@attrs.frozen
class Timeouts:
    """Wall seconds, already multiplied by :attr:`factor`.

    Base values were measured on a 2-core machine (monero 0.18.0.0) with a margin;
    the reason for each is beside it.
    """

    factor: float = 1.0

    def _scaled(self, seconds: float) -> float:
        return seconds * self.factor

    @property
    def process_start(self) -> float:
        """Every monerod / wallet-rpc answers RPC (1.2 s each alone; many at once on 2 cores)."""
        return self._scaled(90.0)

    @property
    def peering(self) -> float:
        """A full mesh of nodes completes its handshakes."""
        return self._scaled(60.0)

    @property
    def sync(self) -> float:
        """Nodes agree on one tip after the bootstrap and at the end."""
        return self._scaled(30.0)

    @property
    def rpc(self) -> float:
        """An ordinary RPC call (get_info, get_balance, get_transfers...)."""
        return self._scaled(10.0)

    @property
    def rpc_probe(self) -> float:
        """A liveness probe or a stop request, where a slow answer means "not yet"."""
        return self._scaled(3.0)

    @property
    def wallet_create(self) -> float:
        """Creating, restoring or opening a wallet: seconds of CPU each (wallet-rpc
        0.18 generates a TLS key for every wallet), 80-106 s seen under heavy load."""
        return self._scaled(180.0)

    @property
    def generate(self) -> float:
        """One block mined (the first on a node builds its RandomX cache: 1-4 s)."""
        return self._scaled(30.0)

    @property
    def tip_wait(self) -> float:
        """A winner's node receives and verifies the block before it (RandomX set-up)."""
        return self._scaled(20.0)

    @property
    def settle(self) -> float:
        """Transfers due in a block reach the winner's pool (instant when broadcast;
        Dandelion++'s embargo alone averages 39 s)."""
        return self._scaled(30.0)

    @property
    def action(self) -> float:
        """One agent action while simulated time waits for it: a transfer, a block
        with its settling, a round of samples; past this the agent counts as hung."""
        return self._scaled(300.0)

    @property
    def transfer(self) -> float:
        """One wallet transfer (0.3-1.5 s measured; decoy selection can stall on short chains)."""
        return self._scaled(60.0)

    @property
    def agent_stop(self) -> float:
        """An agent ends its loop after the stop signal: a transfer in flight must return."""
        return self.transfer + self._scaled(10.0)

    @property
    def pool_settle(self) -> float:
        """Transfers in flight reach every node's pool at the end of a run."""
        return self._scaled(15.0)

    @property
    def daemon_stop(self) -> float:
        """A daemon or wallet exits after its stop RPC (about 2 s measured)."""
        return self._scaled(15.0)

    @property
    def signal_stop(self) -> float:
        """A process exits after SIGTERM before it gets SIGKILL."""
        return self._scaled(5.0)


def timeouts() -> Timeouts:
    """The timeouts of this process, from ``MONEROSIM_TIMEOUT_FACTOR`` (default 1)."""
    return Timeouts(read_factor(os.environ.get(FACTOR_ENV)))


def read_factor(text: str | None) -> float:
    """Parse a timeout factor; :class:`TimeoutFactorError` unless a positive finite number."""
    if text is None or not text.strip():
        return 1.0
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise TimeoutFactorError(f"{FACTOR_ENV}: expected a positive number, found {text!r}")
    return value
