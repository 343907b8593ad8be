"""Audit logs: how often the guard denied or asked, by policy family and by team.

Reads the JSON-lines logs the audit hook writes (`.claude/audit/audit.jsonl`); only records carrying a
decision count. A line that is not JSON is counted as unreadable and skipped.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from ..foundation import Foundation

_RULE = re.compile(r"\(rule ([A-Za-z0-9_.-]+)\)|\brule ([A-Za-z0-9_.-]+)")
# Rules the guard applies that are not policy commands
BUILT_IN_FAMILIES = {
    "secrets-read": "secrets",
    "foundation-tamper": "foundation-tamper",
    "mcp-unvetted": "mcp",
    "mcp-write": "mcp",
    "malformed-input": "malformed-input",
}
DECISIONS = ("deny", "ask")


def families(foundation: Foundation) -> dict[str, str]:
    out = dict(BUILT_IN_FAMILIES)
    for command in foundation.policy.get("commands") or []:
        out[str(command["id"])] = str(command.get("family") or command["id"])
    return out


class AuditSummary:
    def __init__(self, rule_families: dict[str, str]):
        self.rule_families = rule_families
        self.by_family: Counter[tuple[str, str]] = Counter()
        self.by_team: Counter[tuple[str, str]] = Counter()
        self.by_rule: Counter[tuple[str, str]] = Counter()
        self.records = 0
        self.unreadable = 0
        self.files: list[str] = []
        self.errors: list[str] = []

    def add_file(self, path: Path, default_team: str | None = None) -> None:
        try:
            handle = path.open("r", encoding="utf-8", errors="replace")
        except OSError as error:
            self.errors.append(f"cannot read audit log {path}: {error.strerror or error}")
            return
        self.files.append(str(path))
        with handle:
            for line in handle:
                if '"decision"' not in line:
                    if line.strip():
                        self.records += 1
                    continue
                self.records += 1
                try:
                    record = json.loads(line)
                except ValueError:
                    self.unreadable += 1
                    continue
                if isinstance(record, dict):
                    self.add_record(record, default_team)

    def add_record(self, record: dict[str, Any], default_team: str | None = None) -> None:
        decision = record.get("decision")
        if decision not in DECISIONS:
            return
        reason = str(record.get("reason") or "")
        match = _RULE.search(reason)
        rule = (match.group(1) or match.group(2)) if match else None
        if rule is None and str(record.get("tool") or "").startswith("mcp__"):
            rule = "mcp-unvetted" if "not in the vetted registry" in reason else "mcp-write"
        family = self.rule_families.get(rule or "", "client-rules" if rule is None else "other")
        team = str(record.get("team") or default_team or "(unknown)")
        self.by_family[(family, decision)] += 1
        self.by_team[(team, decision)] += 1
        self.by_rule[(rule or "(client permission rule)", decision)] += 1

    def as_json(self) -> dict[str, Any]:
        def table(counter: Counter[tuple[str, str]], key: str) -> list[dict[str, Any]]:
            names = sorted({name for name, _ in counter}, key=lambda n: (-(counter[(n, "deny")] + counter[(n, "ask")]), n))
            return [{key: name, "deny": counter[(name, "deny")], "ask": counter[(name, "ask")]} for name in names]

        return {
            "files": len(self.files),
            "records": self.records,
            "unreadable_lines": self.unreadable,
            "denials": sum(v for (_, d), v in self.by_family.items() if d == "deny"),
            "asks": sum(v for (_, d), v in self.by_family.items() if d == "ask"),
            "by_family": table(self.by_family, "family"),
            "by_team": table(self.by_team, "team"),
            "by_rule": table(self.by_rule, "rule"),
            "errors": self.errors,
        }


def log_files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*.jsonl") if p.is_file())
        else:
            out.append(path)
    return out


DEFAULT_LOG = ".claude/audit/audit.jsonl"


def log_path_in(policy: Any) -> str | None:
    """Where a repository's audit log is, from its parsed policy.json (the default when it does not say);
    None when it points outside the repository (not the fleet's to read)."""
    audit = policy.get("audit") if isinstance(policy, dict) else None
    relative = str((audit.get("path") if isinstance(audit, dict) else None) or DEFAULT_LOG)
    if relative.startswith("/") or ".." in Path(relative).parts:
        return None
    return relative


def repo_log(repo: Path, relative: str | None = DEFAULT_LOG, *, policy_read: bool = False) -> Path | None:
    """The audit log inside a team repository (gitignored, so only in local folders), if any. `relative`: where
    the scan found policy.json puts it (`policy_read`); otherwise policy.json is read here."""
    if not policy_read:
        try:
            relative = log_path_in(json.loads((repo / ".claude/foundation/policy.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            relative = DEFAULT_LOG
    if relative is None:
        return None
    path = repo / relative
    return path if path.is_file() else None


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Several summaries' JSON (one per shard) as the one summary of all their logs."""
    summary = AuditSummary({})
    for part in parts:
        summary.files += [""] * int(part["files"])
        summary.records += int(part["records"])
        summary.unreadable += int(part["unreadable_lines"])
        summary.errors += list(part["errors"])
        for counter, table, key in ((summary.by_family, "by_family", "family"), (summary.by_team, "by_team", "team"),
                                    (summary.by_rule, "by_rule", "rule")):
            for item in part[table]:
                for decision in DECISIONS:
                    if item[decision]:
                        counter[(item[key], decision)] += int(item[decision])
    return summary.as_json()
