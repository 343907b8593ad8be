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

from . import claude_code, codex, copilot, cursor

REGISTRY = {module.NAME: module for module in (claude_code, codex, copilot, cursor)}
ADAPTER = ".claude/foundation/hooks/agent_hook.py"
GUARD_TIMEOUT_SECONDS = 15
# The repository root as the hook's shell finds it: the project folder the agent exports (Copilot sets
# CLAUDE_PROJECT_DIR, Cursor CURSOR_PROJECT_DIR), else git's top level (Codex sets none), else the current folder.
REPO_ROOT = "${CLAUDE_PROJECT_DIR:-${CURSOR_PROJECT_DIR:-$(git rev-parse --show-toplevel 2>/dev/null || pwd)}}"


def chosen(answers: dict[str, Any]) -> list[str]:
    """The agents a team wires: Claude Code always, then the others it chose, in the registry's order. A team
    rendered before the question existed answered nothing, which means Claude Code alone."""
    names = answers.get("agents") or []
    return ["claude-code", *[name for name in REGISTRY if name != "claude-code" and name in names]]


def generated_files(foundation: Any, answers: dict[str, Any]) -> dict[str, str]:
    files: dict[str, str] = {}
    for name in chosen(answers):
        files.update(REGISTRY[name].files(foundation, answers))
    return files


def floors(foundation: Any, answers: dict[str, Any]) -> dict[str, Any]:
    return {name: REGISTRY[name].floor(foundation, answers) for name in chosen(answers)}


def guard_command(agent: str) -> str:
    """The pre-tool hook command of every agent but Claude Code: the adapter, found from the repository root
    (the agent may run from a subfolder), wrapped so that any failure of it (no python3, a missing or broken
    file, a crash, a kill) ends in exit 2, which blocks the call. Codex runs the call when a hook fails; the
    wrapper is what makes its hook fail closed, as the Claude Code wiring does."""
    return (
        f'python3 "{REPO_ROOT}/{ADAPTER}" {agent} || '
        '{ echo "agent-foundation: the guard hook failed (exit $?), so this call is blocked for safety. '
        f'Check that python3 runs and that {ADAPTER} exists (restore it with: python3 .claude/foundation/update.py)." >&2; exit 2; }}'
    )


def agent_instructions(foundation: Any, answers: dict[str, Any], agent: str, title: str) -> str:
    """What an agent that also reads AGENTS.md is told in its own instructions file: where the organisation's
    rules are (written once, in AGENTS.md's marked section, which the agent loads too) and how it is guarded."""
    protected = ", ".join(f"`{p}`" for p in foundation.policy["protected"]["paths"][:6])
    return (
        f"Managed by agent-foundation for {title}; the platform team changes it through a release.\n\n"
        f"# Guardrails for {title} in this repository\n\n"
        "- The organisation's rules for every agent are in `AGENTS.md` (the section between the agent-foundation "
        "markers). Follow them.\n"
        f"- Team `{answers['team_slug']}`, permission profile `{answers['permission_profile']}`.\n"
        "- Every tool call is checked by the foundation's guard (`.claude/foundation/hooks/`) and recorded in the "
        "audit log. A blocked call says which rule blocked it and what to do instead: do that, do not work around it.\n"
        f"- Never read secrets and never edit the foundation's files ({protected}, and the agent configuration the "
        "foundation renders).\n"
    )
