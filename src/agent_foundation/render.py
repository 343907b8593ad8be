"""Derive every foundation-owned file of a team repository from the foundation's data and the team's answers.

The Copier templates only print what these functions return, so the rendered JSON is always valid, the
manifest can hash exactly what was rendered, and the CLI (managed settings, fleet) derives the same values.
Only PyYAML and the standard library may be imported here (see foundation.py).
"""

from __future__ import annotations

import datetime
import fnmatch
import hashlib
import json
import re
import urllib.parse
from pathlib import Path
from typing import Any

from . import agents
from .agents.common import HOOK_PYTHON
from .agents_md import section_digest
from .foundation import Foundation, check_rule_syntax, host_pattern_problem

SCHEMA_VERSION = 1
SETTINGS_SCHEMA_URL = "https://json.schemastore.org/claude-code-settings.json"
FOUNDATION_DIR = ".claude/foundation"
DEFAULT_AUDIT_LOG = ".claude/audit/audit.jsonl"
AGENTS_BEGIN = "<!-- agent-foundation:begin (managed by the platform team; replaced on every update, edit outside this section) -->"
AGENTS_END = "<!-- agent-foundation:end -->"
# By default the client runs hooks fail-open: a hook that cannot start, crashes or times out lets the call
# through. Two locks, each enough on its own: `onFailure: "block"` (the client counts a failed or timed-out hook
# as a block; older clients ignore the key) and the shell wrapper, which turns every failure of the guard (no
# python3, missing file, crash, kill) into exit 2, which blocks on every client version.
GUARD_COMMAND = (
    f'{HOOK_PYTHON} "$CLAUDE_PROJECT_DIR/.claude/foundation/hooks/guard.py" || '
    '{ echo "agent-foundation: the guard hook failed (exit $?), so this call is blocked for safety. '
    'Check that python3 runs and that .claude/foundation/hooks/guard.py exists (restore it with: copier recopy --trust --defaults)." >&2; exit 2; }'
)
GUARD_TIMEOUT_SECONDS = 15
AUDIT_COMMAND = f'{HOOK_PYTHON} "$CLAUDE_PROJECT_DIR/.claude/foundation/hooks/audit.py" hook'
AUDIT_EVENTS = ("SessionStart", "PostToolUse", "PostToolUseFailure", "SessionEnd")
FILE_TOOLS = {"Read": ("Read", "Grep", "Glob"), "Edit": ("Edit", "Write", "NotebookEdit", "MultiEdit")}


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def dumps_compact(data: Any) -> str:
    """One line of JSON (the program table's records)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n"


def sha256(content: str | bytes) -> str:
    """The digest manifest.json records: of the content with LF line endings, as git stores text. A checkout
    that writes CRLF (core.autocrlf on Windows) is not an edit. history.sha256 and check.py agree."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    return hashlib.sha256(content.replace(b"\r\n", b"\n")).hexdigest()


# ---------------------------------------------------------------- permission rules


def _file_rule(tool: str, glob: str) -> str:
    return f"{tool}({glob})"


def _secret_globs_for_settings(foundation: Foundation) -> list[str]:
    """Secret globs safe as client deny rules: those no look-alike exception falls under."""
    secrets = foundation.policy["secrets"]
    exceptions = [e.replace("**/", "") for e in secrets.get("except", [])]
    return [g for g in secrets["paths"] if not any(fnmatch.fnmatchcase(e, g.replace("**/", "")) for e in exceptions)]


def foundation_deny_rules(foundation: Foundation) -> list[str]:
    rules = [_file_rule("Read", glob) for glob in _secret_globs_for_settings(foundation)]
    rules += [_file_rule("Edit", glob) for glob in foundation.policy["protected"]["paths"]]
    for command in foundation.policy["commands"]:
        if command["decision"] == "deny":
            rules += command.get("settings", [])
    return _unique(rules)


def foundation_ask_rules(foundation: Foundation) -> list[str]:
    rules: list[str] = []
    for command in foundation.policy["commands"]:
        if command["decision"] == "ask":
            rules += command.get("settings", [])
    rules += [f"Bash({entry['command']}:*)" for entry in _unsandboxed(foundation) if entry["ask"]]
    return _unique(rules)


def profile_allow_rules(foundation: Foundation, profile_name: str, stacks: list[str]) -> list[str]:
    profile = foundation.profiles[profile_name]
    rules = list(profile.get("allow", []))
    for stack in stacks:
        for group in profile.get("stack_commands", []):
            rules += foundation.stacks[stack].get(group, [])
    return _unique(rules)


def permission_rules(foundation: Foundation, answers: dict[str, Any]) -> dict[str, list[str]]:
    profile = foundation.profiles[answers["permission_profile"]]
    allow = profile_allow_rules(foundation, answers["permission_profile"], answers.get("stacks") or [])
    allow += [rule for rule in answers.get("extra_allow") or [] if rule not in allow]
    for server in answers.get("mcp_servers") or []:
        allow += [f"mcp__{server}__{tool}" for tool in foundation.mcp_servers[server]["tools"].get("read", [])]
    ask = foundation_ask_rules(foundation) + list(profile.get("ask", []))
    ask += [rule for rule in answers.get("extra_ask") or [] if rule not in ask]
    for server in answers.get("mcp_servers") or []:
        ask += [f"mcp__{server}__{tool}" for tool in foundation.mcp_servers[server]["tools"].get("write", [])]
    deny = foundation_deny_rules(foundation) + list(answers.get("extra_deny") or [])
    return {"allow": _unique(allow), "ask": _unique(ask), "deny": _unique(deny)}


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# ---------------------------------------------------------------- the client's OS sandbox


def _unsandboxed(foundation: Foundation) -> list[dict[str, Any]]:
    return list(foundation.client["sandbox"].get("unsandboxed_commands") or [])


def _sandbox_path(glob: str) -> str:
    """A policy glob as a sandbox path: a folder's `/**` dropped, so the folder itself is hidden or locked."""
    return glob[: -len("/**")] if glob.endswith("/**") else glob


def sandbox_deny_read(foundation: Foundation) -> list[str]:
    """The secrets every sandboxed command is refused: the same globs as the Read deny rules."""
    return _unique([_sandbox_path(glob) for glob in _secret_globs_for_settings(foundation)])


def sandbox_deny_write(foundation: Foundation) -> list[str]:
    return _unique([_sandbox_path(glob) for glob in foundation.policy["protected"]["paths"]])


def _sandbox(foundation: Foundation, hosts: list[str], caches: list[str], deny_read: list[str]) -> dict[str, Any]:
    filesystem: dict[str, Any] = {"denyRead": deny_read, "denyWrite": sandbox_deny_write(foundation)}
    if caches:
        filesystem["allowWrite"] = _unique(caches)
    return {
        "enabled": True,
        "failIfUnavailable": foundation.client["sandbox"]["fail_if_unavailable"],
        # The sandbox is a floor under the permission rules, not a grant: a sandboxed command still needs the
        # profile's allow rule, as without the sandbox (set explicitly: older clients default otherwise).
        "autoAllowBashIfSandboxed": False,
        # Closes the escape through the Bash tool's dangerouslyDisableSandbox parameter.
        "allowUnsandboxedCommands": False,
        "excludedCommands": [f"{entry['command']}:*" for entry in _unsandboxed(foundation)],
        "filesystem": filesystem,
        "network": {"allowedDomains": _unique(hosts)},
    }


def _hosts_and_caches(foundation: Foundation, stacks: list[dict[str, Any]], profiles: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The organisation's hosts, the stacks' registries and the profiles' hosts; the stacks' caches."""
    hosts = list(foundation.client["sandbox"].get("network") or [])
    hosts += [host for stack in stacks for host in stack.get("network") or []]
    hosts += [host for profile in profiles for host in profile.get("network") or []]
    return hosts, [cache for stack in stacks for cache in stack.get("caches") or []]


def team_sandbox(foundation: Foundation, answers: dict[str, Any]) -> dict[str, Any]:
    """settings.json's `sandbox`: the organisation's hosts, the chosen stacks' registries and caches, the
    profile's hosts and the team's own (`extra_network_hosts`)."""
    stacks = [foundation.stacks[name] for name in answers.get("stacks") or []]
    hosts, caches = _hosts_and_caches(foundation, stacks, [foundation.profiles[answers["permission_profile"]]])
    hosts += list(answers.get("extra_network_hosts") or [])
    return _sandbox(foundation, hosts, caches, sandbox_deny_read(foundation))


def sandbox_floor(foundation: Foundation) -> dict[str, Any]:
    """The managed (device) floor's `sandbox`. While it sets allowUnsandboxedCommands: false the client ignores
    the network hosts, caches and excluded commands of project settings, so it carries every stack's and
    profile's; and strictAllowlist (honoured from managed settings only) refuses other hosts instead of asking.
    Only the home-directory secrets: relative paths would not resolve against each repository here."""
    hosts, caches = _hosts_and_caches(foundation, list(foundation.stacks.values()), list(foundation.profiles.values()))
    home_secrets = [path for path in sandbox_deny_read(foundation) if path.startswith("~/")]
    floor = _sandbox(foundation, hosts, caches, home_secrets)
    del floor["filesystem"]["denyWrite"]
    floor["network"]["strictAllowlist"] = True
    return floor


def extra_network_host_errors(hosts: Any) -> list[str]:
    """Why the team's `extra_network_hosts` answer cannot be accepted; empty when it can."""
    if hosts in (None, "", []):
        return []
    example = 'e.g. ["artifacts.internal.example.com", "*.api.example.com"]'
    if not isinstance(hosts, list):
        return [f"use a list of hosts: a YAML list of host names, {example}"]
    errors = []
    for host in hosts:
        why = host_pattern_problem(host)
        if why:
            errors.append(f"write the host only, {example}: {host!r} {why}")
    return errors


# ---------------------------------------------------------------- extra rules a team asks for


def _literal(glob: str) -> str:
    """A concrete path a glob matches, to probe allow rules with (".env.*" -> ".env.x")."""
    return glob.replace("**/", "").replace("/**", "/x").replace("*", "x")


def _danger_probes(foundation: Foundation) -> list[tuple[str, str, str]]:
    """(tool, value, why) triples an extra allow rule must not cover."""
    probes = []
    for command in foundation.policy["commands"]:
        if command["decision"] != "deny":
            continue
        for example in command.get("examples", []):
            probes.append(("Bash", example, f"the foundation denies it (rule {command['id']})"))
        for rule in command.get("settings", []):
            inner = rule[len("Bash(") : -1].removesuffix(":*")
            probes.append(("Bash", inner, f"the foundation denies it (rule {command['id']})"))
    for glob in foundation.policy["secrets"]["paths"]:
        probes.append(("Read", _literal(glob), "it is a secret the foundation denies to every tool"))
    for glob in foundation.policy["protected"]["paths"]:
        probes.append(("Edit", _literal(glob), "the file belongs to the foundation"))
    return probes


def _bash_pattern(arg: str) -> re.Pattern[str]:
    if arg.endswith(":*"):
        return re.compile(re.escape(arg[:-2]) + r"(\s.*)?", re.S)
    return re.compile(".*".join(re.escape(part) for part in arg.split("*")), re.S)


def _path_pattern(arg: str) -> re.Pattern[str]:
    arg = arg.removeprefix("./").removeprefix("/")
    out, i = "", 0
    while i < len(arg):
        if arg.startswith("**", i):
            out, i = out + ".*", i + 2
        elif arg[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif arg[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(arg[i]), i + 1
    return re.compile(out, re.S)


def rule_covers(rule: str, tool: str, value: str) -> bool:
    """Whether a permission rule would approve the call `tool(value)`."""
    match = re.match(r"^([A-Za-z_]+)(?:\((.*)\))?$", rule, re.S)
    if not match:
        return False
    rule_tool, arg = match.group(1), match.group(2)
    family = next((members for members in FILE_TOOLS.values() if tool in members), (tool,))
    if rule_tool not in family:
        return False
    if arg is None or arg in ("*", "**", ":*"):
        return True
    if tool == "Bash":
        return bool(_bash_pattern(arg).fullmatch(value))
    return bool(_path_pattern(arg).fullmatch(value.removeprefix("./")))


# Answer errors start with the fix: at a prompt, Copier shows one line, after "Validation error for question
# 'extra_allow': ", and an 80-column terminal cuts the rest (tests/test_prompt_messages.py checks each fix shows).


def extra_rule_errors(foundation: Foundation, rules: Any, kind: str) -> list[str]:
    """Why the team's extra allow/ask/deny rules cannot be accepted, fix first; empty when they can."""
    if rules in (None, "", []):
        return []
    if not isinstance(rules, list):
        return ['use a list: ["Bash(make test:*)"]; one permission rule per item']
    errors = []
    for rule in rules:
        why = check_rule_syntax(rule)
        if why:
            errors.append(f"write it like Bash(make test:*): {rule!r} {why} (or Read(./docs/**) for a path)")
            continue
        if kind != "allow":
            continue
        for tool, value, reason in _danger_probes(foundation):
            if rule_covers(rule, tool, value):
                errors.append(f"narrow it, e.g. Bash(make test:*): {rule!r} would allow {tool}({value}), but {reason}")
                break
    return errors


# Settings keys the foundation and the team both fill: the foundation's entries always win (its env variables,
# its permission rules and modes, its hooks first), the team's sit beside them. Every other key the foundation
# renders is its posture alone; every key it does not render is the team's, carried through `extra_settings`.
SHARED_SETTINGS_KEYS = ("env", "hooks", "permissions")
PERMISSION_RULE_KINDS = ("allow", "ask", "deny")  # the team's rules go through extra_allow / extra_ask / extra_deny


def owned_settings(foundation: Foundation) -> dict[str, set[str]]:
    """What the foundation owns in settings.json: its top-level keys, and its keys inside `permissions` and `env`."""
    profile = next(iter(foundation.profiles))
    base = foundation_settings(foundation, {"permission_profile": profile, "team_slug": "x"})
    return {
        "keys": set(base) - set(SHARED_SETTINGS_KEYS),
        "permissions": set(base["permissions"]) | set(PERMISSION_RULE_KINDS),
        "env": set(base["env"]),
    }


def extra_settings_errors(foundation: Foundation, extra: Any) -> list[str]:
    if extra in (None, "", {}):
        return []
    if not isinstance(extra, dict):
        return ['use a YAML mapping of settings.json keys, e.g. {"env": {"LOG_LEVEL": "debug"}}']
    owned = owned_settings(foundation)
    errors = []
    for key, value in extra.items():
        if key in owned["keys"]:
            errors.append(
                f"remove {key!r}: it is the foundation's posture; permissions go in extra_allow, extra_ask or "
                "extra_deny, personal settings in .claude/settings.local.json"
            )
        elif key == "permissions":
            if not isinstance(value, dict):
                errors.append("extra_settings: permissions must be a mapping, as in settings.json")
                continue
            for inner in sorted(set(value) & owned["permissions"]):  # the foundation's would win anyway: say so
                errors.append(
                    ("put your rules in extra_allow, extra_ask or extra_deny" if inner in PERMISSION_RULE_KINDS
                     else "ask the platform team for another permission profile")
                    + f": extra_settings' permissions.{inner} belongs to the foundation's posture"
                )
        elif key == "hooks":
            if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
                errors.append("hooks: {EVENT: [entries]}, as in settings.json: map each event name to a list of hook entries")
        elif key == "env" and (not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())):
            errors.append("quote every env value: env maps variable names to strings")
    return errors


def extra_mcp_server_errors(foundation: Foundation, extra: Any) -> list[str]:
    if extra in (None, "", {}):
        return []
    if not isinstance(extra, dict):
        return ["use {name: .mcp.json entry}: a mapping of server names to .mcp.json server entries"]
    errors = []
    for name, config in extra.items():
        if name in foundation.mcp_servers:
            errors.append(f"move it to mcp_servers: {name!r} is a vetted server, choose it there")
        elif not isinstance(config, dict) or not (config.get("command") or config.get("url")):
            errors.append(f"add a command or a url: {name!r} needs one, as in .mcp.json")
    return errors


# What a team may have excused, for a while, with the platform team's approval: each kind names the posture
# finding it turns into a warning (check.py applies them), and what `name` is.
EXCEPTION_KINDS = {
    "mcp-server": "the name of an MCP server outside the vetted registry (finding mcp-server-unvetted)",
    "foundation-file": "the path of a foundation-owned file the team edited (finding foundation-file-edited)",
}
EXCEPTION_FIELDS = ("kind", "name", "reason", "approved_by", "expires")
EXCEPTION_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def exception_errors(exceptions: Any) -> list[str]:
    """Why the team's `exceptions` answer cannot be accepted; empty when it can. An expired date is accepted
    here (the posture check fails on it, naming it), so renewing is the only fix a team needs."""
    if exceptions in (None, "", []):
        return []
    example = ('[{"kind": "mcp-server", "name": "jira", "reason": "pilot", "approved_by": "security@example.com", '
               '"expires": "2026-12-31"}]')
    if not isinstance(exceptions, list):
        return [f"exceptions must be a list of exceptions, e.g. {example}"]
    errors = []
    for index, entry in enumerate(exceptions):
        where = f"exceptions[{index}]"
        if not isinstance(entry, dict):
            errors.append(f"{where} must be a mapping with {', '.join(EXCEPTION_FIELDS)}, e.g. {example}")
            continue
        unknown = sorted(set(entry) - set(EXCEPTION_FIELDS))
        if unknown:
            errors.append(f"{where}: {', '.join(unknown)} is not a field of an exception; use {', '.join(EXCEPTION_FIELDS)}")
        if entry.get("kind") not in EXCEPTION_KINDS:
            errors.append(f"{where}.kind {entry.get('kind')!r} is not one of {', '.join(EXCEPTION_KINDS)}")
        for field in ("name", "reason", "approved_by"):
            if not isinstance(entry.get(field), str) or not entry.get(field).strip():
                errors.append(f"{where}.{field} is missing: give {'who approved it (an email or a team handle)' if field == 'approved_by' else 'the ' + field}")
        expires = str(entry.get("expires") or "")
        try:
            valid = bool(EXCEPTION_DATE.match(expires)) and bool(datetime.date.fromisoformat(expires))
        except ValueError:
            valid = False
        if not valid:
            errors.append(f"{where}.expires {entry.get('expires')!r} is not a date YYYY-MM-DD; give the day the exception ends, e.g. 2026-12-31")
    return errors


def canonical_exceptions(exceptions: Any) -> list[dict[str, str]]:
    """The exceptions as policy.json carries them: the five fields as strings (YAML may read a date as a date)."""
    return [{field: str(entry.get(field, "")) for field in EXCEPTION_FIELDS} for entry in exceptions or []]


def _canonical(value: Any) -> Any:
    """Team-provided JSON with its keys sorted: the answers file stores mappings sorted, and the same
    answers must always render the same bytes (the manifest hashes them)."""
    return json.loads(json.dumps(value, sort_keys=True))


def _merge_team_settings(rendered: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """The foundation's settings with the team's additions: hooks appended after the foundation's, the
    foundation's values winning everywhere else."""
    extra = _canonical(extra)
    for key, value in extra.items():
        if key == "hooks":
            for event, entries in value.items():
                rendered["hooks"].setdefault(event, [])
                rendered["hooks"][event] = rendered["hooks"][event] + [e for e in entries if e not in rendered["hooks"][event]]
        elif key in ("env", "permissions") or (key in ("enabledPlugins", "extraKnownMarketplaces") and key in rendered):
            rendered[key] = {**value, **rendered[key]}  # the team adds; the foundation's entries win
        else:
            rendered[key] = value
    return rendered


# ---------------------------------------------------------------- rendered files


def hooks_config() -> dict[str, Any]:
    guard = {"type": "command", "command": GUARD_COMMAND, "timeout": GUARD_TIMEOUT_SECONDS, "onFailure": "block"}
    hooks: dict[str, Any] = {"PreToolUse": [{"matcher": "*", "hooks": [guard]}]}
    for event in AUDIT_EVENTS:
        entry: dict[str, Any] = {"hooks": [{"type": "command", "command": AUDIT_COMMAND, "timeout": 10}]}
        if event.startswith("PostToolUse"):
            entry = {"matcher": "*", **entry}
        hooks[event] = [entry]
    return hooks


# ---------------------------------------------------------------- registry skills: by copy or by link

SKILLS_DELIVERY = ("copy", "plugin")
MARKETPLACE_NAME = "agent-foundation"  # the registry's plugin marketplace (marketplace.py generates it)


def skills_delivery(answers: dict[str, Any]) -> str:
    return answers.get("skills_delivery") or "copy"


def copied_skills(answers: dict[str, Any]) -> list[str]:
    """The registry skills rendered as copies under .claude/skills/ (none when they come as plugins)."""
    return list(answers.get("skills") or []) if skills_delivery(answers) == "copy" else []


def marketplace_source(location: str) -> dict[str, str]:
    """The client's marketplace source for the registry: a git URL, a GitHub shorthand, or a local folder."""
    if location.startswith("gh:"):
        return {"source": "github", "repo": location[3:].removesuffix(".git")}
    if re.match(r"^(https?|ssh|git|file)://", location) or re.match(r"^[\w.-]+@[\w.-]+:", location):
        return {"source": "git", "url": location}
    return {"source": "directory", "path": location}


def plugin_settings(answers: dict[str, Any]) -> dict[str, Any]:
    """extraKnownMarketplaces + enabledPlugins for a team that receives its registry skills as plugins."""
    if skills_delivery(answers) != "plugin":
        return {}
    return {
        "extraKnownMarketplaces": {MARKETPLACE_NAME: {"source": marketplace_source(answers["_marketplace"])}},
        "enabledPlugins": {f"{name}@{MARKETPLACE_NAME}": True for name in answers.get("skills") or []},
    }


def telemetry_resource_attributes(answers: dict[str, Any], version: str) -> str:
    """OTEL_RESOURCE_ATTRIBUTES for the team's sessions: the org's collector (managed settings) tells the teams
    apart by these. Values are percent-encoded, as the OpenTelemetry format requires for , and =."""
    labels = {"team.id": answers["team_slug"], "agent_foundation.profile": answers["permission_profile"],
              "agent_foundation.version": version}
    return ",".join(f"{key}={urllib.parse.quote(str(value), safe='')}" for key, value in labels.items())


def foundation_settings(foundation: Foundation, answers: dict[str, Any], version: str = "unreleased") -> dict[str, Any]:
    """settings.json as the foundation alone renders it, before the team's `extra_settings`."""
    profile = foundation.profiles[answers["permission_profile"]]
    rules = permission_rules(foundation, answers)
    return {
        "$schema": SETTINGS_SCHEMA_URL,
        "permissions": {
            "allow": rules["allow"],
            "ask": rules["ask"],
            "deny": rules["deny"],
            "defaultMode": profile.get("default_mode", "default"),
            "disableBypassPermissionsMode": "disable",
        },
        "disableAutoMode": "disable",
        "hooks": hooks_config(),
        "sandbox": team_sandbox(foundation, answers),
        "enableAllProjectMcpServers": False,
        "enabledMcpjsonServers": list(answers.get("mcp_servers") or []) + list(answers.get("extra_mcp_servers") or {}),
        "env": {
            "AGENT_FOUNDATION_TEAM": answers["team_slug"],
            "OTEL_RESOURCE_ATTRIBUTES": telemetry_resource_attributes(answers, version),
        },
        **plugin_settings(answers),
    }


def settings(foundation: Foundation, answers: dict[str, Any], version: str = "unreleased") -> dict[str, Any]:
    return _merge_team_settings(foundation_settings(foundation, answers, version), dict(answers.get("extra_settings") or {}))


def mcp_server_config(server: dict[str, Any]) -> dict[str, Any]:
    if server.get("transport", "stdio") == "http":
        config: dict[str, Any] = {"type": "http", "url": server["url"]}
        if server.get("headers"):
            config["headers"] = dict(server["headers"])
        return config
    if server["runner"] == "npx":
        args = ["-y", f"{server['package']}@{server['version']}"]
    else:
        args = [f"{server['package']}=={server['version']}"]
    config = {"command": server["runner"], "args": args + [str(a) for a in server.get("args") or []]}
    if server.get("env"):
        config["env"] = dict(server["env"])
    return config


def mcp_config(foundation: Foundation, answers: dict[str, Any]) -> dict[str, Any]:
    names = answers.get("mcp_servers") or []
    servers = {name: mcp_server_config(foundation.mcp_servers[name]) for name in names}
    # Servers a team added outside the registry: kept, and flagged by the posture check and the fleet report.
    servers.update(_canonical(dict(answers.get("extra_mcp_servers") or {})))
    return {"mcpServers": servers}


PROGRAM_TABLE_FILE = ".claude/foundation/programs.tsv"


def policy_file(foundation: Foundation, answers: dict[str, Any], version: str) -> dict[str, Any]:
    """policy.json: the policy without the program table, which is rendered to PROGRAM_TABLE_FILE."""
    data = policy(foundation, answers, version)
    del data["program_table"]
    return data


def program_table(foundation: Foundation) -> str:
    """programs.yml for the guard, one line per entry so the guard reads only what a command uses (it finds a line
    with one string search and parses that line's JSON): `!settings<TAB>{verbs, MCP field roles, environment}`, then
    every `@alias<TAB>name`, then every `=name<TAB>{record}` (no examples: the tests run those), then every
    `%language<TAB>{spec}`, then every `&command_language<TAB>{spec}`. Each kind is one block, so a search (most often for a name that is no alias) scans its
    block only."""
    table = foundation.programs
    settings = {"verbs": {"mutating": table["mutating_verbs"], "sql_destructive": table["sql_destructive"]},
                "mcp_fields": {"roles": table["mcp_fields"], "write_verbs": table["mcp_write_verbs"]},
                "environment": {"commands": table.get("command_env", []), "libraries": table.get("library_env", []),
                                "options": table.get("option_env", {})}}
    lines = ["# The guard's program table, rendered from the foundation's programs.yml; do not edit.",
             f"!settings\t{dumps_compact(settings).strip()}"]
    lines += [f"@{alias}\t{name}" for name, record in table["programs"].items() for alias in record.get("also", [])]
    lines += [f"={name}\t{dumps_compact(_without_examples(record)).strip()}" for name, record in table["programs"].items()]
    lines += [f"%{name}\t{dumps_compact(spec).strip()}" for name, spec in table["languages"].items()]
    lines += [f"&{name}\t{dumps_compact(spec).strip()}" for name, spec in (table.get("command_languages") or {}).items()]
    return "\n".join(lines) + "\n"


def _without_examples(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k not in ("examples", "also")}
    if isinstance(out.get("subcommands"), dict):
        out["subcommands"] = {verb: _without_examples(sub) for verb, sub in out["subcommands"].items()}
    return out


def policy(foundation: Foundation, answers: dict[str, Any], version: str) -> dict[str, Any]:
    """What the guard, the audit hook and the posture check read at agent time."""
    rules = permission_rules(foundation, answers)
    return {
        "schema": SCHEMA_VERSION,
        "template_version": version,
        "team": answers["team_slug"],
        "profile": answers["permission_profile"],
        "secrets": foundation.policy["secrets"],
        "protected": foundation.policy["protected"],
        "history": foundation.policy.get("history", {"paths": []}),
        "commands": foundation.policy["commands"],
        "web": foundation.policy.get("web", {}),
        # In memory the program table travels with the policy (the guard reads `program_table` first); on disk it
        # is its own file (policy_file), read only by the calls that need it.
        "program_table": program_table(foundation),
        "mcp": {
            "servers": {
                name: {
                    "risk": server["risk"],
                    "read_tools": list(server["tools"].get("read", [])),
                    "write_tools": list(server["tools"].get("write", [])),
                    "config": mcp_server_config(server),
                    "enabled": name in (answers.get("mcp_servers") or []),
                }
                for name, server in foundation.mcp_servers.items()
            },
        },
        "audit": {"path": answers.get("audit_log") or DEFAULT_AUDIT_LOG},
        "exceptions": canonical_exceptions(answers.get("exceptions")),
        "client": {"minimum_version": foundation.client["minimum_version"]},
        "agents": agents.floors(foundation, answers),
        "floor": {
            "deny": rules["deny"],
            "ask": foundation_ask_rules(foundation),
            "allow": rules["allow"],
            "hooks": hooks_config(),
            "sandbox": team_sandbox(foundation, answers),
            "disableBypassPermissionsMode": "disable",
            "disableAutoMode": "disable",
        },
    }


SUPPORT_CHANNEL = "{{ support_channel }}"  # where foundation/org-rules.md names the team's place to ask a human


def team_org_rules(foundation: Foundation, answers: dict[str, Any]) -> str:
    """The organisation's rules with the team's support channel where they point people to ask."""
    channel = str(answers.get("support_channel") or answers.get("owner") or "your team's channel")
    return foundation.org_rules.replace(SUPPORT_CHANNEL, channel)


def org_rules(foundation: Foundation, answers: dict[str, Any]) -> str:
    return (
        "<!-- Managed by agent-foundation: the platform team changes this file through a release. "
        "Put your team's own rules in another file under .claude/rules/. -->\n" + team_org_rules(foundation, answers)
    )


def agents_section(foundation: Foundation, answers: dict[str, Any]) -> str:
    """The foundation's part of AGENTS.md, for agents other than Claude Code."""
    secrets = ", ".join(f"`{p}`" for p in foundation.policy["secrets"]["paths"][:8])
    lines = [
        AGENTS_BEGIN,
        "",
        team_org_rules(foundation, answers).strip(),
        "",
        "## Guardrails in this repository",
        "",
        f"- Team `{answers['team_slug']}`, permission profile `{answers['permission_profile']}`.",
        f"- Never read secrets ({secrets}, and the rest listed in `.claude/foundation/policy.json`).",
        "- Never edit `.claude/settings.json`, `.claude/foundation/`, `.mcp.json` or the audit log: the platform team owns them.",
        "- Commands the organisation denies or asks about, with the reason and what to do instead:",
    ]
    for command in foundation.policy["commands"]:
        lines.append(f"  - `{command['id']}` ({command['decision']}): {command['reason']} {command['instead']}")
    lines += ["", AGENTS_END, ""]
    return "\n".join(lines)


def claude_gitignore() -> str:
    """The audit log always lives under .claude/audit/ (the answer's validator sees to it)."""
    return (
        "# Managed by agent-foundation.\n"
        "# Personal settings and the local audit log never go into git.\n"
        "settings.local.json\n"
        "audit/\n"
    )


def new_recommended_skills(foundation: Foundation, manifest: dict[str, Any]) -> list[str]:
    """Recommended registry skills a team has never been offered: added to the registry after its last render.

    A manifest from before the registry was recorded offers nothing, so a skill a team once deselected is
    never forced back on it.
    """
    known = manifest.get("registry_skills")
    if not isinstance(known, list):
        return []
    chosen = set((manifest.get("answers") or {}).get("skills") or [])
    return [name for name, skill in foundation.skills.items() if skill.recommended and name not in known and name not in chosen]


def changelog(foundation: Foundation) -> str:
    """The template's CHANGELOG, so update.py can show a team what changed between its old and new version."""
    path = foundation.root.parent / "CHANGELOG.md"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def skill_files(foundation: Foundation, skills: list[str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for name in skills:
        for relative, content in foundation.skills[name].files.items():
            out[f".claude/skills/{name}/{relative}"] = content
    return out


def generated_files(foundation: Foundation, answers: dict[str, Any], version: str) -> dict[str, str]:
    """Every foundation-owned file whose content is computed here, by its path in the team repository: the
    foundation's own (policy, changelog) and each chosen agent's native files (agents/<name>.py)."""
    return {
        **agents.generated_files(foundation, answers, version),
        ".claude/foundation/policy.json": dumps(policy_file(foundation, answers, version)),
        PROGRAM_TABLE_FILE: program_table(foundation),
        ".claude/foundation/CHANGELOG.md": changelog(foundation),
    }


def verbatim_files(template_root: Path) -> dict[str, bytes]:
    """Files copied unchanged from template/ (the agent-time code): every file without the .jinja suffix. Links
    (Codex's .agents/skills) are not files of their own: what they point at is tracked where it lives."""
    out = {}
    for path in sorted(template_root.rglob("*")):
        if _through_link(path, template_root):
            continue
        if path.is_file() and path.suffix != ".jinja" and "__pycache__" not in path.parts:
            out[path.relative_to(template_root).as_posix()] = path.read_bytes()
    return out


def _through_link(path: Path, root: Path) -> bool:
    """Whether `path`, or a folder between it and `root`, is a symbolic link."""
    return any(p.is_symlink() for p in (path, *path.parents) if p != root and root in p.parents)


def manifest(foundation: Foundation, answers: dict[str, Any], version: str, template_root: Path) -> dict[str, Any]:
    files: dict[str, str | bytes] = {}
    files.update(generated_files(foundation, answers, version))
    files.update(verbatim_files(template_root))
    files.update(skill_files(foundation, copied_skills(answers)))
    return {
        "schema": SCHEMA_VERSION,
        "template_version": version,
        "team": {"name": answers["team_name"], "slug": answers["team_slug"], "owner": answers["owner"]},
        "profile": answers["permission_profile"],
        "stacks": list(answers.get("stacks") or []),
        "agents": agents.chosen(answers),
        "skills_delivery": skills_delivery(answers),
        "skills": [
            {
                "name": name,
                "version": foundation.skills[name].version,
                "sha256": sha256(foundation.skills[name].files["SKILL.md"]),
                "delivery": skills_delivery(answers),
            }
            for name in answers.get("skills") or []
        ],
        "mcp_servers": [
            {
                "name": name,
                "package": foundation.mcp_servers[name].get("package") or foundation.mcp_servers[name].get("url"),
                "version": str(foundation.mcp_servers[name].get("version", "")),
                "risk": foundation.mcp_servers[name]["risk"],
            }
            for name in answers.get("mcp_servers") or []
        ],
        "registry_skills": sorted(foundation.skills),
        "client_minimum_version": foundation.client["minimum_version"],
        "agents_section": section_digest(agents_section(foundation, answers)),
        # default=str: a YAML answer may hold a date (an exception's expires written without quotes)
        "answers": json.loads(json.dumps({key: value for key, value in answers.items()
                                          if value is not None and not key.startswith("_")}, default=str)),
        "files": {path: sha256(content) for path, content in sorted(files.items())},
    }
