"""The conductor's wire format: one JSON object per line on a Unix stream socket.

Agent to conductor:

* ``{"hello": AGENT_ID}``: first message; answered when every expected agent has
  said hello, with the start time (``{"now": 0.0}``).
* ``{"sleep_until": T}``: the agent has finished its action and waits for simulated
  time T. Answered with ``{"now": T}`` when time gets there, or with
  ``{"now": STOP_TIME, "stop": true}`` when the run ends first.
* ``{"done": true}``: the agent leaves before the end (nothing more to do); its
  connection then closes without that counting as a failure.

A connection that closes without ``done`` while the run goes on is an agent lost.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

HELLO = "hello"
SLEEP_UNTIL = "sleep_until"
DONE = "done"
NOW = "now"
STOP = "stop"

MAX_LINE = 4096  # every message is a few dozen bytes; more means a confused peer


class ProtocolError(Exception):
    """A message that is not one of the protocol's."""


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except ValueError:
        raise ProtocolError(f"not JSON: {line[:80]!r}") from None
    if not isinstance(message, dict):
        raise ProtocolError(f"not a JSON object: {line[:80]!r}")
    return message


@attrs.define
class LineBuffer:
    """Splits a byte stream into lines."""

    _pending: bytes = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        if len(self._pending) > MAX_LINE:
            raise ProtocolError("line too long")
        return lines
