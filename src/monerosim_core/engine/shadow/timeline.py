"""When each process of a Shadow simulation starts and stops, in Shadow's time.

Shadow's clock starts at 2000-01-01 00:00:00 UTC (:data:`SHADOW_EPOCH`). The run's
simulated t=0 is :attr:`Timeline.t0` seconds later, so its chain epoch (the Unix
time of t=0, which block timestamps count from) is ``SHADOW_EPOCH + t0``, and an
agent's clock reads ``time.time() - chain_epoch``.

Before t=0, in order: every monerod starts, then every wallet-rpc, then the
engine's setup step (it waits for every daemon to answer and the nodes to peer,
creates the wallets and writes their addresses into the registry), then the block
controller, which mines the bootstrap with timestamps before t=0 as on the local
engine. The other agents start at t=0; an agent that finds the setup unfinished
waits for it (:mod:`monerosim_core.agents.runtime`).

After ``stop_time`` every agent ends its loop by itself; the ones still running
``AGENT_GRACE`` later are sent SIGTERM. Then the engine's final step records the
final state while the daemons still run, then every wallet-rpc and then every
monerod is sent SIGTERM (both save and exit within a simulated second), and
Shadow stops a little later. Every process is expected to have exited with 0 by
then, so Shadow's exit status says whether anything failed.
"""

from __future__ import annotations

import math

import attrs

from monerosim_core.timeouts import Timeouts

SHADOW_EPOCH = 946_684_800  # Unix time of Shadow's simulated 2000-01-01 00:00:00 UTC

DAEMONS_START = 1
WALLETS_START = 2
SETUP_START = 3
CONTROLLER_START = 4
# t=0 leaves the setup and the bootstrap time to finish: both take a few simulated
# seconds (work costs no simulated time under Shadow, only messages and waits do).
BASE_T0 = 60
AGENT_GRACE = 30  # after stop_time, before SIGTERM
FINAL_STATE_MARGIN = 30  # for the final step's reads, beyond its bounded waits
DAEMON_STOP = 10  # between stopping the wallets and stopping their nodes
SHADOW_MARGIN = 20  # between stopping the nodes and Shadow's stop_time


@attrs.frozen
class Timeline:
    """Shadow seconds (since :data:`SHADOW_EPOCH`) of every start and stop."""

    t0: int
    stop_time: float  # simulated seconds after t0
    final_state_budget: int  # the final step's bounded waits, in seconds

    @classmethod
    def for_run(cls, stop_time: float, limits: Timeouts) -> Timeline:
        budget = math.ceil(limits.sync + limits.pool_settle) + FINAL_STATE_MARGIN
        return cls(t0=BASE_T0, stop_time=stop_time, final_state_budget=budget)

    @property
    def chain_epoch(self) -> int:
        """The Unix time of simulated t=0, as Shadow's processes read the clock."""
        return SHADOW_EPOCH + self.t0

    @property
    def agents_stop(self) -> int:
        return self.t0 + math.ceil(self.stop_time) + AGENT_GRACE

    @property
    def final_state(self) -> int:
        return self.agents_stop + 1

    @property
    def wallets_stop(self) -> int:
        return self.final_state + self.final_state_budget

    @property
    def daemons_stop(self) -> int:
        return self.wallets_stop + DAEMON_STOP

    @property
    def end(self) -> int:
        """Shadow's ``stop_time``: every process has exited by then."""
        return self.daemons_stop + SHADOW_MARGIN
