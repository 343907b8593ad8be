"""One module per coding agent, each filling in the same few names; render, policy.json's posture floor and the
managed floor loop over them, so a new agent is one new module (and its entry in foundation/agents.yml).

    NAME                            the agent's value in the `agents` answer
    files(foundation, answers)      {path: content}: the agent's native files, all foundation-owned
    floor(foundation, answers)      what the posture check holds those files to (rendered into policy.json)
    managed(foundation)             {file name: content}: the admin floor for the agent's devices ({} when none)

The hook adapters that translate each agent's hook input and output are agent-time code, standard library only:
.claude/foundation/hooks/agent_hook.py and adapters.py. Only PyYAML and the standard library may be imported here.
"""

from __future__ import annotations

from typing import Any

from . import claude_code, codex, copilot, cursor, team
from .common import ADAPTER, GUARD_TIMEOUT_SECONDS, FIND_ROOT, HOOK_PYTHON, agent_instructions, guard_command  # noqa: F401

REGISTRY = {module.NAME: module for module in (claude_code, codex, copilot, cursor)}


def chosen(answers: dict[str, Any]) -> list[str]:
    """The agents a team wires: Claude Code always, then the others it chose, in the registry's order. A team
    rendered before the question existed answered nothing, which means Claude Code alone."""
    names = answers.get("agents") or []
    return ["claude-code", *[name for name in REGISTRY if name != "claude-code" and name in names]]


def generated_files(foundation: Any, answers: dict[str, Any], version: str = "unreleased") -> dict[str, str]:
    files: dict[str, str] = {}
    for name in chosen(answers):
        files.update(REGISTRY[name].files(foundation, answers, version))
    return files


def team_files(names: list[str] | None = None) -> dict[str, Any]:
    """The agent files a team may add its own keys to (agents/team.py), of the agents named (default: all)."""
    files: dict[str, Any] = {}
    for name, module in REGISTRY.items():
        if names is None or name in names:
            files.update(getattr(module, "TEAM_FILES", {}))
    return files


def extra_agent_config_errors(foundation: Any, extra: Any) -> list[str]:
    from .. import render

    return team.answer_errors(team_files(), extra, lambda rules, kind: render.extra_rule_errors(foundation, rules, kind))


def floors(foundation: Any, answers: dict[str, Any]) -> dict[str, Any]:
    return {name: REGISTRY[name].floor(foundation, answers) for name in chosen(answers)}
