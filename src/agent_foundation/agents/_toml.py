"""A small TOML writer for the configuration the foundation renders (strings, booleans, integers, lists, inline
tables of strings, and tables). Reading is tomllib's job; tests read every rendered file back with it."""

from __future__ import annotations

import json
from typing import Any


def value(item: Any) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, str):
        return json.dumps(item, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(item, list):
        return "[" + ", ".join(value(v) for v in item) + "]"
    if isinstance(item, dict):
        return "{ " + ", ".join(f"{key(k)} = {value(v)}" for k, v in item.items()) + " }" if item else "{}"
    raise TypeError(f"cannot write {type(item).__name__} as TOML")


def key(name: str) -> str:
    return name if name.replace("_", "a").replace("-", "a").isalnum() and name.isascii() else json.dumps(name)


def dumps(document: dict[str, Any], header: str = "") -> str:
    """Top-level keys first, then each table (a dict of dicts nests as [a.b])."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    _table(document, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _table(table: dict[str, Any], path: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if not _is_table(v)}
    if path and (scalars or not table):
        lines += ["", "[" + ".".join(key(p) for p in path) + "]"]
    lines += [f"{key(k)} = {value(v)}" for k, v in scalars.items()]
    for name, sub in table.items():
        if _is_table(sub):
            _table(sub, [*path, name], lines)


def _is_table(item: Any) -> bool:
    return isinstance(item, dict) and not isinstance(item, InlineTable)


class InlineTable(dict):
    """A mapping written inline ({ a = "b" }), e.g. an MCP server's env."""
