"""The audit log in the real Claude Code client: a trusted rendered repository records the whole session."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.claude_client.mock_messages_api import ToolCall
from tests.rendering import git

TIMEOUT = 60


def bash(command: str) -> ToolCall:
    return ToolCall("Bash", {"command": command, "description": "scripted by the test"})


def test_audit_log_holds_the_whole_session_and_verifies(rendered_team, run_claude, tmp_path):
    repo = Path(shutil.copytree(rendered_team, tmp_path / "team", symlinks=True))
    script = [bash("touch made-by-agent.txt"), bash("mkdir -p build/out"), bash("git status --short")]

    run = run_claude(repo, script, trusted=True)

    for index in range(len(script)):
        result = run.result(index)
        assert not result.is_error, run.describe()
    assert (repo / "made-by-agent.txt").exists() and (repo / "build" / "out").is_dir()

    log = repo / ".claude" / "audit" / "audit.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    events = [record["event"] for record in records]
    assert events[0] == "SessionStart" and events[-1] == "SessionEnd", events
    assert events.count("SessionStart") == 1 and events.count("SessionEnd") == 1, events
    session = records[0]["session"]
    assert session and all(record["session"] == session for record in records)
    assert all(record["team"] == "payments-api" for record in records)

    calls = [record for record in records if record["event"] in ("PreToolUse", "PostToolUse", "PostToolUseFailure")]
    commands = [call["input"]["command"] for call in calls]
    for step in script:
        command = step.input["command"]
        pre = [c for c in calls if c["event"] == "PreToolUse" and c["input"]["command"] == command]
        post = [c for c in calls if c["event"] == "PostToolUse" and c["input"]["command"] == command]
        assert len(pre) == 1 and len(post) == 1, (command, commands)
        assert pre[0]["decision"] == "allow" and pre[0]["tool"] == "Bash"  # the guard's own record
        assert post[0]["result"]["status"] == "success" and isinstance(post[0]["result"]["size"], int)
        assert pre[0]["tool_use_id"] == post[0]["tool_use_id"]
        assert records.index(pre[0]) < records.index(post[0])
    assert len(calls) == 2 * len(script), commands
    assert [record["seq"] for record in records] == list(range(1, len(records) + 1))

    verify = subprocess.run([sys.executable, str(repo / ".claude" / "foundation" / "hooks" / "audit.py"), "verify"],
                            capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"chain intact ({len(records)} records)" in verify.stdout

    # The log, its head, its lock and the bytecode cache are all git-ignored: the session leaves only its own work.
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert sorted(status.splitlines()) == ["?? made-by-agent.txt"], status
    # The posture check still passes after a session.
    check = subprocess.run([sys.executable, str(repo / ".claude" / "foundation" / "check.py")],
                           capture_output=True, text=True, timeout=TIMEOUT)
    assert check.returncode == 0, check.stdout
