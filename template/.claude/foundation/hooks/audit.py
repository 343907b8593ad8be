"""The audit log: one JSON line per agent event, hash-chained, safe under concurrent sessions.

    python3 .claude/foundation/hooks/audit.py hook      (wired in settings.json; reads the event on stdin)
    python3 .claude/foundation/hooks/audit.py verify [LOG]

Each record carries `prev`, the SHA-256 of the line before it, so an edited, deleted or inserted line breaks
the chain at a known line number; a head file beside the log (LOG.head) holds the count and the hash of the
last line, so a truncated log is caught too. Writers take an exclusive lock, so records from several agent
sessions never interleave. Standard library only.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterator

GENESIS = "0" * 64
DEFAULT_LOG = ".claude/audit/audit.jsonl"
MAX_VALUE_CHARS = 2000
POLICY_FILE = Path(".claude/foundation/policy.json")

# Secrets never reach the log: tokens, keys, passwords and credentials inside URLs are masked.
REDACTIONS = [
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S), "[REDACTED PRIVATE KEY]"),
    (re.compile(r"(?i)\b(bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [REDACTED]"),
    (re.compile(r"(?i)([a-z0-9_-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth)[a-z0-9_-]*\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)"), r"\1[REDACTED]"),
    (re.compile(r"(?i)(--?(?:password|passwd|token|api-key|secret)[= ])(\S+)"), r"\1[REDACTED]"),
    (re.compile(r"([a-z][a-z0-9+.-]*://)([^/\s:@]+):([^/\s@]+)@"), r"\1\2:[REDACTED]@"),
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"), "[REDACTED AWS KEY]"),
    (re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b"), "[REDACTED GITHUB TOKEN]"),
    (re.compile(r"\b(sk-(?:ant-)?[A-Za-z0-9_-]{16,}|xox[abpr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{30,})\b"), "[REDACTED API KEY]"),
]


def redact(value: Any) -> Any:
    """A copy of value with every secret-looking string masked and long strings cut."""
    if isinstance(value, str):
        for pattern, replacement in REDACTIONS:
            value = pattern.sub(replacement, value)
        return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + f"...[{len(value)} chars]"
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


@contextlib.contextmanager
def locked(log: Path) -> Iterator[None]:
    """Exclusive lock across processes, held while a record is appended."""
    log.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(log) + ".lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def read_head(log: Path) -> tuple[int, str]:
    try:
        head = json.loads(Path(str(log) + ".head").read_text(encoding="utf-8"))
        return int(head["count"]), str(head["last"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0, GENESIS


def append(log: Path, record: dict[str, Any]) -> None:
    """Append one record to the chain; raises OSError when the log cannot be written."""
    with locked(log):
        count, last = read_head(log)
        line = json.dumps({**record, "prev": last}, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        fd = os.open(str(log), os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        head = Path(str(log) + ".head")
        tmp = head.with_name(head.name + f".{os.getpid()}")
        tmp.write_text(json.dumps({"count": count + 1, "last": line_hash(line)}), encoding="utf-8")
        os.replace(tmp, head)


def load_policy(project_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((project_dir / POLICY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def log_path(project_dir: Path, policy: dict[str, Any]) -> Path:
    return project_dir / ((policy.get("audit") or {}).get("path") or DEFAULT_LOG)


def make_record(event: dict[str, Any], policy: dict[str, Any], decision: str | None = None, reason: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "ts": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
        "event": event.get("hook_event_name", "unknown"),
        "session": event.get("session_id"),
        "team": policy.get("team"),
        "template_version": policy.get("template_version"),
        "cwd": event.get("cwd"),
    }
    if "tool_name" in event:
        record["tool"] = event.get("tool_name")
        record["input"] = redact(event.get("tool_input"))
    if decision is not None:
        record["decision"] = decision
        record["reason"] = reason
    if "tool_response" in event or record["event"] == "PostToolUseFailure":
        response = event.get("tool_response")
        text = json.dumps(response, ensure_ascii=False, default=str) if response is not None else ""
        failed = record["event"] == "PostToolUseFailure" or (isinstance(response, dict) and bool(response.get("is_error") or response.get("interrupted")))
        record["result"] = {"status": "error" if failed else "success", "size": len(text)}
        if event.get("error"):
            record["result"]["error"] = redact(str(event["error"]))[:500]
    if record["event"] == "SessionStart":
        record["source"] = event.get("source")
    if record["event"] == "SessionEnd":
        record["end_reason"] = event.get("reason")
    return record


def project_dir_of(event: dict[str, Any]) -> Path:
    return Path(os.environ.get("CLAUDE_PROJECT_DIR") or event.get("cwd") or os.getcwd())


def record_event(event: dict[str, Any], decision: str | None = None, reason: str | None = None, policy: dict[str, Any] | None = None) -> None:
    """Write the audit record of one hook event (the guard calls this for its own decisions)."""
    project_dir = project_dir_of(event)
    policy = policy if policy is not None else load_policy(project_dir)
    append(log_path(project_dir, policy), make_record(event, policy, decision, reason))


def verify(log: Path) -> list[str]:
    """Every break in the chain, with its line number; empty when the log is intact."""
    problems: list[str] = []
    if not log.exists():
        return [f"{log}: no audit log"]
    previous = GENESIS
    count = 0
    with log.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            count = number
            try:
                record = json.loads(line)
            except ValueError:
                problems.append(f"line {number}: not valid JSON (edited or truncated)")
                previous = line_hash(line)
                continue
            if record.get("prev") != previous:
                problems.append(f"line {number}: chain broken (line {number - 1} was edited, or a line before {number} was deleted or inserted)")
            previous = line_hash(line)
    head_count, head_last = read_head(log)
    if head_count and (head_count != count or head_last != previous):
        problems.append(f"line {count + 1}: log ends early: the head file records {head_count} lines, the log has {count} (truncated or lines deleted at the end)")
    return problems


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "hook"
    if command == "verify":
        project_dir = Path(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
        log = Path(argv[2]) if len(argv) > 2 else log_path(project_dir, load_policy(project_dir))
        problems = verify(log)
        for problem in problems:
            print(f"{log}: {problem}")
        if not problems:
            print(f"{log}: chain intact")
        return 1 if problems else 0
    if command == "hook":
        event = json.loads(sys.stdin.read() or "{}")
        record_event(event)
        return 0
    print(f"usage: {argv[0]} hook | verify [LOG]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
