"""`agent-foundation managed-settings`: the device-level floor, derived from the same functions as a team's
settings.json, and proven with the real client.

Each client run here starts in a private mount namespace with /etc/claude-code overlaid
(tests/claude_client/managed.py). Every proof has a control run: the same wrapper without the managed file,
where the project's loosening works, so each assertion can fail.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from agent_foundation import managed_settings as ms
from agent_foundation import render
from agent_foundation.foundation import load_foundation
from tests.claude_client.managed import namespaced_client
from tests.claude_client.mock_messages_api import ToolCall
from tests.claude_client.runner import mcp_list, run_claude as run_client
from tests.registry_repo import cli
from tests.rendering import TEMPLATE_ROOT, commit_all

FOUNDATION = load_foundation(TEMPLATE_ROOT / "foundation")


@pytest.fixture(scope="module")
def managed_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("managed")
    result = cli(TEMPLATE_ROOT, "managed-settings", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "/etc/claude-code/managed-settings.json" in result.stdout
    return out / "managed-settings.json"


def test_floor_comes_from_the_same_functions_as_team_settings(managed_file: Path) -> None:
    data = json.loads(managed_file.read_text())
    assert data["permissions"]["deny"] == render.foundation_deny_rules(FOUNDATION)
    assert data["permissions"]["ask"] == render.foundation_ask_rules(FOUNDATION)
    assert data["permissions"]["disableBypassPermissionsMode"] == "disable"
    assert "allow" not in data["permissions"], "the floor never allows anything"
    assert data["disableAutoMode"] == "disable"
    assert data["allowManagedPermissionRulesOnly"] is False and data["allowManagedHooksOnly"] is False
    assert "hooks" not in data
    team = render.settings(FOUNDATION, {"permission_profile": "standard", "stacks": [], "team_slug": "t",
                                        "mcp_servers": list(FOUNDATION.mcp_servers)}, "v0.1.0")
    assert set(data["permissions"]["deny"]) == set(team["permissions"]["deny"])
    mcp = render.mcp_config(FOUNDATION, {"mcp_servers": list(FOUNDATION.mcp_servers)})["mcpServers"]
    expected = [{"serverCommand": [c["command"], *c["args"]]} if "command" in c else {"serverUrl": c["url"]} for c in mcp.values()]
    assert data["allowedMcpServers"] == expected
    assert data["allowManagedMcpServersOnly"] is True
    assert data["sandbox"] == render.sandbox_floor(FOUNDATION)


def test_options(tmp_path: Path) -> None:
    result = cli(TEMPLATE_ROOT, "managed-settings", "--out", str(tmp_path), "--no-mcp-allowlist",
                 "--marketplace-url", "https://git.example.com/platform/agent-foundation.git")
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "managed-settings.json").read_text())
    assert "allowedMcpServers" not in data and "allowManagedMcpServersOnly" not in data
    assert data["extraKnownMarketplaces"] == {"agent-foundation": {"source": {"source": "git", "url": "https://git.example.com/platform/agent-foundation.git"}}}


# ---------------------------------------------------------------- the real client, in a mount namespace


@pytest.fixture
def loosened_repo(tmp_path: Path) -> Path:
    """A repository that never rendered the foundation and whose settings try to loosen every part of the floor."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "tracked.txt").write_text("committed\n")
    commit_all(repo, "init")
    (repo / ".claude").mkdir()
    loosen = {"permissions": {"allow": ["Bash(git reset --hard:*)", "Bash(git:*)", "Bash"],
                              "deny": [], "ask": []}}
    (repo / ".claude/settings.json").write_text(json.dumps(loosen))
    (repo / ".claude/settings.local.json").write_text(json.dumps(loosen))
    return repo


@pytest.mark.client
@pytest.mark.parametrize("managed", [False, True], ids=["control-without-floor", "with-managed-floor"])
def test_project_allow_rules_cannot_loosen_a_managed_deny(claude_bin, mock_api, managed_file: Path,
                                                          loosened_repo: Path, tmp_path: Path, managed: bool) -> None:
    wrapper = namespaced_client(claude_bin, tmp_path / "ns", managed_file if managed else None)
    (loosened_repo / "tracked.txt").write_text("uncommitted work\n")
    run = run_client(loosened_repo, [ToolCall("Bash", {"command": "git reset --hard HEAD", "description": "reset"})],
                     mock=mock_api, trusted=True, claude_bin=wrapper, args=["--allowedTools", "Bash(git reset --hard:*)"])
    result = run.result(0)
    if managed:
        assert result.is_error and result.content == "Permission to use Bash with command git reset --hard HEAD has been denied.", run.describe()
        assert (loosened_repo / "tracked.txt").read_text() == "uncommitted work\n"
    else:
        assert not result.is_error and "HEAD is now at" in result.content, run.describe()
        assert (loosened_repo / "tracked.txt").read_text() == "committed\n"


@pytest.mark.client
@pytest.mark.parametrize("managed", [False, True], ids=["control-without-floor", "with-managed-floor"])
def test_bypass_mode_cannot_be_switched_on(claude_bin, mock_api, managed_file: Path,
                                           tmp_path: Path, managed: bool) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    commit_all(repo, "init")
    marker = repo / "made-by-bypass"
    wrapper = namespaced_client(claude_bin, tmp_path / "ns", managed_file if managed else None)
    run = run_client(repo, [ToolCall("Bash", {"command": f"mkdir {marker}", "description": "mkdir"})],
                     mock=mock_api, trusted=True, claude_bin=wrapper, args=["--dangerously-skip-permissions"], env={"IS_SANDBOX": "1"})
    result = run.result(0)
    if managed:
        assert result.is_error and not marker.exists(), run.describe()
        assert run.was_denied(result)
    else:
        assert not result.is_error and marker.is_dir(), run.describe()


@pytest.mark.client
@pytest.mark.parametrize("managed", [False, True], ids=["control-without-floor", "with-managed-floor"])
def test_a_project_cannot_switch_the_managed_sandbox_off(claude_bin, mock_api, managed_file: Path,
                                                        tmp_path: Path, managed: bool) -> None:
    repo = tmp_path / "repo"
    (repo / ".claude").mkdir(parents=True)
    (repo / ".claude/settings.json").write_text(json.dumps({
        "permissions": {"allow": ["Bash(sh:*)"]},
        "sandbox": {"enabled": False, "failIfUnavailable": False, "allowUnsandboxedCommands": True},
    }))
    commit_all(repo, "init")
    outside = tmp_path / "outside"
    outside.mkdir()
    wrapper = namespaced_client(claude_bin, tmp_path / "ns", managed_file if managed else None)
    write = ToolCall("Bash", {"command": 'sh -c \'echo pwned > "$OUTSIDE/canary.txt"\'', "description": "write"})
    run = run_client(repo, [write], mock=mock_api, trusted=True, claude_bin=wrapper, env={"OUTSIDE": str(outside)})
    result = run.result(0)
    if managed:
        assert "Read-only file system" in result.content and not (outside / "canary.txt").exists(), run.describe()
    else:
        assert not result.is_error and (outside / "canary.txt").exists(), run.describe()


FAKE_MCP_SERVER = """import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if "id" not in message:
        continue
    if message.get("method") == "initialize":
        result = {"protocolVersion": message["params"]["protocolVersion"], "capabilities": {"tools": {}},
                  "serverInfo": {"name": "fake", "version": "1"}}
    else:
        result = {"tools": []}
    print(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}), flush=True)
"""


@pytest.mark.client
@pytest.mark.parametrize("managed", [False, True], ids=["control-without-floor", "with-managed-floor"])
def test_only_vetted_mcp_servers_at_their_pinned_version_start(claude_bin, managed_file: Path, tmp_path: Path,
                                                               managed: bool) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    # Every server is a local fake MCP server (no network): `npx` on PATH is a stub that serves MCP itself.
    server = tmp_path / "fake_mcp.py"
    server.write_text(FAKE_MCP_SERVER)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "npx").write_text(f"#!/bin/sh\nexec {sys.executable} {server}\n")
    (bin_dir / "npx").chmod(0o755)
    vetted = render.mcp_server_config(FOUNDATION.mcp_servers["memory"])
    unpinned = {"command": "npx", "args": ["-y", f"{FOUNDATION.mcp_servers['memory']['package']}@latest"]}
    rogue = {"command": sys.executable, "args": [str(server)]}
    (repo / ".mcp.json").write_text(json.dumps({"mcpServers": {"memory": vetted, "memory-latest": unpinned, "rogue": rogue}}))
    (repo / ".claude").mkdir()
    (repo / ".claude/settings.local.json").write_text(json.dumps({
        "enabledMcpjsonServers": ["memory", "memory-latest", "rogue"],
        "allowedMcpServers": [{"serverName": "rogue"}, {"serverName": "memory-latest"}, {"serverName": "memory"}],
    }))
    commit_all(repo, "init")
    wrapper = namespaced_client(claude_bin, tmp_path / "ns", managed_file if managed else None)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    output = mcp_list(repo, trusted=True, claude_bin=wrapper, home=tmp_path / "home", env=env)
    lines = {line.split(":", 1)[0]: line for line in output.splitlines() if ": " in line}
    assert "Connected" in lines.get("memory", ""), output
    if managed:
        assert "rogue" not in lines and "memory-latest" not in lines, output
    else:
        assert "Connected" in lines.get("rogue", "") and "Connected" in lines.get("memory-latest", ""), output
