"""The rollout report: built as the run goes, kept on disk so a killed run leaves what it did, and merged from shards.

While a run works, every finished row is appended to a journal (JSON Lines: the run's header, then one row per
line, each line one write, flushed and synced) and the report file is rewritten atomically (a temporary file
renamed over it), so the report on disk is always valid JSON. Rewriting costs more as the report grows, so it
is spaced out to a small share of the run's time; the journal always has every row. A finished run writes
the complete report and removes the journal. `rollout merge` reads reports and journals alike.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterable

SCHEMA = "agent-foundation.rollout-report"
SCHEMA_VERSION = 1
STATUSES = ("updated", "current", "branch-pushed", "conflict", "failed")
PATHS = ("fast", "full")
# What a shard's report must share with the others to be merged: the same rollout, only its repositories differ.
SAME_ROLLOUT = ("schema", "schema_version", "version", "branch", "push", "template", "sources")
REWRITE_SHARE = 0.02  # rewriting the report on disk takes at most this share of the run's time


class MergeError(ValueError):
    pass


def totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts = {status: sum(1 for row in rows if row["status"] == status) for status in STATUSES}
    counts["repos"] = len(rows)
    counts["fast"] = sum(1 for row in rows if row.get("path") == "fast")
    return counts


def assemble(header: dict[str, Any], rows: Iterable[dict[str, Any]], *, complete: bool, seconds: float) -> dict[str, Any]:
    """The report (docs/rollout-schema.json): the run's header, its rows in source order, and what they add up to."""
    ordered = sorted(rows, key=lambda row: row["index"])
    counts = totals(ordered)
    return {**header, "seconds": round(seconds, 2), "complete": complete, "totals": counts,
            "ok": complete and counts["conflict"] == 0 and counts["failed"] == 0, "repos": ordered}


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with_suppressed_unlink(temporary)
        raise


def with_suppressed_unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def journal_path(report: Path) -> Path:
    return report.with_name(report.name + ".journal.jsonl")


class LiveReport:
    """The report of a run in progress, on disk at `path` (and its journal beside it)."""

    def __init__(self, path: Path, header: dict[str, Any]):
        self.path, self.header = path, header
        self.rows: list[dict[str, Any]] = []
        self.stopped_by: str | None = None  # the signal that stopped the run, if one did
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._next_rewrite = 0.0
        self.journal = journal_path(path)
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        self._journal = open(self.journal, "w", encoding="utf-8")  # noqa: SIM115 - open for the whole run
        self._append({"header": header})
        self._rewrite()

    def _append(self, record: dict[str, Any]) -> None:
        self._journal.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    def _rewrite(self, *, complete: bool = False) -> dict[str, Any]:
        started = time.monotonic()
        data = assemble(self.header, self.rows, complete=complete, seconds=started - self.started)
        write_atomically(self.path, dumps(data))
        now = time.monotonic()
        self._next_rewrite = now + (now - started) / REWRITE_SHARE
        return data

    def add(self, row: dict[str, Any]) -> None:
        with self._lock:
            self.rows.append(row)
            self._append({"row": row})
            if time.monotonic() >= self._next_rewrite:
                self._rewrite()

    def snapshot(self) -> dict[str, Any]:
        """What was done so far, written to disk now (a run being stopped)."""
        with self._lock:
            return self._rewrite()

    def finish(self) -> dict[str, Any]:
        with self._lock:
            data = self._rewrite(complete=True)
            self._journal.close()
            with_suppressed_unlink(str(self.journal))
            return data


# ---------------------------------------------------------------- reading parts back, and merging shards


def load_part(path: Path) -> dict[str, Any]:
    """A report (.json) or a killed run's journal (.jsonl) as a report."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MergeError(f"cannot read {path}: {error}") from error
    if path.suffix == ".jsonl":
        return _from_journal(path, text)
    try:
        data = json.loads(text)
    except ValueError as error:
        raise MergeError(f"{path} is not JSON ({error}); give the report a rollout wrote with --json, or its "
                         ".journal.jsonl") from error
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise MergeError(f"{path} is not a rollout report (its schema is not {SCHEMA})")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise MergeError(f"{path} has schema_version {data.get('schema_version')!r}; this version reads {SCHEMA_VERSION}")
    return data


def _from_journal(path: Path, text: str) -> dict[str, Any]:
    header, rows = None, []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(text.splitlines()):
                break  # the last line a killed run was writing: every line before it is whole
            raise MergeError(f"{path} line {number} is not JSON") from None
        if "header" in record:
            header = record["header"]
        elif "row" in record:
            rows.append(record["row"])
    if not header or header.get("schema") != SCHEMA:
        raise MergeError(f"{path} is not a rollout journal (no header line with schema {SCHEMA})")
    return assemble(header, rows, complete=False, seconds=0.0)


def merge(parts: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The report one run over every shard's repositories gives: rows in source order, totals recomputed."""
    if not parts:
        raise MergeError("give at least one report to merge")
    first_name, first = parts[0]
    for name, part in parts[1:]:
        for key in SAME_ROLLOUT:
            if part.get(key) != first.get(key):
                raise MergeError(f"{name} and {first_name} are not shards of one rollout: their {key} differ "
                                 f"({part.get(key)!r} and {first.get(key)!r})")
    shards = [part.get("shard") for _, part in parts]
    count = (shards[0] or {}).get("count", 1)
    seen: dict[int, str] = {}
    for (name, _), shard in zip(parts, shards):
        index = (shard or {}).get("index", 1)
        if (shard or {}).get("count", 1) != count:
            raise MergeError(f"{name} is shard {index} of {(shard or {}).get('count', 1)}, the others are of {count}")
        if index in seen:
            raise MergeError(f"{name} and {seen[index]} are both shard {index}/{count}")
        seen[index] = name
    missing = sorted(set(range(1, count + 1)) - set(seen))
    rows: dict[int, dict[str, Any]] = {}
    for name, part in parts:
        for row in part.get("repos") or []:
            if row["index"] in rows:
                raise MergeError(f"{name} repeats repository #{row['index']} ({row['source']})")
            rows[row["index"]] = row
    complete = not missing and all(part.get("complete") for _, part in parts) and len(rows) == first.get("sources")
    header = {key: value for key, value in first.items() if key not in ("seconds", "complete", "totals", "ok", "repos")}
    header["generated_at"] = max(str(part.get("generated_at") or "") for _, part in parts)
    header["shard"] = None
    header["workdir"] = first["workdir"] if all(part.get("workdir") == first.get("workdir") for _, part in parts) else None
    merged = assemble(header, rows.values(), complete=complete, seconds=max(part.get("seconds") or 0 for _, part in parts))
    if missing:
        merged["missing_shards"] = missing
    return merged
