"""OpenAI Codex: AGENTS.md (already rendered), .codex/config.toml, .codex/hooks.json, command rules, skills.

Codex reads a project's .codex/ only in a trusted project; AGENTS.md loads either way. Its hooks use Claude Code's
format (PreToolUse, tool_name "Bash", tool_input.command; a `permissionDecision: "deny"` answer blocks), and it
runs the call when a hook crashes or times out, so the hook command itself fails closed (agents.guard_command).
"""

from __future__ import annotations

import json
from typing import Any

from .. import render
from .common import ADAPTER, GUARD_TIMEOUT_SECONDS, FIND_ROOT, audit_command, guard_command, run_guard

from . import _toml, team

NAME = "codex"
CONFIG = ".codex/config.toml"
HOOKS = ".codex/hooks.json"
RULES = ".codex/rules/agent-foundation.rules"
REQUIREMENTS_FILE = "requirements.toml"
# Rendered as a link by the template (template/{% if 'codex' ... %}.agents{% endif %}/skills), not by files().
SKILLS_LINK, SKILLS_TARGET = ".agents/skills", "../.claude/skills"
# Looser to the right: the posture check flags a value to the right of the rendered one.
APPROVAL_ORDER = ("untrusted", "on-request", "on-failure", "never")
SANDBOX_ORDER = ("read-only", "workspace-write", "danger-full-access")
HEADER = ("Managed by agent-foundation: re-rendered on every update; the platform team changes it through a release.\n"
          "Your own Codex settings go in ~/.codex/config.toml, or in the answer extra_codex_config.")


def posture(foundation: Any, profile_name: str) -> tuple[str, str]:
    """(approval_policy, sandbox_mode) for a profile: a profile whose agents may edit without asking gets a
    writable workspace and asks when a command needs more; one that asks before every edit gets a read-only
    sandbox and asks before anything not known to be safe."""
    allow = foundation.profiles[profile_name].get("allow", [])
    if any(rule in ("Edit", "Write") for rule in allow):
        return "on-request", "workspace-write"
    return "untrusted", "read-only"


def mcp_servers(foundation: Any, answers: dict[str, Any]) -> dict[str, Any]:
    """[mcp_servers.<name>] tables: the same pinned command lines as .mcp.json, every vetted tool listed."""
    servers: dict[str, Any] = {}
    for name in answers.get("mcp_servers") or []:
        config = render.mcp_server_config(foundation.mcp_servers[name])
        if "url" in config:
            table: dict[str, Any] = {"url": config["url"]}
            if config.get("headers"):
                table["http_headers"] = _toml.InlineTable(config["headers"])
        else:
            table = {"command": config["command"], "args": config["args"]}
            if config.get("env"):
                table["env"] = _toml.InlineTable(config["env"])
        servers[name] = table
    # Servers the team runs outside the registry: kept, as in .mcp.json, and flagged by the posture check.
    for name, config in sorted((answers.get("extra_mcp_servers") or {}).items()):
        servers[name] = {key: (_toml.InlineTable(v) if isinstance(v, dict) else v)
                         for key, v in config.items() if key in ("command", "args", "env", "url")}
    return servers


def config(foundation: Any, answers: dict[str, Any]) -> dict[str, Any]:
    approval, sandbox = posture(foundation, answers["permission_profile"])
    document: dict[str, Any] = dict(_team_config(answers))
    document.update({"approval_policy": approval, "sandbox_mode": sandbox})
    if sandbox == "workspace-write":
        # The repository is the only writable root; no network from inside the sandbox (the guard and the
        # profile's ask rules decide what may reach the network, on a human's approval).
        document["sandbox_workspace_write"] = {"writable_roots": [], "network_access": False}
    servers = mcp_servers(foundation, answers)
    if servers:
        document["mcp_servers"] = servers
    return document


def _team_config(answers: dict[str, Any]) -> dict[str, Any]:
    """The team's own Codex keys (the answer extra_codex_config), under the foundation's, which win."""
    extra = answers.get("extra_codex_config") or {}
    return json.loads(json.dumps(extra, sort_keys=True)) if isinstance(extra, dict) else {}


FOUNDATION_CONFIG_KEYS = ("approval_policy", "sandbox_mode", "sandbox_workspace_write", "mcp_servers", "hooks", "features",
                          "model_provider", "model_providers", "projects", "shell_environment_policy")


# What a team may add to (team.py): its own config keys (extra_codex_config; its MCP servers to extra_mcp_servers)
# and its own hooks beside the guard.
TEAM_FILES = {
    CONFIG: team.TeamFile(CONFIG, answer="extra_codex_config", format="toml", servers="mcp_servers",
                          owned=frozenset(FOUNDATION_CONFIG_KEYS) - {"mcp_servers"}),
    HOOKS: team.TeamFile(HOOKS),
}


def extra_config_errors(extra: Any) -> list[str]:
    if extra in (None, "", {}):
        return []
    if not isinstance(extra, dict):
        return ['extra_codex_config must be a mapping of .codex/config.toml keys, e.g. {"model": "gpt-5.2"}']
    return [
        f"extra_codex_config: {key!r} belongs to the foundation's posture (or to your own ~/.codex/config.toml); "
        "keep model, reasoning and display keys here"
        for key in extra if key in FOUNDATION_CONFIG_KEYS
    ]


def hooks() -> dict[str, Any]:
    guard = {"type": "command", "command": guard_command(NAME), "timeout": GUARD_TIMEOUT_SECONDS}
    audit = {"type": "command", "command": audit_command(NAME), "timeout": 10}
    # Results and sessions go to the same audit log as Claude Code's (the guard records each decision itself).
    return {"hooks": {"PreToolUse": [{"matcher": "*", "hooks": [guard]}],
                      "PostToolUse": [{"matcher": "*", "hooks": [audit]}],
                      "SessionStart": [{"hooks": [audit]}]}}


def _prefix(rule: str) -> list[str] | None:
    """The words of a Bash(...) rule as a Codex prefix, or None when the rule cannot be one (a wildcard inside)."""
    if not rule.startswith("Bash(") or not rule.endswith(")"):
        return None
    inner = rule[len("Bash("):-1].removesuffix(":*").strip()
    words = inner.split()
    if not words or any(ch in inner for ch in "*?[]\"'\\$"):
        return None
    return words


def command_rules(foundation: Any, answers: dict[str, Any]) -> str:
    """Codex command rules (Starlark prefix_rule): the policy's deny rules forbidden, its ask rules prompting.
    Rules with a wildcard inside cannot be prefixes; the guard hook holds them (and everything else)."""
    rules = render.permission_rules(foundation, answers)
    lines = ["# Managed by agent-foundation: the organisation's command rules for Codex, from foundation/policy.yml.",
             "# The guard hook (.codex/hooks.json) enforces the whole policy; these hold even without it.", ""]
    for kind, decision in (("deny", "forbidden"), ("ask", "prompt")):
        for rule in rules[kind]:
            words = _prefix(rule)
            if words:
                lines.append(f"prefix_rule(pattern={json.dumps(words)}, decision={json.dumps(decision)}, "
                             f"justification={json.dumps('agent-foundation: ' + rule)})")
    return "\n".join(lines) + "\n"


def files(foundation: Any, answers: dict[str, Any], version: str = "unreleased") -> dict[str, str]:
    return {
        CONFIG: _toml.dumps(config(foundation, answers), HEADER),
        HOOKS: render.dumps(team.with_team_part(answers, HOOKS, hooks())),
        RULES: command_rules(foundation, answers),
    }


def floor(foundation: Any, answers: dict[str, Any]) -> dict[str, Any]:
    approval, sandbox = posture(foundation, answers["permission_profile"])
    return {
        "hooks_file": HOOKS, "hook_events": ["PreToolUse"], "config_file": CONFIG,
        "approval_policy": approval, "sandbox_mode": sandbox,
        "approval_order": list(APPROVAL_ORDER), "sandbox_order": list(SANDBOX_ORDER),
        "skills_link": {"path": SKILLS_LINK, "target": SKILLS_TARGET},
    }


def requirements(foundation: Any, *, mcp_allowlist: bool = True) -> dict[str, Any]:
    """The admin's requirements.toml: no approval policy or sandbox looser than the loosest profile's, the
    guard as a managed hook in every repository that has the foundation, and (by default) only the registry's
    vetted MCP servers, matched by name and command."""
    loosest_approval = max((posture(foundation, p)[0] for p in foundation.profiles), key=APPROVAL_ORDER.index)
    loosest_sandbox = max((posture(foundation, p)[1] for p in foundation.profiles), key=SANDBOX_ORDER.index)
    document: dict[str, Any] = {
        "allowed_approval_policies": list(APPROVAL_ORDER[: APPROVAL_ORDER.index(loosest_approval) + 1]),
        "allowed_sandbox_modes": list(SANDBOX_ORDER[: SANDBOX_ORDER.index(loosest_sandbox) + 1]),
        "features": {"hooks": True},
        "hooks": {"PreToolUse": [{"matcher": "*", "hooks": [
            {"type": "command", "command": managed_guard_command(), "timeout": GUARD_TIMEOUT_SECONDS}]}]},
    }
    if mcp_allowlist:
        allowlist: dict[str, Any] = {}
        for name, server in foundation.mcp_servers.items():
            config = render.mcp_server_config(server)
            identity = {"url": config["url"]} if "url" in config else {"command": config["command"]}
            allowlist[name] = {"identity": identity}
        document["mcp_servers"] = allowlist
    return document


def managed_guard_command() -> str:
    """The managed hook runs in every repository on the device: it guards those that carry the foundation and
    lets the others through (a managed hook cannot point at scripts a repository does not have)."""
    return FIND_ROOT + f'[ -f "$root/{ADAPTER}" ] || exit 0; ' + run_guard(NAME)


def managed(foundation: Any, *, mcp_allowlist: bool = True) -> dict[str, str]:
    header = ("Managed by agent-foundation (agent-foundation managed-settings --agent codex): deploy root-owned and\n"
              "read-only to /etc/codex/requirements.toml. Codex falls back to an allowed value when a setting conflicts.")
    return {REQUIREMENTS_FILE: _toml.dumps(requirements(foundation, mcp_allowlist=mcp_allowlist), header)}
