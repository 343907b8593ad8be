"""Reading a team repository's bytes safely: no link is ever followed, no file is read whole when it is huge,
and every name or text that reaches the report is valid Unicode that every output format can write.

A team repository is data from somewhere else. Its folder names need not be UTF-8 (Python hands them over as
lone surrogates, which no UTF-8 writer accepts), its JSON may hold `\\udcff` escapes, a skill folder may be a
link to /etc, and a SKILL.md may be 50 MB. Each of these is reported (`skipped_files` on the repository's row)
and none stops the report.
"""

from __future__ import annotations

import os
import re
import stat
from typing import Any

MAX_FILE_BYTES = 8 * 1024 * 1024
_SURROGATE_OR_CONTROL = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _replace(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 in a file or folder name: show the byte
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:  # a lone surrogate from a JSON or YAML escape
        return "\ufffd"
    return f"\\x{code:02x}"  # a control character (an escape sequence would drive the terminal)


def clean_text(text: str) -> str:
    """`text` as valid, printable Unicode: undecodable bytes as \\xNN, lone surrogates as U+FFFD, control
    characters (but tab and newline) as \\xNN."""
    if text.isascii() and text.isprintable():
        return text
    return _SURROGATE_OR_CONTROL.sub(_replace, text)


def clean(value: Any) -> Any:
    """Every string in a JSON-like structure (keys too) made writable; anything else kept as it is."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, tuple):
        return [clean(v) for v in value]
    return value


class RepoFiles:
    """One repository's files, read without following any link on the way (a linked folder such as
    `.claude -> /etc` counts as much as a linked file). What is not read is recorded in `skipped`."""

    def __init__(self, repo: str) -> None:
        self.repo = repo if repo.endswith(os.sep) else repo + os.sep
        self._dirs: dict[str, bool] = {"": True}
        self.skipped: dict[str, dict[str, Any]] = {}

    def skip(self, relative: str, reason: str, size: int | None = None, target: str | None = None) -> None:
        if relative not in self.skipped:
            self.skipped[relative] = {"path": clean_text(relative), "reason": reason, "size": size,
                                      "target": clean_text(target) if target is not None else None}

    def _link_target(self, relative: str) -> str | None:
        try:
            return os.readlink(self.repo + relative)
        except OSError:
            return None

    def dir_ok(self, relative_dir: str) -> bool:
        """Whether every folder on the way to `relative_dir` is a real folder (not a link)."""
        relative_dir = relative_dir.strip("/")
        known = self._dirs.get(relative_dir)
        if known is not None:
            return known
        parent = relative_dir.rpartition("/")[0]
        ok = self.dir_ok(parent)
        if ok:
            try:
                info = os.lstat(self.repo + relative_dir)
                if stat.S_ISLNK(info.st_mode):
                    self.skip(relative_dir, "link", target=self._link_target(relative_dir))
                    ok = False
                else:
                    ok = stat.S_ISDIR(info.st_mode)
            except OSError:
                ok = False
        self._dirs[relative_dir] = ok
        return ok

    def info(self, relative: str) -> os.stat_result | None:
        """lstat of a file whose folders are all real; None when it or its folder is missing or a link."""
        if not self.dir_ok(relative.rpartition("/")[0]):
            return None
        try:
            return os.lstat(self.repo + relative)
        except OSError:
            return None

    def read(self, relative: str, limit: int = MAX_FILE_BYTES) -> bytes | None:
        """The file's bytes; None when it is missing. A link (of the file or a folder on its way), a FIFO or a
        device, or a file over `limit` raises OSError and is recorded in `skipped` (with its size)."""
        folder = relative.rpartition("/")[0]
        if not self.dir_ok(folder):
            if folder and any(relative.startswith(skipped + "/") for skipped in self.skipped):
                raise OSError(f"{relative} is inside a linked folder; the fleet does not follow links")
            return None
        try:
            info = os.lstat(self.repo + relative)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if stat.S_ISDIR(info.st_mode):
            return None
        if stat.S_ISLNK(info.st_mode):
            self.skip(relative, "link", target=self._link_target(relative))
            raise OSError(f"{relative} is a symbolic link; the fleet does not follow links")
        if not stat.S_ISREG(info.st_mode):
            self.skip(relative, "not a regular file")
            raise OSError(f"{relative} is not a regular file (a FIFO, socket or device)")
        if info.st_size > limit:
            self.skip(relative, "too large", size=info.st_size)
            raise OSError(f"{relative} is {info.st_size} bytes, more than the {limit} the fleet reads")
        fd = os.open(self.repo + relative, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            return handle.read(limit + 1)

    def unsafe(self, relative: str) -> bool:
        """A file that exists but is a link, not a regular file, too large, or behind a linked folder."""
        if not self.dir_ok(relative.rpartition("/")[0]):
            return any(relative.startswith(skipped + "/") for skipped in self.skipped)
        try:
            info = os.lstat(self.repo + relative)
        except OSError:
            return False
        if stat.S_ISLNK(info.st_mode):
            self.skip(relative, "link", target=self._link_target(relative))
            return True
        if not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode):
            self.skip(relative, "not a regular file")
            return True
        if info.st_size > MAX_FILE_BYTES and stat.S_ISREG(info.st_mode):
            self.skip(relative, "too large", size=info.st_size)
            return True
        return False

    def skipped_list(self) -> list[dict[str, Any]]:
        return sorted(self.skipped.values(), key=lambda item: item["path"])
