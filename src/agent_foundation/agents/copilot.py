"""GitHub Copilot: its instructions, repository settings and pre-tool hook. Its MCP servers are Claude Code's
.mcp.json, which the Copilot CLI reads in a trusted folder: nothing is written twice.

The Copilot CLI reads AGENTS.md (the organisation's rules) and .github/instructions/*.instructions.md; the team's
own .github/copilot-instructions.md is never written. A repository's .github/copilot/settings.json may set only
a few keys (deniedUrls, disableAllHooks, disabledMcpServers, disabledSkills, hooks, ...): no tool permissions,
no sandbox, no bypass switch. The guard hook holds the policy there.
"""

from __future__ import annotations

from typing import Any

from .. import render
from .common import GUARD_TIMEOUT_SECONDS, agent_instructions, guard_command

NAME = "copilot"
INSTRUCTIONS = ".github/instructions/agent-foundation.instructions.md"
SETTINGS = ".github/copilot/settings.json"
HOOKS = ".github/hooks/agent-foundation.json"


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


def files(foundation: Any, answers: dict[str, Any], version: str = "unreleased") -> dict[str, str]:
    return {
        INSTRUCTIONS: instructions(foundation, answers),
        SETTINGS: render.dumps(settings(foundation, answers)),
        HOOKS: render.dumps(hooks()),
    }


def floor(foundation: Any, answers: dict[str, Any]) -> dict[str, Any]:
    return {"hooks_file": HOOKS, "hook_events": ["preToolUse"], "settings_file": SETTINGS}


def managed(foundation: Any) -> dict[str, str]:
    return {}
