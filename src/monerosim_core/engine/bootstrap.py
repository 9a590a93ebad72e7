"""The bootstrap phase of a local run: from the cache, or mined (and then cached).

Before the nodes start, :meth:`Bootstrap.prepare` looks the network up in the
bootstrap cache (:mod:`.bootstrap_cache`). On a hit it copies the cached chain into
every node's data directory (the nodes then start on it, ``--keep-fakechain``),
adopts the entry's chain epoch and copies its block records into the run. On a miss,
:meth:`Bootstrap.complete` mines the bootstrap with the block controller's own code,
in this process, and stores the chain: one node is stopped for the copy (a running
node's chain file may be mid-write), then started again on its chain.

``run.json`` says where the bootstrap came from (``bootstrap_source``: ``cache`` or
``mined``; ``bootstrap_entry``: the cache entry).
"""

from __future__ import annotations

import logging
import shutil
import time

import attrs

from monerosim_core.agents.block_controller import BlockController
from monerosim_core.agents.runtime import AgentRuntime
from monerosim_core.config.model import BlockControllerSpec
from monerosim_core.engine.bootstrap_cache import (
    BootstrapCache,
    CacheEntry,
    CacheKey,
    chain_path,
    monerod_version,
)
from monerosim_core.engine.convergence import wait_peered, wait_synced
from monerosim_core.engine.network import Network, private_node_dir, wallet_key_file
from monerosim_core.planning.plan import BLOCK_CONTROLLER_ID, Plan, node_process_name
from monerosim_core.planning.strategies import controller_strategy
from monerosim_core.plugins.host import get_plugin_manager
from monerosim_core.processes.specs import NodeSpec
from monerosim_core.processes.supervisor import ProcessSupervisor
from monerosim_core.records.layout import RunDir
from monerosim_core.simtime.clocks import FixedClock
from monerosim_core.timeouts import timeouts

log = logging.getLogger("monerosim.engine")

FUTURE_LIMIT = 2 * 3600  # monerod refuses blocks timestamped more than 2 h ahead of it
SAFETY = 600  # seconds kept between the last timestamp of a run and that limit


@attrs.define
class Bootstrap:
    run: RunDir
    plan: Plan
    spec: BlockControllerSpec
    cache: BootstrapCache | None
    entry: CacheEntry | None = None

    def key(self) -> CacheKey:
        registry = self.plan.registry()
        ref = controller_strategy(self.spec)
        info = get_plugin_manager().infos.get(ref.name)
        version = f"{info.distribution} {info.version}" if info else "unknown"
        return CacheKey(
            monerod=monerod_version(),
            miners=tuple((m.agent_id, m.hashrate) for m in registry.miners),
            strategy=f"{ref.name} {version}",
            seed=self.run.read_info().seed,
            blocks=self.plan.scenario.general.bootstrap_blocks,
            interval=self.spec.interval,
            wallets=tuple(
                (a.id, a.wallet_address) for a in registry.agents if a.wallet_address is not None
            ),
        )

    def prepare(self) -> bool:
        """Before the nodes start: put a cached chain in place if there is one.
        True when the nodes must keep the chain they find (a cache hit)."""
        if self.cache is None:
            self.run.update_info(bootstrap_source="mined")
            return False
        key = self.key()
        found = self.cache.lookup(key)
        entry = found.entry
        if entry is not None and not self._epoch_fits(entry):
            log.info("bootstrap cache entry %s is too recent for this stop_time", key.digest)
            entry = None
        if entry is None:
            log.info("bootstrap cache: %s; mining the bootstrap", found.miss_reason)
            self.run.update_info(bootstrap_source="mined")
            return False
        for p in self.plan.nodes:
            data_dirs = [self.run.node_dir(p.agent.id) / "monerod"]
            if p.agent.private_daemon_rpc_port is not None:
                data_dirs.append(private_node_dir(self.run, p.agent.id))
            for data_dir in data_dirs:
                target = chain_path(data_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(entry.chain, target)
            keys = entry.wallet_keys(p.agent.id)
            if keys is not None and p.agent.wallet_rpc_port is not None:
                target = wallet_key_file(self.run.node_dir(p.agent.id) / "wallet", p.agent.id)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(keys, target)
        shutil.copyfile(entry.blocks, self.run.blocks.path)
        self.run.update_info(
            chain_epoch=entry.chain_epoch, bootstrap_source="cache", bootstrap_entry=entry.digest
        )
        self.entry = entry
        log.info("bootstrap from cache entry %s (height %d)", entry.digest, entry.height)
        return True

    def complete(self, network: Network, supervisor: ProcessSupervisor) -> None:
        """Once the nodes are up: check a cached chain, or mine (and cache) one."""
        target = self.plan.scenario.general.bootstrap_blocks
        if self.entry is None:
            self._mine()
        wait_synced(network.daemons, min_height=target, timeout=timeouts().sync)
        if self.entry is None and self.cache is not None:
            self._store(network, supervisor)

    def _epoch_fits(self, entry: CacheEntry) -> bool:
        stop_time = self.plan.scenario.general.stop_time
        return entry.chain_epoch + stop_time <= time.time() + FUTURE_LIMIT - SAFETY

    def _mine(self) -> None:
        started = time.monotonic()
        rt = AgentRuntime.open(BLOCK_CONTROLLER_ID, self.run.root, clock=FixedClock())
        try:
            BlockController.create(rt, self.spec).bootstrap()
        finally:
            rt.close()
        log.info("bootstrap mined in %.1f s", time.monotonic() - started)

    def _store(self, network: Network, supervisor: ProcessSupervisor) -> None:
        """Copy one node's chain into the cache, the node stopped meanwhile."""
        assert self.cache is not None
        node_id = self.plan.nodes[0].agent.id
        name = node_process_name(node_id)
        proc = supervisor.processes[name]
        assert isinstance(proc.spec, NodeSpec)
        network.wait_for_wallets()  # their key files are written once restored
        supervisor.stop_one(name)
        info = self.run.read_info()
        assert info.chain_epoch is not None
        keys = {
            agent_id: wallet_key_file(self.run.node_dir(agent_id) / "wallet", agent_id)
            for agent_id in network.wallets
        }
        entry = self.cache.store(
            self.key(),
            chain=chain_path(proc.spec.data_dir),
            blocks=self.run.blocks.path,
            wallet_keys=keys,
            chain_epoch=info.chain_epoch,
            height=self.plan.scenario.general.bootstrap_blocks,
        )
        self.run.update_info(bootstrap_entry=entry.digest)
        supervisor.start(attrs.evolve(proc.spec, keep_fakechain=True), proc.console_log)
        supervisor.wait_ready([name])
        if len(network.daemons) > 1:
            others = len(network.daemons) - 1
            wait_peered({node_id: network.daemons[node_id]}, others, timeout=timeouts().peering)
        log.info("bootstrap stored in the cache as %s", entry.digest)
