"""GitHub Copilot: its instructions, repository settings, pre-tool hook and the editor's MCP servers. The Copilot
CLI reads Claude Code's .mcp.json in a trusted folder; VS Code reads .vscode/mcp.json (its own format: `servers`,
each with a `type`), rendered from the same chosen servers, pinned exactly as in .mcp.json.

The Copilot CLI reads AGENTS.md (the organisation's rules) and .github/instructions/*.instructions.md; the team's
own .github/copilot-instructions.md is never written. A repository's .github/copilot/settings.json may set only
a few keys (deniedUrls, disableAllHooks, disabledMcpServers, disabledSkills, hooks, ...): no tool permissions,
no sandbox, no bypass switch. The guard hook holds the policy there.
"""

from __future__ import annotations

from typing import Any

from .. import render
from . import team
from .common import GUARD_TIMEOUT_SECONDS, agent_instructions, guard_command

NAME = "copilot"
INSTRUCTIONS = ".github/instructions/agent-foundation.instructions.md"
SETTINGS = ".github/copilot/settings.json"
HOOKS = ".github/hooks/agent-foundation.json"
EDITOR_MCP = ".vscode/mcp.json"
# What a team may add to (team.py): its own repository settings (hooks can never be switched off) and the
# editor's own keys (inputs); its MCP servers go to extra_mcp_servers.
TEAM_FILES = {
    SETTINGS: team.TeamFile(SETTINGS, owned=frozenset({"disableAllHooks"})),
    EDITOR_MCP: team.TeamFile(EDITOR_MCP, servers="servers"),
}


def instructions(foundation: Any, answers: dict[str, Any]) -> str:
    return '---\napplyTo: "**"\n---\n' + agent_instructions(foundation, answers, NAME, "GitHub Copilot")


def settings(foundation: Any, answers: dict[str, Any]) -> dict[str, Any]:
    """Hooks may not be switched off from the repository, and a vetted server the team did not choose stays off."""
    chosen = set(answers.get("mcp_servers") or [])
    return {
        "disableAllHooks": False,
        "disabledMcpServers": [name for name in foundation.mcp_servers if name not in chosen],
    }


def hooks() -> dict[str, Any]:
    return {"version": 1, "hooks": {"preToolUse": [
        {"type": "command", "bash": guard_command(NAME), "timeoutSec": GUARD_TIMEOUT_SECONDS}]}}


def editor_mcp(foundation: Any, answers: dict[str, Any]) -> dict[str, Any]:
    """.vscode/mcp.json: the servers of .mcp.json (vetted and pinned, then the team's own), in VS Code's format."""
    servers = {}
    for name, config in render.mcp_config(foundation, answers)["mcpServers"].items():
        kind = config.get("type") or ("http" if "url" in config else "stdio")
        servers[name] = {"type": kind, **{key: value for key, value in config.items() if key != "type"}}
    return {"servers": servers}


def files(foundation: Any, answers: dict[str, Any], version: str = "unreleased") -> dict[str, str]:
    return {
        INSTRUCTIONS: instructions(foundation, answers),
        SETTINGS: render.dumps(team.with_team_part(answers, SETTINGS, settings(foundation, answers))),
        HOOKS: render.dumps(hooks()),
        EDITOR_MCP: render.dumps(team.with_team_part(answers, EDITOR_MCP, editor_mcp(foundation, answers))),
    }


def floor(foundation: Any, answers: dict[str, Any]) -> dict[str, Any]:
    return {"hooks_file": HOOKS, "hook_events": ["preToolUse"], "settings_file": SETTINGS,
            "mcp_file": {"path": EDITOR_MCP, "key": "servers"}}


def managed(foundation: Any) -> dict[str, str]:
    return {}
