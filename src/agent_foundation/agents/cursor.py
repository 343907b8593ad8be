"""Cursor: an always-applied rule, the CLI's permissions, hooks that fail closed, MCP servers.

Cursor has no client in the package registries, so these files are tested as data against Cursor's documented
formats (docs: cli/reference/permissions, agent hooks, rules, MCP). Cursor also reads AGENTS.md, where the
organisation's rules are; the .mdc rule says where they are and how the agent is guarded.
"""

from __future__ import annotations

from typing import Any

from .. import render
from . import team
from .common import GUARD_TIMEOUT_SECONDS, agent_instructions, guard_command

NAME = "cursor"
RULE = ".cursor/rules/agent-foundation.mdc"
CLI = ".cursor/cli.json"
HOOKS = ".cursor/hooks.json"
MCP = ".cursor/mcp.json"
# Every event Cursor asks before acting on; each reaches the same guard. preToolUse covers the file-writing tools.
HOOK_EVENTS = ("beforeShellExecution", "beforeReadFile", "beforeMCPExecution", "preToolUse")
WRITE_TOOLS = "Write|Edit|StrReplace|MultiEdit|Delete"


def rule(foundation: Any, answers: dict[str, Any]) -> str:
    front = "---\ndescription: agent-foundation guardrails for this repository\nalwaysApply: true\n---\n"
    return front + agent_instructions(foundation, answers, NAME, "Cursor")


def _shell(rule_text: str) -> str | None:
    """Bash(prog:*) as Shell(prog); None for a rule on a subcommand or argument, which Shell() cannot express
    (it matches the first word only, so translating it would widen an allow or deny all of a program)."""
    if not rule_text.startswith("Bash(") or not rule_text.endswith(")"):
        return None
    inner = rule_text[len("Bash("):-1].removesuffix(":*").strip()
    if not inner or " " in inner or any(ch in inner for ch in "*?[]"):
        return None
    return f"Shell({inner})"


def _path_rule(rule_text: str) -> str | None:
    for claude, cursor_kind in (("Read(", "Read("), ("Edit(", "Write("), ("Write(", "Write(")):
        if rule_text.startswith(claude) and rule_text.endswith(")"):
            return cursor_kind + rule_text[len(claude):-1].removeprefix("./") + ")"
    if rule_text in ("Edit", "Write"):
        return "Write(**)"
    return None


def claude_rule(rule_text: str) -> str | None:
    """A Cursor rule as Claude Code's (Shell(prog) is Bash(prog:*), Write(path) is Edit(path)), so a team's own
    Cursor rules are vetted as its extra_allow and extra_deny are; None for one with no such reading."""
    for cursor_kind, claude in (("Shell(", "Bash("), ("Read(", "Read("), ("Write(", "Edit(")):
        if rule_text.startswith(cursor_kind) and rule_text.endswith(")"):
            inner = rule_text[len(cursor_kind):-1].strip()
            if not inner:
                return None
            return f"Bash({inner}:*)" if cursor_kind == "Shell(" else f"{claude}{inner})"
    return None


# What a team may add to (team.py): its own CLI permissions (vetted like extra_allow and extra_deny) and keys,
# its own hooks beside the guard; its MCP servers go to extra_mcp_servers.
TEAM_FILES = {
    CLI: team.TeamFile(CLI, rules={("permissions", "allow"): "allow", ("permissions", "deny"): "deny"}, to_claude=claude_rule),
    HOOKS: team.TeamFile(HOOKS, owned=frozenset({"version"})),
    MCP: team.TeamFile(MCP, servers="mcpServers"),
}


def permissions(foundation: Any, answers: dict[str, Any]) -> dict[str, list[str]]:
    rules = render.permission_rules(foundation, answers)
    out: dict[str, list[str]] = {}
    for kind in ("allow", "deny"):
        translated = [_shell(r) or _path_rule(r) for r in rules[kind]]
        out[kind] = list(dict.fromkeys(t for t in translated if t))
    return out


def hooks() -> dict[str, Any]:
    def entry(**extra: Any) -> dict[str, Any]:
        return {"command": guard_command(NAME), "timeout": GUARD_TIMEOUT_SECONDS, "failClosed": True, **extra}

    events: dict[str, Any] = {event: [entry()] for event in HOOK_EVENTS if event != "preToolUse"}
    events["preToolUse"] = [entry(matcher=WRITE_TOOLS)]
    return {"version": 1, "hooks": events}


def files(foundation: Any, answers: dict[str, Any], version: str = "unreleased") -> dict[str, str]:
    return {
        RULE: rule(foundation, answers),
        CLI: render.dumps(team.with_team_part(answers, CLI, {"permissions": permissions(foundation, answers)})),
        HOOKS: render.dumps(team.with_team_part(answers, HOOKS, hooks())),
        MCP: render.dumps(team.with_team_part(answers, MCP, render.mcp_config(foundation, answers))),
    }


def floor(foundation: Any, answers: dict[str, Any]) -> dict[str, Any]:
    """The team's own allow rules (vetted with the answer) are part of the floor: only rules beyond both are looser."""
    rules = permissions(foundation, answers)
    own = team.team_rules(TEAM_FILES[CLI], team.team_part(answers, CLI), "allow")
    rules["allow"] = rules["allow"] + [rule for rule in own if rule not in rules["allow"]]
    return {"hooks_file": HOOKS, "hook_events": list(HOOK_EVENTS), "fail_closed": True,
            "permissions_file": CLI, "mcp_file": {"path": MCP, "key": "mcpServers"}, **rules}


def managed(foundation: Any) -> dict[str, str]:
    return {}
