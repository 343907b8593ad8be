"""The installed client's own settings schema, read from inside its npm package.

The client ships its settings schema compiled into its binary (zod: `key: <type>...describe("...")`, 2.1.197
writes `key:H.string()...`, 2.1.332 `key:()=>r()...`). `SettingsSchema(binary).property(key)` returns the
schema text of that key (its type and description), or None when the client has no such setting.
"""

from __future__ import annotations

import mmap
import re
from pathlib import Path

# How much of the schema text after a key to return: enough for its type and its description.
PROPERTY_WINDOW = 3000


class SettingsSchema:
    def __init__(self, claude_bin: Path):
        self.path = Path(claude_bin).resolve()
        if self.path.name != "claude.exe":  # node_modules/.bin/claude -> the package's bin/claude.exe
            candidate = self.path.parent / "claude.exe"
            self.path = candidate if candidate.is_file() else self.path

    def property(self, key: str) -> str | None:
        needle = key.encode() + b":"
        type_call = re.compile(rb"(?:\(\)=>)?[A-Za-z_$][\w$]*(?:\.[\w$]+)*\(")
        with self.path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            at = data.find(needle)
            while at >= 0:  # mmap.find is a fast scan; a regex over the whole binary takes a minute
                if at > 0 and data[at - 1: at] in (b",", b"{", b"("):
                    text = data[at - 1: at + PROPERTY_WINDOW]
                    if type_call.match(text, len(needle) + 1) and b".describe(" in text:
                        return text.decode("utf-8", "replace")
                at = data.find(needle, at + 1)
        return None

    def contains(self, text: str) -> bool:
        with self.path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(text.encode()) >= 0
