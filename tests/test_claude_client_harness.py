"""Proves the offline Claude Code harness against the real client.

Each test renders nothing from the template: it hand-writes a minimal
``.claude/settings.json`` so a failure points at the harness or the client,
not at template output.
"""

from __future__ import annotations

import json
import shlex
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.claude_client import runner
from tests.claude_client.fixtures import (  # noqa: F401  (pytest fixtures)
    claude_bin,
    claude_mcp_list,
    mock_api,
    run_claude,
    scratch_repo,
)
from tests.claude_client.mock_messages_api import MockMessagesAPI, ToolCall
from tests.claude_client.runner import HOOK_ERROR_PREFIX

HOOK_REASON = "Blocked by the test guard: touching files is not allowed here."


def bash(command: str) -> ToolCall:
    return ToolCall("Bash", {"command": command, "description": "scripted by the test"})


def write_settings(repo: Path, settings: dict) -> None:
    path = repo / ".claude" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2))


def pre_tool_use_hook(command: str) -> dict:
    return {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": command}]}]}


# -- the mock on its own (no client) -----------------------------------------------


def _http(method: str, url: str, body: dict | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_mock_routes_and_json_fallback():
    with MockMessagesAPI([bash("true")]) as api:
        assert api.base_url.startswith("http://127.0.0.1:")
        assert _http("HEAD", api.base_url + "/")[0] == 200
        status, payload = _http("GET", api.base_url + "/v1/models")
        assert status == 404 and json.loads(payload)["type"] == "error"

        status, payload = _http("POST", api.base_url + "/v1/messages?beta=true",
                                {"model": "m", "stream": False, "messages": []})
        first = json.loads(payload)
        assert (status, first["stop_reason"]) == (200, "tool_use")
        tool_use = first["content"][0]

        # The reply carries content as a list of text blocks; the mock flattens it.
        reply = {"role": "user", "content": [{
            "type": "tool_result", "tool_use_id": tool_use["id"], "is_error": True,
            "content": [{"type": "text", "text": "no"}, {"type": "text", "text": "way"}],
        }]}
        status, payload = _http("POST", api.base_url + "/v1/messages",
                                {"model": "m", "stream": False, "messages": [reply]})
        assert json.loads(payload)["stop_reason"] == "end_turn"
        [result] = api.tool_results
        assert (result.index, result.is_error, result.content) == (0, True, "no\nway")
        assert [(r.method, r.path) for r in api.requests] == [
            ("HEAD", "/"), ("GET", "/v1/models"),
            ("POST", "/v1/messages?beta=true"), ("POST", "/v1/messages"),
        ]
        port = int(api.base_url.rsplit(":", 1)[1])
    # Stopped means the port no longer accepts connections.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_missing_client_is_an_error_not_a_skip(monkeypatch, tmp_path):
    monkeypatch.delenv("CLAUDE_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(runner, "REPO_ROOT", tmp_path)
    with pytest.raises(runner.ClaudeNotFoundError, match="run `npm install` in the repository root"):
        runner.find_claude()


# -- the real client ---------------------------------------------------------------


def test_allow_rule_applies_only_in_trusted_repo(scratch_repo, run_claude):
    write_settings(scratch_repo, {"permissions": {"allow": ["Bash(touch:*)"]}})

    untrusted = run_claude(scratch_repo, [bash("touch ran.txt")], trusted=False)
    result = untrusted.result(0)
    assert result.is_error, untrusted.describe()
    assert untrusted.was_denied(result)
    assert not (scratch_repo / "ran.txt").exists()
    assert "has not been trusted" in untrusted.stderr

    trusted = run_claude(scratch_repo, [bash("touch ran.txt")], trusted=True)
    result = trusted.result(0)
    assert not result.is_error, trusted.describe()
    assert (scratch_repo / "ran.txt").exists()
    assert trusted.permission_denials == []
    # Anything beyond the model turns is a new call the mock must learn (2.1.332 no longer probes HEAD /).
    assert {(r.method, r.path.split("?")[0]) for r in trusted.requests} == {("POST", "/v1/messages")}


def test_deny_rule_refuses_command(scratch_repo, run_claude):
    write_settings(scratch_repo, {"permissions": {"deny": ["Bash(mkdir:*)"]}})

    run = run_claude(scratch_repo, [bash("mkdir x")])

    result = run.result(0)
    assert result.is_error, run.describe()
    assert result.content == "Permission to use Bash with command mkdir x has been denied."
    assert run.was_denied(result)
    assert not (scratch_repo / "x").exists()


def test_hook_json_deny_reason_reaches_model_after_the_clients_prefix(scratch_repo, run_claude):
    hook = scratch_repo / ".claude" / "hooks" / "deny.py"
    hook.parent.mkdir(parents=True)
    hook.write_text(
        "import json, sys\n"
        "json.load(sys.stdin)\n"
        "print(json.dumps({'hookSpecificOutput': {\n"
        "    'hookEventName': 'PreToolUse',\n"
        "    'permissionDecision': 'deny',\n"
        f"    'permissionDecisionReason': {HOOK_REASON!r}}}}}))\n"
    )
    # The allow rule and trust make the hook the only thing that can stop the call.
    write_settings(scratch_repo, {
        "permissions": {"allow": ["Bash(touch:*)"]},
        "hooks": pre_tool_use_hook(
            f'{shlex.quote(sys.executable)} "$CLAUDE_PROJECT_DIR/.claude/hooks/deny.py"'
        ),
    })

    run = run_claude(scratch_repo, [bash("touch hooked.txt")], trusted=True)

    result = run.result(0)
    assert result.is_error, run.describe()
    assert result.content == HOOK_ERROR_PREFIX + HOOK_REASON
    assert run.was_denied(result)
    assert not (scratch_repo / "hooked.txt").exists()


def test_hook_exit_2_blocks(scratch_repo, run_claude):
    command = "echo 'stopped by exit 2' >&2; exit 2"
    write_settings(scratch_repo, {
        "permissions": {"allow": ["Bash(touch:*)"]},
        "hooks": pre_tool_use_hook(command),
    })

    run = run_claude(scratch_repo, [bash("touch blocked.txt")], trusted=True)

    result = run.result(0)
    assert result.is_error, run.describe()
    assert result.content.startswith(HOOK_ERROR_PREFIX)
    assert "stopped by exit 2" in result.content
    assert not (scratch_repo / "blocked.txt").exists()


def test_mcp_list_shows_project_server(scratch_repo, claude_mcp_list):
    # Untrusted and unapproved, so the client lists the server without starting it.
    (scratch_repo / ".mcp.json").write_text(json.dumps({
        "mcpServers": {"scratch-tools": {"command": "scratch-tools-server", "args": ["--stdio"]}},
    }))

    output = claude_mcp_list(scratch_repo)

    assert "scratch-tools:" in output
    assert "Pending approval" in output
