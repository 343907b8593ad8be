"""Claude Code: the foundation's first agent. Its files are computed by render.py (settings, .mcp.json, the org
rules); this module only names them for the loop, so Claude Code is one agent among the others."""

from __future__ import annotations

from typing import Any

from .. import render

NAME = "claude-code"


def files(foundation: Any, answers: dict[str, Any], version: str = "unreleased") -> dict[str, str]:
    return {
        ".claude/settings.json": render.dumps(render.settings(foundation, answers, version)),
        ".mcp.json": render.dumps(render.mcp_config(foundation, answers)),
        ".claude/rules/org-rules.md": render.org_rules(foundation, answers),
        ".claude/.gitignore": render.claude_gitignore(),
    }


def floor(foundation: Any, answers: dict[str, Any]) -> dict[str, Any]:
    """Claude Code's floor stays where check.py has always read it: policy.json's `floor`."""
    return {"files": sorted(files(foundation, answers))}


def managed(foundation: Any) -> dict[str, str]:
    from .. import managed_settings  # the platform CLI only

    return {managed_settings.MANAGED_SETTINGS_FILE: render.dumps(managed_settings.managed_settings(foundation))}
