"""The posture check for the other agents (imported by check.py): their hooks still reach the foundation's
guard, Cursor's hooks still fail closed, Cursor's permissions are not looser, Codex's approval policy and sandbox
are not looser than the ones rendered. Reads the floor from policy.json's `agents`. Standard library only."""

from __future__ import annotations

import json
from pathlib import Path

ADAPTER = "agent_hook.py"
RESTORE = ("Restore it: `git checkout -- {file}` if the change is not committed yet; otherwise re-render with "
           "`python3 .claude/foundation/update.py`. Team keys go in the answers extra_codex_config (Codex) and extra_agent_config (the other agents' files).")


def _json(repo: Path, relative: str):
    try:
        return json.loads((repo / relative).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _hook_commands(document, event: str) -> list[str]:
    """Every command wired for `event`, in any of the three shapes (Claude-style groups, Copilot, Cursor)."""
    hooks = (document or {}).get("hooks") if isinstance(document, dict) else None
    entries = hooks.get(event) if isinstance(hooks, dict) else None
    commands = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        for hook in [entry, *(entry.get("hooks") if isinstance(entry.get("hooks"), list) else [])]:
            if isinstance(hook, dict):
                commands += [str(hook.get(key)) for key in ("command", "bash") if hook.get(key)]
    return commands


def _hook_findings(finding, repo: Path, agent: str, floor: dict) -> list:
    relative = floor["hooks_file"]
    document = _json(repo, relative)
    out = []
    for event in floor.get("hook_events", []):
        if not any(ADAPTER in c and agent in c for c in _hook_commands(document, event)):
            out.append(finding(f"{agent}-hook-missing", "error", relative,
                               f"{relative} no longer runs the foundation's guard on {event}: {agent}'s tool calls go unchecked and unaudited.",
                               RESTORE.format(file=relative)))
    if floor.get("fail_closed") and isinstance(document, dict):
        for event in floor.get("hook_events", []):
            entries = (document.get("hooks") or {}).get(event) or []
            if any(isinstance(e, dict) and ADAPTER in str(e.get("command")) and e.get("failClosed") is not True for e in entries):
                out.append(finding(f"{agent}-hook-fails-open", "error", relative,
                                   f"{relative}: the guard on {event} lost failClosed: true, so a crashed or slow guard lets the call through.",
                                   RESTORE.format(file=relative)))
    return out


def _cursor_permissions(finding, repo: Path, floor: dict) -> list:
    relative = floor["permissions_file"]
    document = _json(repo, relative)
    permissions = document.get("permissions") if isinstance(document, dict) else None
    if not isinstance(permissions, dict):
        return [finding("cursor-permissions-missing", "error", relative, f"{relative} is missing or unreadable: Cursor's deny rules are gone.",
                        RESTORE.format(file=relative))]
    out = []
    missing = [r for r in floor.get("deny", []) if r not in (permissions.get("deny") or [])]
    if missing:
        out.append(finding("cursor-deny-rule-missing", "error", relative, f"{relative} lost deny rule(s) {', '.join(missing[:5])}.",
                           RESTORE.format(file=relative)))
    looser = [r for r in (permissions.get("allow") or []) if r not in floor.get("allow", [])]
    if looser:
        out.append(finding("cursor-permission-loosened", "error", relative,
                           f"{relative} allows {', '.join(map(str, looser[:5]))} beyond the profile.", RESTORE.format(file=relative)))
    return out


def _codex_config(finding, repo: Path, floor: dict) -> list:
    relative = floor["config_file"]
    try:
        import tomllib
    except ImportError:  # Python before 3.11: the manifest hash still catches an edit
        return []
    try:
        config = tomllib.loads((repo / relative).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return [finding("codex-config-invalid", "error", relative, f"{relative} cannot be read ({error}).", RESTORE.format(file=relative))]
    out = []
    for key, order in (("approval_policy", floor["approval_order"]), ("sandbox_mode", floor["sandbox_order"])):
        value = config.get(key)
        if value not in order or order.index(value) > order.index(floor[key]):
            out.append(finding(f"codex-{key.replace('_', '-')}-loosened", "error", relative,
                               f"{relative} sets {key} = {value!r}, looser than the profile's {floor[key]!r}.", RESTORE.format(file=relative)))
    return out


def _codex_skills(finding, repo: Path, floor: dict) -> list:
    link = floor.get("skills_link") or {}
    path = repo / link.get("path", ".agents/skills")
    if not link or (path.is_dir() and (repo / ".claude/skills").is_dir() and path.resolve() == (repo / ".claude/skills").resolve()):
        return []
    return [finding("codex-skills-unlinked", "warning", link["path"],
                    f"{link['path']} is not the link to .claude/skills the foundation rendered: Codex does not see the registry's skills "
                    "(or sees another copy that updates never reach).",
                    f"Replace it with the link: `rm -rf {link['path']} && ln -s {link['target']} {link['path']}` "
                    "(on Windows, enable git's core.symlinks).")]


def findings(finding, repo: Path, policy: dict | None) -> list:
    """`finding` is check.py's Finding class (passed in, so this module needs no import of check.py)."""
    out = []
    for agent, floor in ((policy or {}).get("agents") or {}).items():
        if agent == "claude-code" or not isinstance(floor, dict):
            continue
        out += _hook_findings(finding, repo, agent, floor)
        if agent == "cursor":
            out += _cursor_permissions(finding, repo, floor)
        if agent == "codex":
            out += _codex_config(finding, repo, floor) + _codex_skills(finding, repo, floor)
    return out
