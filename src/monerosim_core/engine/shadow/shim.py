"""The setsockopt shim stock Shadow needs for monerod, compiled with the simulation.

The C source ships with monerosim (``setsockopt_shim.c``, which says why it is
needed and how it works); it is compiled into the run directory whenever a
simulation is written, with ``$CC``, ``gcc`` or ``cc``. The patched Shadow that
Monero researchers use (``shadowformonero``) implements those socket options and
needs no shim.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

SHIM_SOURCE = "setsockopt_shim.c"
SHIM_LIBRARY = "libmonerosim_shim.so"
COMPILE_TIMEOUT = 120.0  # seconds; it takes well under one


class ShimError(Exception):
    """The shim cannot be built (no C compiler, or it failed)."""


def find_compiler() -> str | None:
    """The C compiler to use: ``$CC`` if set and found, else gcc, else cc."""
    candidates = [os.environ.get("CC", ""), "gcc", "cc"]
    for name in candidates:
        found = shutil.which(name) if name else None
        if found:
            return found
    return None


def build_shim(directory: Path) -> Path:
    """Compile the shim into ``directory``; the path of the shared library."""
    compiler = find_compiler()
    if compiler is None:
        raise ShimError(
            "no C compiler found (looked for $CC, gcc and cc): stock Shadow needs a small "
            "setsockopt shim for monerod, compiled when the simulation is written; install "
            "one (Debian: apt-get install gcc), or use the patched Shadow with "
            "--shadow-variant shadowformonero"
        )
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / SHIM_SOURCE
    library = directory / SHIM_LIBRARY
    source.write_bytes(resources.files(__package__).joinpath(SHIM_SOURCE).read_bytes())
    command = [compiler, "-shared", "-fPIC", "-O2", "-Wall", "-o", str(library), str(source)]
    try:
        done = subprocess.run(
            [*command, "-ldl"], capture_output=True, text=True, timeout=COMPILE_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ShimError(f"could not run {compiler}: {exc}") from None
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-10:])
        raise ShimError(f"{compiler} could not compile {source}:\n{tail}")
    return library
