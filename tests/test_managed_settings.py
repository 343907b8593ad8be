"""`agent-foundation managed-settings`: the device-level floor, derived from the same functions as a team's
settings.json, and proven with the real client.

Each client run here starts in a private mount namespace with /etc/claude-code overlaid
(tests/claude_client/managed.py). Every proof has a control run: the same wrapper without the managed file,
where the project's loosening works, so each assertion can fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent_foundation import managed_settings as ms
from agent_foundation import render
from agent_foundation.foundation import load_foundation
from tests.claude_client.managed import namespaced_client
from tests.claude_client.fixtures import NO_MCP_SERVERS
from tests.claude_client.mock_messages_api import ToolCall
from tests.claude_client.runner import isolated_env, mcp_list, run_claude as run_client
from tests.claude_client.schema import SettingsSchema
from tests.registry_repo import cli
from tests.rendering import TEMPLATE_ROOT, commit_all, copy_template

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


# ---------------------------------------------------------------- current locks, and the drop-in folder


ORG_MARKETPLACE = "https://git.example.com/platform/agent-foundation.git"


@pytest.fixture(scope="module")
def floor() -> dict:
    return ms.managed_settings(FOUNDATION, marketplace_url=ORG_MARKETPLACE, otel_endpoint="https://otel.example.com:4318")


def test_locks_that_fit_the_foundation(floor: dict) -> None:
    assert floor["requiredMinimumVersion"] == FOUNDATION.client["minimum_version"]
    assert floor["strictKnownMarketplaces"] == [{"source": "git", "url": ORG_MARKETPLACE}]
    assert floor["extraKnownMarketplaces"]["agent-foundation"]["source"] == floor["strictKnownMarketplaces"][0]
    assert floor["pluginConfigs"] == {"agents-md@builtin": {"options": {"instructionFiles": "claude-md"}}}
    assert "strictKnownMarketplaces" not in ms.managed_settings(FOUNDATION), "without the org's marketplace, no marketplace lock"


MANAGED_ONLY_LOCKS = {
    "requiredMinimumVersion": "Only enforced from managed (policy) settings",
    "strictKnownMarketplaces": "When set in managed settings, ONLY these",
    "allowManagedMcpServersOnly": "set in managed settings",
    "allowManagedPermissionRulesOnly": "set in managed settings",
    "allowManagedHooksOnly": "set in managed settings",
}


@pytest.mark.client
def test_every_key_of_the_floor_is_in_the_installed_clients_own_schema(claude_bin: Path, floor: dict) -> None:
    schema = SettingsSchema(claude_bin)
    for key in sorted(set(floor) - {"$schema", "env"}):  # two generic names the binary uses everywhere
        assert schema.property(key) is not None, f"{key} is not a setting of the installed client ({schema.path})"
    for key, phrase in MANAGED_ONLY_LOCKS.items():
        assert phrase in schema.property(key), f"{key}: the schema no longer says {phrase!r}"
    assert "options:" in schema.property("pluginConfigs") or not schema.contains(AGENTS_MD_OPTION), \
        "the client has the AGENTS.md plugin but its pluginConfigs takes no options"
    if schema.contains(AGENTS_MD_OPTION):  # 2.1.332 on: the built-in plugin that reads AGENTS.md
        assert schema.contains('"claude-md","claude-md-or-agents-md","claude-md-and-agents-md","managed-only"')


AGENTS_MD_OPTION = 'instructionFiles:{type:"string",title:"Project instructions"'


def test_drop_in_is_written_beside_what_it_keeps(tmp_path: Path) -> None:
    result = cli(TEMPLATE_ROOT, "managed-settings", "--out", str(tmp_path), "--drop-in")
    assert result.returncode == 0, result.stderr
    assert "/etc/claude-code/managed-settings.d/50-agent-foundation.json" in result.stdout
    assert r"C:\Program Files\ClaudeCode\managed-settings.d\50-agent-foundation.json" in result.stdout
    assert not (tmp_path / "managed-settings.json").exists(), "IT's own managed-settings.json is never written over"
    assert json.loads((tmp_path / ms.DROP_IN_FILE).read_text()) == ms.managed_settings(FOUNDATION)


@pytest.mark.client
@pytest.mark.parametrize("with_drop_in", [False, True], ids=["control-it-file-only", "it-file-plus-foundation-drop-in"])
def test_the_drop_in_and_its_own_file_both_hold(claude_bin, mock_api, loosened_repo: Path, tmp_path: Path,
                                               with_drop_in: bool) -> None:
    etc = tmp_path / "claude-code"
    etc.mkdir()
    (etc / "managed-settings.json").write_text(json.dumps({"permissions": {"deny": ["Bash(touch:*)"]}}))  # IT's own
    if with_drop_in:
        assert cli(TEMPLATE_ROOT, "managed-settings", "--out", str(etc), "--drop-in").returncode == 0
    wrapper = namespaced_client(claude_bin, tmp_path / "ns", etc)
    (loosened_repo / "tracked.txt").write_text("uncommitted work\n")
    run = run_client(loosened_repo, [ToolCall("Bash", {"command": "touch it-marker", "description": "touch"}),
                                     ToolCall("Bash", {"command": "git reset --hard HEAD", "description": "reset"})],
                     mock=mock_api, trusted=True, claude_bin=wrapper, args=["--allowedTools", "Bash(touch:*)"])
    touch, reset = run.result(0), run.result(1)
    assert touch.is_error and not (loosened_repo / "it-marker").exists(), run.describe()
    if with_drop_in:
        assert reset.is_error and (loosened_repo / "tracked.txt").read_text() == "uncommitted work\n", run.describe()
    else:
        assert not reset.is_error and (loosened_repo / "tracked.txt").read_text() == "committed\n", run.describe()


def client_version(claude_bin: Path) -> str:
    return subprocess.run([str(claude_bin), "--version"], capture_output=True, text=True, timeout=60).stdout.split()[0]


@pytest.mark.client
@pytest.mark.parametrize("too_old", [False, True], ids=["floor-minimum", "client-older-than-minimum"])
def test_a_client_older_than_the_minimum_does_not_start(claude_bin, mock_api, managed_file: Path, tmp_path: Path,
                                                       too_old: bool) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    commit_all(repo, "init")
    floor = json.loads(managed_file.read_text())
    major, minor, patch = (int(part) for part in client_version(claude_bin).split("."))
    assert tuple(int(p) for p in floor["requiredMinimumVersion"].split(".")) <= (major, minor, patch)
    if too_old:
        floor["requiredMinimumVersion"] = f"{major}.{minor}.{patch + 1}"
    (tmp_path / "floor.json").write_text(json.dumps(floor))
    wrapper = namespaced_client(claude_bin, tmp_path / "ns", tmp_path / "floor.json")
    marker = repo / "ran"
    run = run_client(repo, [ToolCall("Bash", {"command": f"echo > {marker}", "description": "write"})],
                     mock=mock_api, trusted=True, claude_bin=wrapper, args=["--allowedTools", "Bash(echo:*)"])
    if too_old:
        model_calls = [r for r in run.requests if r.method == "POST"]  # 2.1.197 also probes HEAD / at start
        assert run.returncode != 0 and not model_calls and not marker.exists(), run.describe()
        assert floor["requiredMinimumVersion"] in run.stdout + run.stderr, run.describe()
    else:
        assert run.returncode == 0 and run.requests, run.describe()


@pytest.mark.client
@pytest.mark.parametrize("managed", [False, True], ids=["control-without-floor", "with-managed-floor"])
def test_only_the_orgs_marketplace_may_be_added(claude_bin, tmp_path: Path, managed: bool) -> None:
    out = tmp_path / "managed"
    assert cli(TEMPLATE_ROOT, "managed-settings", "--out", str(out), "--marketplace-url", ORG_MARKETPLACE).returncode == 0
    other = copy_template(tmp_path / "other-marketplace", tag=None)
    wrapper = namespaced_client(claude_bin, tmp_path / "ns", out / "managed-settings.json" if managed else None)
    home = tmp_path / "home"
    home.mkdir()
    added = subprocess.run([str(wrapper), "plugin", "marketplace", "add", str(other)], cwd=tmp_path, env=isolated_env(home),
                           capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if managed:
        assert added.returncode != 0, added.stdout + added.stderr
        assert "blocked by enterprise policy" in added.stdout + added.stderr and ORG_MARKETPLACE in added.stdout + added.stderr
    else:
        assert added.returncode == 0, added.stdout + added.stderr


@pytest.mark.client
@pytest.mark.parametrize("managed", [False, True], ids=["control-without-floor", "with-managed-floor"])
def test_agents_md_is_not_loaded_on_top_of_the_org_rules(claude_bin, mock_api, managed_file: Path, rendered_team: Path,
                                                        tmp_path: Path, managed: bool) -> None:
    """A repository without CLAUDE.md: the org rules load from .claude/rules/; AGENTS.md repeats them. The
    built-in AGENTS.md plugin (2.1.332 on) would add it to every request; the floor's pluginConfigs stops it."""
    repo = tmp_path / "repo"
    shutil.copytree(rendered_team, repo, symlinks=True)
    (repo / "CLAUDE.md").unlink()
    agents = repo / "AGENTS.md"
    agents.write_text("AGENTS-MD-MARKER-7731\n" + agents.read_text())
    commit_all(repo, "no CLAUDE.md")
    wrapper = namespaced_client(claude_bin, tmp_path / "ns", managed_file if managed else None)
    run = run_client(repo, [], mock=mock_api, trusted=True, claude_bin=wrapper, args=NO_MCP_SERVERS)
    messages = [r for r in run.requests if r.method == "POST" and r.path.startswith("/v1/messages")]
    assert messages, run.describe()
    sent = json.dumps(messages[0].body)
    assert "org-rules" in sent or FOUNDATION.org_rules.strip().splitlines()[0] in sent, "the org rules must load from .claude/rules/"
    client_reads_agents_md = SettingsSchema(claude_bin).contains(AGENTS_MD_OPTION)
    assert ("AGENTS-MD-MARKER-7731" in sent) == (client_reads_agents_md and not managed), run.describe()


def test_minimum_version_may_not_pass_the_tested_client(tmp_path: Path) -> None:
    from agent_foundation import registry

    assert registry._client_problems(TEMPLATE_ROOT, FOUNDATION) == []
    (tmp_path / "package.json").write_text(json.dumps({"devDependencies": {"@anthropic-ai/claude-code": "2.1.100"}}))
    [problem] = registry._client_problems(tmp_path, FOUNDATION)
    assert (problem.file, problem.field) == ("foundation/client.yml", "minimum_version")
    assert "newer than the client the tests run (2.1.100, package.json)" in problem.message and "package.json" in problem.fix

