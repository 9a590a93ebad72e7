"""Script ``arguments`` written as command-line options, read like mapping keys.

The design examples write ``- "--interval 120"``: an option and its value in one
list item. People also write them as separate items, or as ``--interval=120``.
Each item is split as a shell would (shlex); the options then become entries of
a :class:`MappingReader`, so they are converted, defaulted and checked for typos
exactly like keys. Every problem points at the list item holding the bad token.
"""

from __future__ import annotations

import shlex

from monerosim_core.config.errors import ProblemLog
from monerosim_core.config.reader import MappingReader
from monerosim_core.config.yaml_source import Entry, Node, describe

_EXPECTED_ITEM = 'a list of options such as "--interval 120"'


def read_arguments(section: MappingReader) -> MappingReader:
    """The options in ``section``'s ``arguments`` list, keyed by option name."""
    list_key = section.key_of("arguments")
    log = section.log
    tokens = _tokens(section.items("arguments", _EXPECTED_ITEM) or [], log)
    entries: dict[str, Entry] = {}
    index = 0
    while index < len(tokens):
        token, item = tokens[index]
        index += 1
        if not token.startswith("--"):
            log.error(item.pos, item.key, f"unexpected argument '{token}'; options start with '--'")
            continue
        name, equals, inline = token.partition("=")
        value_key = f"{list_key} {name}"
        if equals:
            value = Node(inline, value_key, item.pos)
        elif index < len(tokens) and not tokens[index][0].startswith("--"):
            value = Node(tokens[index][0], value_key, tokens[index][1].pos)
            index += 1
        else:
            # Left null: reading a known option then reports "found nothing",
            # and an unknown one is reported once, as unknown.
            value = Node(None, value_key, item.pos)
        if name in entries:
            log.error(item.pos, item.key, f"option '{name}' is given twice")
            continue
        entries[name] = Entry(name, item.key, item.pos, value)
    return MappingReader(list_key, section.pos, log, entries, noun="option", null_is_absent=False)


def _tokens(items: list[Node], log: ProblemLog) -> list[tuple[str, Node]]:
    tokens: list[tuple[str, Node]] = []
    for item in items:
        value = item.value
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            log.error(item.pos, item.key, f"expected an option or a value, found {describe(value)}")
            continue
        try:
            tokens.extend((token, item) for token in shlex.split(str(value)))
        except ValueError as exc:
            log.error(item.pos, item.key, f"cannot split {describe(value)}: {exc}")
    return tokens
