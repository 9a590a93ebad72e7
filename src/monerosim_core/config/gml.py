"""A GML network topology for the Shadow engine, checked against Shadow's rules.

Shadow 3.x reads GML line by line and explains little when a file breaks its rules,
so a topology is checked here, when the config is loaded, and every problem names
the GML file's line and column:

- one entry per line: ``key value``, ``key [`` (a line break after every ``[``),
  or a lone ``]``;
- a ``graph [`` holding ``node [`` and ``edge [`` blocks;
- every node has a whole-number ``id`` (unique) and ``host_bandwidth_up`` and
  ``host_bandwidth_down`` (Shadow ignores a host's own bandwidth in 3.x, so the
  nodes must carry it);
- every edge joins two known nodes, with a non-zero ``latency`` ("10 ms") and a
  ``packet_loss``, if given, from 0 to 1;
- the nodes are connected (Shadow routes along shortest paths).

:func:`read_gml` returns what the engine needs: the node ids, and which nodes have
a self-loop (hosts attached to the same node talk over it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import attrs

from monerosim_core.config.durations import parse_duration
from monerosim_core.config.errors import ProblemLog
from monerosim_core.config.model import GmlTopology, SourcePos

_ENTRY = re.compile(r'(?P<key>[A-Za-z_][A-Za-z0-9_]*)[ \t]+(?P<value>"[^"]*"|[^\s"\[\]]+|\[)')
_BANDWIDTH = re.compile(r"\s*\d+(\.\d+)?\s*[KMGT]?i?(bit|byte|B)\s*")


@attrs.frozen
class _Line:
    number: int
    col: int  # of the first character of the entry
    key: str
    value: str  # '[' opens a block; ']' closes one (then key is '')


@attrs.define
class _Block:
    line: _Line
    entries: list[_Line] = attrs.field(factory=list)
    children: list[_Block] = attrs.field(factory=list)

    def value(self, key: str) -> _Line | None:
        found = [e for e in self.entries if e.key == key]
        return found[0] if found else None


def read_gml(path: str, config_key: str, log: ProblemLog) -> GmlTopology | None:
    """The topology in ``path``, or None after logging every problem (at the GML
    file's own positions, under ``config_key``)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        log.error(SourcePos(path, 1, 1), config_key, f"cannot read the GML topology: {exc}")
        return None
    checker = _Checker(path, config_key, log)
    graph = checker.parse(text)
    return None if graph is None else checker.topology(graph)


@attrs.define
class _Checker:
    path: str
    key: str
    log: ProblemLog
    failed: bool = False

    def problem(self, line: int, col: int, message: str) -> None:
        self.failed = True
        self.log.error(SourcePos(self.path, line, col), self.key, message)

    def parse(self, text: str) -> _Block | None:
        """The ``graph`` block, with the line rules checked on the way."""
        root = _Block(_Line(0, 1, "", "["))
        stack = [root]
        for line in self._lines(text):
            if line.value == "]":
                if len(stack) == 1:
                    self.problem(line.number, line.col, "']' closes no block")
                else:
                    stack.pop()
            elif line.value == "[":
                block = _Block(line)
                stack[-1].children.append(block)
                stack.append(block)
            else:
                stack[-1].entries.append(line)
        if self.failed:
            return None  # a skipped line leaves the blocks' structure unknown
        if len(stack) > 1:
            opened = stack[-1].line
            self.problem(opened.number, opened.col, f"'{opened.key} [' is never closed")
            return None
        graphs = [b for b in root.children if b.line.key == "graph"]
        if len(graphs) != 1 or root.entries or len(root.children) != 1:
            self.problem(1, 1, "expected exactly one 'graph [' block and nothing outside it")
            return None
        return graphs[0]

    def _lines(self, text: str) -> Iterator[_Line]:
        for number, raw in enumerate(text.splitlines(), start=1):
            stripped = raw.strip()
            col = len(raw) - len(raw.lstrip()) + 1
            if not stripped or stripped.startswith("#"):
                continue
            if stripped == "]":
                yield _Line(number, col, "", "]")
                continue
            match = _ENTRY.match(stripped)
            if match is None:
                self.problem(number, col, f"expected 'key value', 'key [' or ']', found {raw!r}")
                continue
            rest = stripped[match.end() :].strip()
            if rest:
                what = "a line break after '['" if match["value"] == "[" else "one entry per line"
                self.problem(number, col + match.end(), f"Shadow needs {what}; found {rest!r}")
                continue
            yield _Line(number, col, match["key"], match["value"])

    def topology(self, graph: _Block) -> GmlTopology | None:
        nodes: dict[int, _Line] = {}
        for block in graph.children:
            if block.line.key == "node":
                node_id = self._node(block)
                if node_id is not None and node_id in nodes:
                    self.problem(block.line.number, block.line.col, f"node id {node_id} repeats")
                elif node_id is not None:
                    nodes[node_id] = block.line
        edges = [e for b in graph.children if b.line.key == "edge" if (e := self._edge(b, nodes))]
        if not nodes:
            self.problem(graph.line.number, graph.line.col, "the graph has no node")
        if self.failed:
            return None
        self._check_connected(graph.line, list(nodes), edges)
        if self.failed:
            return None
        return GmlTopology(
            path=self.path,
            nodes=tuple(nodes),
            self_loops=frozenset(a for a, b in edges if a == b),
        )

    def _node(self, block: _Block) -> int | None:
        node_id = self._whole(block, "id")
        for key in ("host_bandwidth_up", "host_bandwidth_down"):
            entry = block.value(key)
            if entry is None:
                self.problem(
                    block.line.number,
                    block.line.col,
                    f'node has no {key}; expected a bandwidth such as "100 Mbit"',
                )
            elif not _BANDWIDTH.fullmatch(entry.value.strip('"')):
                self.problem(
                    entry.number,
                    entry.col,
                    f'{key}: expected a bandwidth such as "100 Mbit", found {entry.value}',
                )
        return node_id

    def _edge(self, block: _Block, nodes: dict[int, _Line]) -> tuple[int, int] | None:
        ends = [self._whole(block, key) for key in ("source", "target")]
        for key, end in zip(("source", "target"), ends, strict=True):
            if end is not None and end not in nodes:
                entry = block.value(key)
                assert entry is not None
                self.problem(entry.number, entry.col, f"{key} {end} is not a node id")
        latency = block.value("latency")
        if latency is None:
            self.problem(block.line.number, block.line.col, 'edge has no latency such as "10 ms"')
        else:
            try:
                seconds = parse_duration(latency.value.strip('"'))
            except ValueError:
                seconds = None
            if seconds is None or not latency.value.startswith('"'):
                self.problem(
                    latency.number,
                    latency.col,
                    f'latency: expected a quoted duration such as "10 ms", found {latency.value}',
                )
            elif seconds <= 0:
                self.problem(latency.number, latency.col, "latency: Shadow needs it above zero")
        loss = block.value("packet_loss")
        if loss is not None:
            try:
                fits = 0.0 <= float(loss.value) <= 1.0
            except ValueError:
                fits = False
            if not fits:
                self.problem(
                    loss.number,
                    loss.col,
                    f"packet_loss: expected a number from 0 to 1, found {loss.value}",
                )
        source, target = ends
        if source is None or target is None or source not in nodes or target not in nodes:
            return None
        return source, target

    def _whole(self, block: _Block, key: str) -> int | None:
        entry = block.value(key)
        if entry is None:
            self.problem(block.line.number, block.line.col, f"{block.line.key} has no {key}")
            return None
        if not re.fullmatch(r"-?\d+", entry.value):
            self.problem(
                entry.number, entry.col, f"{key}: expected a whole number, found {entry.value}"
            )
            return None
        return int(entry.value)

    def _check_connected(
        self, where: _Line, nodes: list[int], edges: list[tuple[int, int]]
    ) -> None:
        neighbours: dict[int, set[int]] = {n: set() for n in nodes}
        for a, b in edges:
            neighbours[a].add(b)
            neighbours[b].add(a)
        seen, todo = {nodes[0]}, [nodes[0]]
        while todo:
            for other in neighbours[todo.pop()] - seen:
                seen.add(other)
                todo.append(other)
        cut_off = [n for n in nodes if n not in seen]
        if cut_off:
            shown = ", ".join(map(str, cut_off[:10]))
            self.problem(
                where.number,
                where.col,
                f"the graph is not connected: no path from node {nodes[0]} to node(s) {shown}",
            )
