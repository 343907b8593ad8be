"""A person who runs the foundation's hooks by hand gets usage, and nothing lands in the audit log; the client,
which pipes the event on stdin, still gets a decision that is logged."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HOOKS = Path(".claude/foundation/hooks")


@pytest.fixture
def team(rendered_team: Path, tmp_path: Path) -> Path:
    """A copy of the shared rendered team without the audit records other tests' hooks left in it."""
    team = Path(shutil.copytree(rendered_team, tmp_path / "team", symlinks=True))
    for log in (team / ".claude/audit").glob("*.jsonl*"):
        log.unlink()
    return team


def audit_records(team: Path) -> list[str]:
    return [line for log in (team / ".claude/audit").glob("*.jsonl") for line in log.read_text().splitlines()]


def run_hook(team: Path, script: str, *args: str, terminal: bool = False, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a hook script as a person would (stdin a terminal) or as the client does (stdin a pipe)."""
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(team)}
    command = [sys.executable, str(team / HOOKS / script), *args]
    if not terminal:
        return subprocess.run(command, cwd=team, env=env, input=stdin or "", capture_output=True, text=True, timeout=30)
    controller, terminal_end = pty.openpty()
    try:
        return subprocess.run(command, cwd=team, env=env, stdin=terminal_end, capture_output=True, text=True, timeout=30)
    finally:
        os.close(controller)
        os.close(terminal_end)


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_guard_help_prints_usage_and_logs_nothing(team: Path, flag: str) -> None:
    result = run_hook(team, "guard.py", flag)
    assert result.returncode == 0, result.stderr
    assert 'guard.py explain "COMMAND"' in result.stdout and "PreToolUse hook" in result.stdout
    assert "blocked" not in result.stderr
    assert audit_records(team) == []


def test_guard_at_a_terminal_prints_usage_and_logs_nothing(team: Path) -> None:
    result = run_hook(team, "guard.py", terminal=True)
    assert result.returncode == 2
    assert 'guard.py explain "COMMAND"' in result.stderr and "blocked" not in result.stderr
    assert audit_records(team) == []


@pytest.mark.parametrize("args", [[], ["hook"]])
def test_audit_without_an_event_prints_usage_and_records_nothing(team: Path, args: list[str]) -> None:
    result = run_hook(team, "audit.py", *args, terminal=True)
    assert result.returncode == 2
    assert "audit.py verify [LOG]" in result.stderr
    assert audit_records(team) == []


def test_audit_with_no_arguments_even_without_a_terminal_records_nothing(team: Path) -> None:
    result = run_hook(team, "audit.py")
    assert result.returncode == 2 and "audit.py verify [LOG]" in result.stderr
    assert audit_records(team) == []


def test_the_client_still_gets_decisions_and_records(team: Path) -> None:
    event = {"hook_event_name": "PreToolUse", "session_id": "s", "cwd": str(team), "tool_name": "Bash",
             "tool_input": {"command": "git push --force origin main"}}
    result = run_hook(team, "guard.py", stdin=json.dumps(event))
    assert result.returncode == 0 and json.loads(result.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"
    result = run_hook(team, "audit.py", "hook", stdin=json.dumps({**event, "hook_event_name": "SessionStart"}))
    assert result.returncode == 0, result.stderr
    assert len(audit_records(team)) == 2


@pytest.mark.parametrize("script, args", [("guard.py", []), ("audit.py", ["hook"])])
def test_a_hook_started_as_settings_json_starts_it_imports_no_heavy_module(team: Path, script: str, args: list[str]) -> None:
    """Started with `-S`, as every hook is, neither hook imports os (its collections ABCs), json or re (the
    pure-Python layers) or enum: what they cost would be paid on every tool call (benchmarks/guard_cost.py)."""
    event = {"hook_event_name": "PreToolUse", "session_id": "s", "cwd": str(team), "tool_name": "Bash",
             "tool_input": {"command": "X=/; cd src && bash -c \"echo ok; rm -rf $X\" | tee log"}}
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(team)}
    for _ in range(2):  # the first run writes the bytecode cache, the second is every later call
        result = subprocess.run([sys.executable, "-S", "-X", "importtime", str(team / HOOKS / script), *args], cwd=team,
                                env=env, input=json.dumps(event), capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "guard_core" in imported or "audit_core" in imported, result.stderr  # the measurement itself works
    assert not imported & {"os", "json", "re", "enum", "signal", "_collections_abc"}, sorted(imported)
