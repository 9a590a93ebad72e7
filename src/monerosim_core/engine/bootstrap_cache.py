"""A cache of bootstrap chains, so a network mines its bootstrap once, not every run.

The first run of a network mines the bootstrap blocks as usual; then one node is
stopped for a moment and its chain (the regtest LMDB) is stored, with the block
records, the wallets' key files and the chain epoch, in an entry of
``$XDG_CACHE_HOME/monerosim/bootstrap``
(default ``~/.cache/monerosim``; ``--cache-dir`` overrides, ``--no-cache`` turns the
cache off). A later run with the same key copies that chain into every node before
starting it and begins at the bootstrap height, with the same blocks (same hashes);
its wallet-rpc processes open the cached key files (about half the CPU of restoring
a wallet from its mnemonic). Only key files are kept: a wallet's cache file from one
chain can show outputs of that chain on another.

The key (:class:`CacheKey`) covers everything that shapes the bootstrap chain: the
monerod version, the miners and their shares, the controller's strategy (name and
distribution version), the seed (winners and wallet addresses follow from it), the
number of bootstrap blocks and their spacing, and the cache format.

An entry is a directory holding ``manifest.json`` (the key, the chain epoch and
height, and the size and SHA-256 of every file) and the files. It is built in a
temporary directory and renamed into place, so two runs building the same entry
at once both succeed and one complete entry remains; a reader never sees half an
entry. An entry whose files do not match its manifest (truncated, edited) is
reported, moved aside and rebuilt, never used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from monerosim_core.records.files import RecordFileError, read_json, write_json_atomic

CACHE_FORMAT = 1  # bumped when what an entry holds, or how the bootstrap is mined, changes
CACHE_DIR_ENV = "XDG_CACHE_HOME"
MANIFEST = "manifest.json"
CHAIN_FILE = "data.mdb"  # the regtest chain: DATA_DIR/fake/lmdb/data.mdb
BLOCKS_FILE = "bootstrap_blocks.jsonl"
WALLETS_DIR = "wallets"  # AGENT_ID.keys: each wallet's key file


class CacheError(Exception):
    """The cache directory cannot be used (permissions, disk)."""


def default_cache_dir() -> Path:
    base = os.environ.get(CACHE_DIR_ENV) or str(Path.home() / ".cache")
    return Path(base) / "monerosim"


def monerod_version(binary: str = "monerod") -> str:
    """``monerod --version``'s first line (part of the key: another daemon, another chain)."""
    try:
        done = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CacheError(f"cannot ask {binary} for its version: {exc}") from None
    return (done.stdout.strip().splitlines() or ["unknown"])[0]


def chain_path(node_data_dir: Path) -> Path:
    """Where a regtest monerod keeps its chain under its data directory."""
    return node_data_dir / "fake" / "lmdb" / CHAIN_FILE


@attrs.frozen
class CacheKey:
    """Everything that shapes a bootstrap chain. ``digest`` names the entry."""

    monerod: str
    miners: tuple[tuple[str, float], ...]  # (agent id, hashrate) in registry order
    strategy: str  # "name distribution version"
    seed: int
    blocks: int
    interval: float
    wallets: tuple[tuple[str, str], ...]  # (agent id, address)
    format: int = CACHE_FORMAT

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @property
    def digest(self) -> str:
        canonical = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


@attrs.frozen
class CacheEntry:
    """A complete, checked entry."""

    path: Path
    digest: str
    chain_epoch: int
    height: int
    created: float

    @property
    def chain(self) -> Path:
        return self.path / CHAIN_FILE

    @property
    def blocks(self) -> Path:
        return self.path / BLOCKS_FILE

    def wallet_keys(self, agent_id: str) -> Path | None:
        """The cached key file of ``agent_id``'s wallet, if the entry has one."""
        path = self.path / WALLETS_DIR / f"{agent_id}.keys"
        return path if path.is_file() else None


@attrs.frozen
class Lookup:
    """What the cache had for a key: an entry, or why not (``miss_reason``)."""

    entry: CacheEntry | None
    miss_reason: str


@attrs.define
class BootstrapCache:
    root: Path  # the cache directory (entries under root/bootstrap)

    @property
    def entries_dir(self) -> Path:
        return self.root / "bootstrap"

    def lookup(self, key: CacheKey) -> Lookup:
        """The checked entry for ``key``; a damaged one is moved aside (and said)."""
        path = self.entries_dir / key.digest
        if not path.exists():
            return Lookup(None, "no entry yet")
        try:
            return Lookup(self._checked(path), "")
        except CacheDamaged as exc:
            self._discard(path)
            return Lookup(None, f"entry {key.digest} was damaged ({exc}) and is rebuilt")

    def store(
        self,
        key: CacheKey,
        chain: Path,
        blocks: Path,
        wallet_keys: Mapping[str, Path],
        *,
        chain_epoch: int,
        height: int,
    ) -> CacheEntry:
        """Store a new entry atomically (``wallet_keys``: agent id -> key file); if
        another run stored it first, that one is kept (and returned)."""
        self.entries_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{key.digest}.", dir=self.entries_dir))
        try:
            shutil.copyfile(chain, staging / CHAIN_FILE)
            shutil.copyfile(blocks, staging / BLOCKS_FILE)
            names = [CHAIN_FILE, BLOCKS_FILE]
            (staging / WALLETS_DIR).mkdir()
            for agent_id, source in wallet_keys.items():
                name = f"{WALLETS_DIR}/{agent_id}.keys"
                shutil.copyfile(source, staging / name)
                names.append(name)
            files = {name: _fingerprint(staging / name) for name in names}
            manifest = {
                "key": key.to_json(),
                "digest": key.digest,
                "chain_epoch": chain_epoch,
                "height": height,
                "created": time.time(),
                "files": files,
            }
            write_json_atomic(staging / MANIFEST, manifest)
            final = self.entries_dir / key.digest
            try:
                os.rename(staging, final)
            except OSError:
                if not final.exists():
                    raise
                # Another run stored the same entry first: keep theirs.
        except OSError as exc:
            raise CacheError(f"cannot store a bootstrap in {self.entries_dir}: {exc}") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return self._checked(self.entries_dir / key.digest)

    def entries(self) -> Iterator[tuple[Path, CacheEntry | str]]:
        """Every entry: checked, or the reason it is unusable."""
        if not self.entries_dir.is_dir():
            return
        for path in sorted(self.entries_dir.iterdir()):
            if path.name.startswith("."):
                continue
            try:
                yield path, self._checked(path)
            except CacheDamaged as exc:
                yield path, str(exc)

    def clear(self) -> int:
        """Delete every entry (and leftovers of interrupted builds); how many entries."""
        count = sum(1 for _ in self.entries())
        shutil.rmtree(self.entries_dir, ignore_errors=True)
        return count

    def _checked(self, path: Path) -> CacheEntry:
        try:
            manifest = read_json(path / MANIFEST)
        except (FileNotFoundError, RecordFileError) as exc:
            raise CacheDamaged(f"manifest unreadable: {exc}") from None
        try:
            for name, expected in manifest["files"].items():
                found = _fingerprint(path / name)
                if found != expected:
                    raise CacheDamaged(
                        f"{name}: size {found['size']} / sha256 {found['sha256'][:12]}, "
                        f"manifest says {expected['size']} / {expected['sha256'][:12]}"
                    )
            listed = set(manifest["files"])
            wallets = {n for n in listed if n.startswith(f"{WALLETS_DIR}/") and n.endswith(".keys")}
            if listed - wallets != {CHAIN_FILE, BLOCKS_FILE}:
                raise CacheDamaged(f"unexpected files {sorted(listed)}")
            return CacheEntry(
                path=path,
                digest=str(manifest["digest"]),
                chain_epoch=int(manifest["chain_epoch"]),
                height=int(manifest["height"]),
                created=float(manifest["created"]),
            )
        except FileNotFoundError as exc:
            raise CacheDamaged(f"missing file {Path(exc.filename or '?').name}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CacheDamaged(f"manifest malformed ({exc})") from None

    def _discard(self, path: Path) -> None:
        aside = path.with_name(f".damaged-{path.name}-{uuid.uuid4().hex[:8]}")
        with contextlib.suppress(OSError):
            os.rename(path, aside)
        shutil.rmtree(aside, ignore_errors=True)


class CacheDamaged(Exception):
    """An entry whose files do not match its manifest."""


def _fingerprint(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}
