"""What every agent module shares: where the hook adapter is, how a hook command finds it and fails closed,
and the short instructions an agent that also reads AGENTS.md is given."""

from __future__ import annotations

from typing import Any

ADAPTER = ".claude/foundation/hooks/agent_hook.py"
# How every foundation hook starts Python. The hooks use the standard library alone, so `-S` skips the site
# module: no site-packages scan and no .pth files run, which is most of a bare interpreter's start on a machine
# with packages installed (the guard runs before every tool call; benchmarks/guard_cost.py). The standard
# library's own path does not come from site, and a virtual environment's python3 still finds it.
HOOK_PYTHON = "python3 -S"
GUARD_TIMEOUT_SECONDS = 15
# Sets $root, the repository root, the way a hook's shell can find it without starting a process (every hook
# call pays for each process it starts; `git rev-parse` cost Codex's hook 0.2x of a Python start): the project
# folder the agent exports (Copilot sets CLAUDE_PROJECT_DIR, Cursor CURSOR_PROJECT_DIR); else, for Codex, which
# sets none and runs its hooks in the session's folder (maybe a subfolder), the nearest folder up that holds
# `.git`, as git finds the top level; else the current folder. Shell builtins only.
FIND_ROOT = ('root=${CLAUDE_PROJECT_DIR:-$CURSOR_PROJECT_DIR}; if [ -z "$root" ]; then root=$PWD; '
             'while [ -n "$root" ] && [ ! -e "$root/.git" ]; do root=${root%/*}; done; root=${root:-$PWD}; fi; ')


AUDIT = ".claude/foundation/hooks/audit.py"


def audit_command(agent: str) -> str:
    """The audit hook for an agent whose events are Claude Code's (Codex): the same audit.py, told which agent
    it records and where the repository is (the agent may run from a subfolder)."""
    return FIND_ROOT + f'AGENT_FOUNDATION_CLIENT={agent} CLAUDE_PROJECT_DIR="$root" {HOOK_PYTHON} "$root/{AUDIT}" hook'


def guard_command(agent: str) -> str:
    """The pre-tool hook command of every agent but Claude Code: the adapter, found from the repository root
    (the agent may run from a subfolder), wrapped so that any failure of it (no python3, a missing or broken
    file, a crash, a kill) ends in exit 2, which blocks the call. Codex runs the call when a hook fails; the
    wrapper is what makes its hook fail closed, as the Claude Code wiring does."""
    return FIND_ROOT + run_guard(agent)


def run_guard(agent: str) -> str:
    """The adapter's start, once FIND_ROOT has set $root, with its fail-closed wrapper. The repository is passed
    as CLAUDE_PROJECT_DIR, whatever a parent process set: the guard finds the policy and the audit log there."""
    return (
        f'CLAUDE_PROJECT_DIR="$root" {HOOK_PYTHON} "$root/{ADAPTER}" {agent} || '
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
