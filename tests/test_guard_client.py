"""The guard in the real Claude Code client, offline: refused calls never run, and the guard holds when it
crashes, is missing, has no python3, or the team switches on bypass mode."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.claude_client.mock_messages_api import ToolCall
from tests.claude_client.runner import HOOK_ERROR_PREFIX
from tests.rendering import git

GUARD = Path(".claude") / "foundation" / "hooks" / "guard.py"
# The rendered .mcp.json starts npx servers, which cannot install offline and only slow each run down;
# these tests are about the guard, so the client loads no MCP server.
NO_MCP = ["--strict-mcp-config", "--mcp-config", '{"mcpServers": {}}']


@pytest.fixture
def fast_python(tmp_path: Path) -> dict[str, str]:
    """PATH with a real python3 first: a version-manager shim costs ~1 s per hook and would dominate the run."""
    bin_dir = tmp_path / "python-bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(os.path.realpath(sys.executable))
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def bash(command: str) -> ToolCall:
    return ToolCall("Bash", {"command": command, "description": "scripted by the test"})


@pytest.fixture
def team(rendered_team: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A rendered team repository with a local bare remote holding `main`, and the remote's path."""
    repo = Path(shutil.copytree(rendered_team, tmp_path / "team", symlinks=True))
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True, timeout=30)
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    git(repo, "commit", "-q", "--amend", "-m", "rewritten history")  # a force push would now replace the remote's main
    return repo, remote


def remote_head(remote: Path) -> str:
    return subprocess.run(["git", "rev-parse", "main"], cwd=remote, capture_output=True, text=True, check=True, timeout=30).stdout


def pre_tool_records(repo: Path) -> list[dict]:
    log = repo / ".claude" / "audit" / "audit.jsonl"
    return [r for r in map(json.loads, log.read_text().splitlines()) if r["event"] == "PreToolUse"] if log.exists() else []


def test_guard_refuses_what_the_deny_rules_miss_and_lets_benign_calls_run(team, run_claude, fast_python):
    repo, remote = team
    before = remote_head(remote)
    script = [
        bash("git push origin +main"),  # approved by the allow rule Bash(git push:*), missed by every deny rule
        bash("bash -c 'touch obfuscated.txt; git push -f origin main'"),
        bash("/usr/bin/git push --force origin main"),
        bash("touch benign.txt"),
    ]

    run = run_claude(repo, script, trusted=True, env=fast_python, args=NO_MCP)

    for index in (0, 1, 2):
        result = run.result(index)
        assert result.is_error and run.was_denied(result), run.describe()
        assert result.content.startswith(HOOK_ERROR_PREFIX + "agent-foundation blocked"), result.content
        assert "rule git-force-push" in result.content and "Instead:" in result.content
    assert not run.result(3).is_error, run.describe()
    assert (repo / "benign.txt").exists()
    assert not (repo / "obfuscated.txt").exists()
    assert remote_head(remote) == before  # the force pushes never ran

    records = pre_tool_records(repo)
    assert [(r["input"]["command"], r["decision"]) for r in records] == [
        (call.input["command"], "deny" if i < 3 else "allow") for i, call in enumerate(script)
    ]


@pytest.mark.parametrize("breakage", ["crash", "syntax-error", "missing-guard", "missing-python3"])
def test_a_broken_guard_still_blocks(team, run_claude, tmp_path, fast_python, breakage):
    repo, _ = team
    env = fast_python
    if breakage == "crash":
        (repo / GUARD).write_text("raise SystemExit(1)\n")
    elif breakage == "syntax-error":
        (repo / GUARD).write_text("def (:\n")
    elif breakage == "missing-guard":
        (repo / GUARD).unlink()
    else:
        bin_dir = tmp_path / "bin"  # everything the session needs on PATH, except python3
        bin_dir.mkdir()
        for tool in ("bash", "sh", "touch", "git", "env", "cat", "ls", "mkdir", "rm", "dirname", "uname", "bwrap", "socat"):
            found = shutil.which(tool)
            if found:
                (bin_dir / tool).symlink_to(found)
        env = {"PATH": str(bin_dir)}
        assert shutil.which("python3", path=str(bin_dir)) is None

    run = run_claude(repo, [bash("touch should-not-exist.txt")], trusted=True, env=env, args=NO_MCP)

    result = run.result(0)
    assert result.is_error and run.was_denied(result), run.describe()
    assert "the guard hook failed" in result.content, result.content
    assert not (repo / "should-not-exist.txt").exists()


def test_guard_holds_in_bypass_mode_when_the_team_removed_the_disable_key(team, run_claude, fast_python):
    repo, remote = team
    settings_file = repo / ".claude" / "settings.json"
    settings = json.loads(settings_file.read_text())
    del settings["permissions"]["disableBypassPermissionsMode"]
    settings_file.write_text(json.dumps(settings, indent=2))
    before = remote_head(remote)
    script = [bash("bash -c 'touch bypassed.txt && git push -f origin main'"), bash("touch allowed-in-bypass.txt")]

    run = run_claude(repo, script, trusted=True, args=["--dangerously-skip-permissions", *NO_MCP], env={**fast_python, "IS_SANDBOX": "1"})

    result = run.result(0)
    assert result.is_error and result.content.startswith(HOOK_ERROR_PREFIX + "agent-foundation blocked"), run.describe()
    assert not (repo / "bypassed.txt").exists() and remote_head(remote) == before
    assert not run.result(1).is_error and (repo / "allowed-in-bypass.txt").exists(), run.describe()
    assert [r["decision"] for r in pre_tool_records(repo)] == ["deny", "allow"]


@pytest.mark.parametrize("on_failure", ["block", None])
def test_a_hung_guard_blocks_because_of_on_failure(team, run_claude, fast_python, on_failure):
    """A guard the client kills on its timeout: the shell wrapper dies with it, so only `onFailure: "block"`
    stops the call. Without the key (the control case) the same hang lets the call run."""
    repo, _ = team
    (repo / GUARD).write_text("import time\ntime.sleep(60)\n")
    settings_file = repo / ".claude" / "settings.json"
    settings = json.loads(settings_file.read_text())
    guard_hook = settings["hooks"]["PreToolUse"][0]["hooks"][0]
    assert guard_hook["onFailure"] == "block"  # as rendered
    guard_hook["timeout"] = 1  # the rendered 15 s would only make the test slow
    if on_failure is None:
        del guard_hook["onFailure"]
    settings_file.write_text(json.dumps(settings, indent=2))

    run = run_claude(repo, [bash("touch after-hang.txt")], trusted=True, env=fast_python, args=NO_MCP)

    result = run.result(0)
    if on_failure == "block":
        assert result.is_error and run.was_denied(result), run.describe()
        assert 'timed out; blocking because onFailure is "block"' in result.content, result.content
        assert not (repo / "after-hang.txt").exists()
    else:
        assert not result.is_error and (repo / "after-hang.txt").exists(), run.describe()
