"""The posture check: are this repository's agent guardrails still the ones the foundation rendered?

    python3 .claude/foundation/check.py              lists each finding with what to do; exit 1 if any is an error
    python3 .claude/foundation/check.py --json       the same as JSON (for tools)
    python3 .claude/foundation/check.py --format github   also as GitHub Actions annotations (used by the CI workflow)
    python3 .claude/foundation/check.py --format sarif --output FILE   as SARIF 2.1.0, for code scanning
    python3 .claude/foundation/check.py --repo PATH  check another repository (default: the one this file is in)

Compares .claude/settings.json, settings.local.json and .mcp.json with the floor the foundation rendered into
.claude/foundation/policy.json, and every foundation-owned file with its hash in .claude/foundation/manifest.json.
The platform team's fleet report imports this same module and calls posture_findings(repo). Standard library
only; nothing depends on the current directory.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SETTINGS = ".claude/settings.json"
LOCAL_SETTINGS = ".claude/settings.local.json"
MCP = ".mcp.json"
POLICY = ".claude/foundation/policy.json"
MANIFEST = ".claude/foundation/manifest.json"
DEFAULT_MODES = ("default", "acceptEdits", "plan", "auto", "dontAsk", "bypassPermissions")
# The one way to change an answer, everywhere (the answers file says the same, and so does the README).
CHANGE_ANSWER = "python3 .claude/foundation/update.py --data 'NAME=VALUE'"
RESTORE = (
    "Restore it: `git checkout -- {file}` if the change is not committed yet; otherwise re-render the foundation's "
    "files from your answers with `python3 .claude/foundation/update.py` (or `copier recopy --trust`). Team changes "
    "belong in .claude/settings.local.json, your own .claude/rules/*.md, or your answers (`" + CHANGE_ANSWER + "`)."
)
MARKETPLACE = "agent-foundation"  # the registry's plugin marketplace, for teams that receive skills as plugins
# Exceptions (the `exceptions` answer, rendered into policy.json): kind -> the finding it excuses.
EXCEPTION_CODES = {"mcp-server": "mcp-server-unvetted", "foundation-file": "foundation-file-edited"}
EXCEPTION_ADVICE = (
    "If the platform team agrees to it for a while, record that in your answers instead of editing files: "
    "python3 .claude/foundation/update.py --data 'exceptions=[{{\"kind\": \"{kind}\", \"name\": \"{name}\", "
    "\"reason\": \"...\", \"approved_by\": \"...\", \"expires\": \"YYYY-MM-DD\"}}]'."
)
DROPPED = (
    "Claude Code silently ignores a settings file that fails to load: every deny rule and every hook in it "
    "(the guard and the audit log) would be switched off, with no error shown."
)


@dataclass(frozen=True)
class Finding:
    code: str  # stable identifier, e.g. "deny-rule-missing"
    severity: str  # "error" fails the check; "warning" is reported (and fails only with --strict)
    file: str  # path relative to the repository root
    message: str  # what is wrong
    fix: str  # what to do about it
    subject: str = ""  # what an exception names: the MCP server, the foundation file


# ---------------------------------------------------------------- loading


class _Unreadable(Exception):
    pass


def _load_json(repo: Path, relative: str) -> Any:
    """The parsed file, None when it does not exist; raises _Unreadable with the reason otherwise."""
    path = repo / relative
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise _Unreadable(f"cannot be read ({error})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        if any(line.startswith(("<<<<<<<", ">>>>>>>", "=======")) for line in text.splitlines()):
            raise _Unreadable(f"holds merge-conflict markers (line {error.lineno}), so it is not valid JSON") from None
        raise _Unreadable(f"is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None


def _sha256(path: Path) -> str:
    """As manifest.json records it: with LF line endings, so a CRLF checkout (core.autocrlf) is not an edit."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


# ---------------------------------------------------------------- settings


def _settings_shape_errors(settings: Any) -> list[str]:
    """What would make the client reject the file (it then drops the whole file without a word)."""
    if not isinstance(settings, dict):
        return ["the top level is not a JSON object"]
    errors = []
    permissions = settings.get("permissions", {})
    if not isinstance(permissions, dict):
        errors.append('"permissions" is not an object')
        permissions = {}
    for key in ("allow", "ask", "deny"):
        rules = permissions.get(key, [])
        if not isinstance(rules, list) or not all(isinstance(rule, str) for rule in rules):
            errors.append(f'"permissions.{key}" is not a list of rule strings')
    mode = permissions.get("defaultMode")
    if mode is not None and mode not in DEFAULT_MODES:
        errors.append(f'"permissions.defaultMode" is {mode!r}, not one of {", ".join(DEFAULT_MODES)}')
    disable = permissions.get("disableBypassPermissionsMode")
    if disable is not None and disable != "disable":
        errors.append(f'"permissions.disableBypassPermissionsMode" is {disable!r}; the only accepted value is "disable"')
    if not isinstance(settings.get("hooks", {}), dict):
        errors.append('"hooks" is not an object')
    return errors


def _rules(settings: dict, kind: str) -> list[str]:
    permissions = settings.get("permissions") if isinstance(settings.get("permissions"), dict) else {}
    rules = permissions.get(kind) or []
    return [rule for rule in rules if isinstance(rule, str)] if isinstance(rules, list) else []


def _hook_entries(settings: dict, event: str) -> list[tuple[Any, dict]]:
    """(matcher, hook) pairs configured for an event."""
    hooks = settings.get("hooks") if isinstance(settings.get("hooks"), dict) else {}
    out = []
    for entry in hooks.get(event) or []:
        if isinstance(entry, dict):
            for hook in entry.get("hooks") or []:
                if isinstance(hook, dict):
                    out.append((entry.get("matcher"), hook))
    return out


def _hook_name(command: str) -> str:
    if "guard.py" in command:
        return "the guard hook"
    if "audit.py" in command:
        return "the audit hook"
    return "a foundation hook"


def _check_hooks(settings: dict, floor_hooks: dict) -> list[Finding]:
    findings = []
    for event, entries in floor_hooks.items():
        for entry in entries:
            for wanted in entry.get("hooks", []):
                command = wanted.get("command", "")
                name = _hook_name(command)
                present = [(matcher, hook) for matcher, hook in _hook_entries(settings, event) if hook.get("command") == command]
                if not present:
                    findings.append(Finding(
                        "hook-missing", "error", SETTINGS,
                        f"{name} is missing from hooks.{event} (or its command was changed); without it "
                        + ("tool calls are no longer checked against the policy." if name == "the guard hook"
                           else f"{event} events are no longer written to the audit log."),
                        f'Put back in hooks.{event}: {json.dumps({**({"matcher": entry["matcher"]} if "matcher" in entry else {}), "hooks": [wanted]})}. '
                        + RESTORE.format(file=SETTINGS),
                    ))
                    continue
                wanted_matcher = entry.get("matcher")
                every = (None, "", "*")
                good = [
                    hook for matcher, hook in present
                    if (matcher == wanted_matcher or (wanted_matcher in every and matcher in every))
                    and (hook.get("timeout") or 60) >= (wanted.get("timeout") or 60)
                    and hook.get("onFailure", "continue") == wanted.get("onFailure", "continue")
                ]
                if not good:
                    matcher, hook = present[0]
                    findings.append(Finding(
                        "hook-changed", "error", SETTINGS,
                        f"{name} in hooks.{event} was changed: matcher {matcher!r} (expected {wanted_matcher!r}), "
                        f"timeout {hook.get('timeout')!r} (expected at least {wanted.get('timeout')!r}), onFailure "
                        f"{hook.get('onFailure')!r} (expected {wanted.get('onFailure')!r}). A narrower matcher skips tools; "
                        "a shorter timeout lets the client kill the hook, and without onFailure \"block\" a killed or "
                        "failed hook lets the call through.",
                        "Restore the foundation's matcher, timeout and onFailure. " + RESTORE.format(file=SETTINGS),
                    ))
    return findings


# The sandbox keys whose floor value is the strict one, with the client's default when the key is absent.
SANDBOX_SWITCHES = {"enabled": (True, False), "failIfUnavailable": (True, False),
                    "allowUnsandboxedCommands": (False, True), "autoAllowBashIfSandboxed": (False, False)}
# Lists that only loosen the sandbox when they grow (allow) or shrink (deny), and keys that loosen it when true.
SANDBOX_ALLOW_LISTS = ("excludedCommands", "filesystem.allowWrite", "filesystem.allowRead", "network.allowedDomains",
                       "network.allowUnixSockets", "network.allowMachLookup")
SANDBOX_DENY_LISTS = ("filesystem.denyRead", "filesystem.denyWrite", "network.deniedDomains")
SANDBOX_WEAKENERS = ("enableWeakerNestedSandbox", "allowNestedUserNamespaces", "enableWeakerNetworkIsolation",
                     "allowAppleEvents", "filesystem.disabled", "network.allowAllUnixSockets", "network.allowLocalBinding")


def _sandbox_value(sandbox: dict, dotted: str) -> Any:
    for key in dotted.split("."):
        sandbox = sandbox.get(key) if isinstance(sandbox, dict) else None
    return sandbox


def _sandbox_loosening(sandbox: Any, floor: dict, partial: bool) -> list[str]:
    """How `sandbox` is looser than the foundation's; `partial` for settings.local.json, which only overrides."""
    if not isinstance(sandbox, dict):
        return [] if partial else ["sandbox is missing"]
    found = []
    for key, (strict, default) in SANDBOX_SWITCHES.items():
        if floor.get(key) == strict and (key in sandbox or not partial) and sandbox.get(key, default) != strict:
            found.append(f"sandbox.{key} is {json.dumps(sandbox.get(key, default))} (the foundation's: {json.dumps(strict)})")
    for key in SANDBOX_ALLOW_LISTS:
        added = [v for v in _sandbox_value(sandbox, key) or [] if v not in (_sandbox_value(floor, key) or [])]
        if added:
            found.append(f"sandbox.{key} adds {', '.join(map(str, added))}")
    for key in SANDBOX_DENY_LISTS:
        if partial:
            continue  # the client merges lists across files: a local file cannot remove the project's denies
        removed = [v for v in _sandbox_value(floor, key) or [] if v not in (_sandbox_value(sandbox, key) or [])]
        if removed:
            found.append(f"sandbox.{key} lacks {', '.join(map(str, removed))}")
    found += [f"sandbox.{key} is true" for key in SANDBOX_WEAKENERS if _sandbox_value(sandbox, key) is True]
    return found


def _check_sandbox(sandbox: Any, floor: Any, file: str, partial: bool = False) -> list[Finding]:
    if not isinstance(floor, dict):
        return []  # rendered before the foundation had a sandbox
    loosened = _sandbox_loosening(sandbox, floor, partial)
    if not loosened:
        return []
    off = any(item.startswith(("sandbox is missing", "sandbox.enabled")) for item in loosened)
    return [Finding(
        "sandbox-disabled" if off else "sandbox-loosened", "error", file,
        ("The OS sandbox is switched off" if off else "The OS sandbox was loosened") + f": {'; '.join(loosened)}. "
        "Shell commands would then write outside the repository, read secrets or reach hosts nobody allowed.",
        ("Remove the sandbox settings from .claude/settings.local.json. " if partial else
         f"Restore the foundation's sandbox (it is floor.sandbox in {POLICY}). ")
        + "A team adds hosts through its extra_network_hosts answer: `python3 .claude/foundation/update.py --data "
        "'extra_network_hosts=[\"api.example.com\"]'` (the whole list; see docs/sandbox.md). "
        + ("" if partial else RESTORE.format(file=file)),
    )]


def _local_sandbox_findings(repo: Path, policy: dict) -> list[Finding]:
    try:
        local = _load_json(repo, LOCAL_SETTINGS)
    except _Unreadable:
        return []  # reported by _check_local_settings
    sandbox = local.get("sandbox") if isinstance(local, dict) else None
    return _check_sandbox(sandbox, (policy.get("floor") or {}).get("sandbox"), LOCAL_SETTINGS, partial=True)


def _broad_allow_message(rule: str) -> str:
    if rule in ("Bash", "Bash(*)", "Bash(:*)", "Bash(**)"):
        return (f"allow rule {rule!r} runs every shell command without asking (curl | sh, rm -rf, pushes), leaving "
                "only the deny rules and the guard between an agent and the machine.")
    if "(" not in rule:
        return f"allow rule {rule!r} approves every use of the {rule} tool without asking."
    return f"allow rule {rule!r} is not in the {{profile}} profile or in your answers (extra_allow)."


def _check_settings(repo: Path, settings: dict, policy: dict | None) -> list[Finding]:
    findings: list[Finding] = []
    permissions = settings.get("permissions") if isinstance(settings.get("permissions"), dict) else {}
    if settings.get("disableAllHooks") is True:
        findings.append(Finding("hooks-disabled", "error", SETTINGS,
                                '"disableAllHooks": true switches off the guard and the audit log.',
                                'Remove "disableAllHooks". ' + RESTORE.format(file=SETTINGS)))
    floor = (policy or {}).get("floor") or {}
    wanted_disable = floor.get("disableBypassPermissionsMode", "disable")
    if permissions.get("disableBypassPermissionsMode") != wanted_disable:
        findings.append(Finding(
            "bypass-mode-possible", "error", SETTINGS,
            '"permissions.disableBypassPermissionsMode" is not "disable", so an agent can be started with '
            "--dangerously-skip-permissions (bypass mode), where nothing asks before a command runs.",
            'Set "permissions": {"disableBypassPermissionsMode": "disable"}. ' + RESTORE.format(file=SETTINGS),
        ))
    if "disableAutoMode" in floor and settings.get("disableAutoMode") != floor["disableAutoMode"]:
        findings.append(Finding(
            "auto-mode-possible", "error", SETTINGS,
            '"disableAutoMode" is not "disable", so sessions can switch to auto mode, where the client approves '
            "calls on its own judgement.",
            'Set "disableAutoMode": "disable". ' + RESTORE.format(file=SETTINGS),
        ))
    if permissions.get("defaultMode") == "bypassPermissions":
        findings.append(Finding(
            "bypass-mode-default", "error", SETTINGS,
            '"permissions.defaultMode" is "bypassPermissions": every session would start with no permission prompts.',
            'Set "defaultMode" back to the profile\'s mode ("default"). ' + RESTORE.format(file=SETTINGS),
        ))
    if policy is None:
        return findings
    for kind in ("deny", "ask"):
        present = set(_rules(settings, kind))
        missing = [rule for rule in floor.get(kind, []) if rule not in present]
        if missing:
            findings.append(Finding(
                f"{kind}-rule-missing", "error", SETTINGS,
                f"{len(missing)} foundation {kind} rule(s) missing from permissions.{kind}: {', '.join(missing)}",
                f"Put the rule(s) back in permissions.{kind}. " + RESTORE.format(file=SETTINGS),
            ))
    allowed = set(floor.get("allow", []))
    for rule in _rules(settings, "allow"):
        if rule not in allowed:
            findings.append(Finding(
                "allow-rule-too-broad", "error", SETTINGS,
                _broad_allow_message(rule).format(profile=policy.get("profile", "team's")),
                "Remove it. To allow a specific command for the whole team, add it to your extra_allow answer: "
                "`python3 .claude/foundation/update.py --data 'extra_allow=[\"Bash(make test:*)\"]'` (the whole "
                "list; the render refuses rules that would allow what the organisation denies); for yourself only, "
                "use .claude/settings.local.json.",
            ))
    findings += _check_hooks(settings, floor.get("hooks") or {})
    findings += _check_sandbox(settings.get("sandbox"), floor.get("sandbox"), SETTINGS)
    vetted = ((policy.get("mcp") or {}).get("servers")) or {}
    for name in settings.get("enabledMcpjsonServers") or []:
        if name not in vetted:
            findings.append(Finding(
                "mcp-server-unvetted", "error", SETTINGS,
                f"enabledMcpjsonServers approves {name!r}, which is not in the vetted MCP server registry.",
                f"Remove {name!r} from enabledMcpjsonServers; ask the platform team to vet the server if you need it. "
                + EXCEPTION_ADVICE.format(kind="mcp-server", name=name),
                subject=str(name),
            ))
    if settings.get("enableAllProjectMcpServers") is True:
        findings.append(Finding(
            "mcp-all-approved", "error", SETTINGS,
            '"enableAllProjectMcpServers": true approves any server anyone adds to .mcp.json, vetted or not.',
            'Set it to false; the vetted servers you chose are approved one by one in "enabledMcpjsonServers".',
        ))
    return findings


def _check_local_settings(repo: Path) -> list[Finding]:
    """settings.local.json is personal and git-ignored: reported so its owner sees it, never shipped."""
    try:
        local = _load_json(repo, LOCAL_SETTINGS)
    except _Unreadable as error:
        return [Finding("local-settings-invalid", "warning", LOCAL_SETTINGS, f"{LOCAL_SETTINGS} {error}; the client ignores it.",
                        "Fix the JSON or delete the file.")]
    if not isinstance(local, dict):
        return []
    findings = []
    if local.get("disableAllHooks") is True:
        findings.append(Finding("hooks-disabled", "error", LOCAL_SETTINGS,
                                '"disableAllHooks": true in your local settings switches off the guard and the audit log.',
                                'Remove "disableAllHooks" from .claude/settings.local.json.'))
    permissions = local.get("permissions") if isinstance(local.get("permissions"), dict) else {}
    if permissions.get("defaultMode") == "bypassPermissions":
        findings.append(Finding("bypass-mode-default", "warning", LOCAL_SETTINGS,
                                'Your local "defaultMode" is "bypassPermissions" (the project setting blocks it while it is intact).',
                                'Remove "defaultMode" from .claude/settings.local.json.'))
    for rule in _rules(local, "allow"):
        if rule in ("Bash", "Bash(*)", "Bash(:*)", "Bash(**)"):
            findings.append(Finding("allow-rule-too-broad", "warning", LOCAL_SETTINGS,
                                    _broad_allow_message(rule), "Allow the specific commands you need instead."))
    plugins = local.get("enabledPlugins") if isinstance(local.get("enabledPlugins"), dict) else {}
    for plugin, enabled in plugins.items():
        if enabled is False and str(plugin).endswith("@" + MARKETPLACE):
            findings.append(Finding("skill-plugin-disabled", "warning", LOCAL_SETTINGS,
                                    f"Your local settings switch off the registry skill {plugin} your team receives as a plugin.",
                                    f'Remove "{plugin}" from enabledPlugins in .claude/settings.local.json.', subject=str(plugin)))
    return findings


def _check_skill_delivery(repo: Path, manifest: dict) -> list[Finding]:
    """Skills received as plugins live in the org's marketplace, not here: a team copy under the same name is
    the team's own file (kept by update.py when the team moved from copies), reported so nobody mistakes it."""
    if manifest.get("skills_delivery") != "plugin":
        return []
    findings = []
    for entry in manifest.get("skills") or []:
        name = entry.get("name") if isinstance(entry, dict) else None
        if name and (repo / ".claude/skills" / name / "SKILL.md").is_file():
            findings.append(Finding(
                "skill-copy-beside-plugin", "warning", f".claude/skills/{name}/SKILL.md",
                f"Registry skill {name!r} comes as the plugin {name}@{MARKETPLACE}, and a copy of it is also in "
                ".claude/skills/ (your edits, kept when you moved to plugins): the agent sees both.",
                f"Propose your edits to the platform team (agent-foundation promote), then delete .claude/skills/{name}/; "
                "or rename the folder and its name: to make it your own skill.", subject=name))
    return findings


# ---------------------------------------------------------------- MCP servers


def _vetted_config(name: str, policy: dict, manifest: dict | None) -> dict | None:
    """The rendered .mcp.json entry of a vetted server chosen by the team, or None when unknown."""
    server = (((policy.get("mcp") or {}).get("servers")) or {}).get(name) or {}
    if isinstance(server.get("config"), dict):
        return server["config"] if server.get("enabled", True) else None
    for entry in (manifest or {}).get("mcp_servers") or []:
        if entry.get("name") == name:
            return {"package": entry.get("package"), "version": str(entry.get("version", ""))}
    return None


def _config_matches(config: dict, vetted: dict) -> bool:
    if "package" not in vetted:  # the exact rendered entry
        return config == vetted
    package, version = vetted["package"], vetted["version"]
    if str(package).startswith(("http://", "https://")):
        return config.get("url") == package
    args = [str(arg) for arg in config.get("args") or []]
    pins = {"npx": f"{package}@{version}", "uvx": f"{package}=={version}"}
    pin = pins.get(str(config.get("command")))
    return pin is not None and pin in args and not any(package in arg and arg != pin for arg in args)


def _check_mcp(repo: Path, policy: dict, manifest: dict | None, relative: str = MCP, key: str = "mcpServers") -> list[Finding]:
    """One MCP file: Claude Code's .mcp.json, or another agent's (`relative`, its servers under `key`)."""
    try:
        data = _load_json(repo, relative)
    except _Unreadable as error:
        return [Finding("mcp-invalid", "error", relative, f"{relative} {error}.", RESTORE.format(file=relative))]
    if data is None:
        return []
    servers = data.get(key) if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        return [Finding("mcp-invalid", "error", relative, f'{relative} has no "{key}" object.', RESTORE.format(file=relative))]
    vetted = ((policy.get("mcp") or {}).get("servers")) or {}
    findings = []
    for name, config in servers.items():
        if name not in vetted:
            findings.append(Finding(
                "mcp-server-unvetted", "error", relative,
                f"MCP server {name!r} is not in the vetted registry: nobody has checked what its tools can read or send.",
                f"Remove {name!r} from {relative}, or ask the platform team to vet it (then choose it with "
                "`python3 .claude/foundation/update.py --interactive`). For a personal experiment use `claude mcp add --scope local`. "
                + EXCEPTION_ADVICE.format(kind="mcp-server", name=name),
                subject=str(name),
            ))
            continue
        expected = _vetted_config(name, policy, manifest)
        if expected is None and manifest is None:
            continue  # reported as manifest-missing; nothing to compare with
        if expected is None:
            findings.append(Finding(
                "mcp-server-not-chosen", "error", relative,
                f"MCP server {name!r} is vetted but was added by hand, not chosen in your answers, so its pinned "
                "version and its tool rules were never rendered.",
                f"Remove it from {relative} and choose {name!r} in your mcp_servers answer: "
                "`python3 .claude/foundation/update.py --interactive` (or --data 'mcp_servers=[...]', the whole list).",
            ))
        elif not isinstance(config, dict) or not _config_matches(_without_stdio_type(config), expected):
            findings.append(Finding(
                "mcp-server-changed", "error", relative,
                f"MCP server {name!r} differs from its vetted command and arguments (another package, version or runner).",
                RESTORE.format(file=relative),
            ))
    return findings


def _without_stdio_type(config: dict) -> dict:
    """VS Code's entries name the transport ("type": "stdio"), which .mcp.json leaves implicit."""
    return {k: v for k, v in config.items() if not (k == "type" and v == "stdio")}


def _agents_mcp_files(policy: dict) -> list[tuple[str, str]]:
    """The other agents' MCP files the foundation renders (their floors in policy.json): (path, servers key)."""
    files = []
    for floor in ((policy.get("agents") or {}).values()):
        mcp_file = floor.get("mcp_file") if isinstance(floor, dict) else None
        if isinstance(mcp_file, dict) and mcp_file.get("path") and mcp_file.get("key"):
            files.append((str(mcp_file["path"]), str(mcp_file["key"])))
    return files


# ---------------------------------------------------------------- foundation files


def _check_files(repo: Path, manifest: dict, explained: set[str]) -> list[Finding]:
    findings = []
    files = manifest.get("files") or {}
    for relative, digest in sorted(files.items()):
        path = repo / relative
        if relative in explained:
            continue
        if not path.is_file():
            findings.append(Finding(
                "foundation-file-missing", "error", relative,
                f"{relative} belongs to the foundation and is missing.",
                RESTORE.format(file=relative),
            ))
        elif _sha256(path) != digest:
            findings.append(Finding(
                "foundation-file-edited", "error", relative,
                f"{relative} belongs to the foundation and was edited (its SHA-256 differs from manifest.json); "
                "the edit would be lost or conflict on the next update, and it may weaken the guardrails.",
                RESTORE.format(file=relative),
                subject=relative,
            ))
    return findings


# ---------------------------------------------------------------- the check


def posture_findings(repo: Path | str) -> list[Finding]:
    """Every finding for the repository at `repo`, errors and warnings; empty when the posture is intact."""
    repo = Path(repo)
    findings: list[Finding] = []
    documents: dict[str, Any] = {}
    for relative, code in ((POLICY, "policy"), (MANIFEST, "manifest")):
        try:
            documents[relative] = _load_json(repo, relative)
        except _Unreadable as error:
            documents[relative] = None
            findings.append(Finding(f"{code}-invalid", "error", relative, f"{relative} {error}.", RESTORE.format(file=relative)))
            continue
        if documents[relative] is None:
            findings.append(Finding(
                f"{code}-missing", "error", relative,
                f"{relative} is missing: this repository has no agent-foundation {code} to check against "
                + ("(the guard blocks every call without it)." if code == "policy" else "(foundation files cannot be checked)."),
                "Render the foundation: `copier copy --trust <template> .` or, if it was deleted, "
                + RESTORE.format(file=relative),
            ))
        elif not isinstance(documents[relative], dict):
            documents[relative] = None
            findings.append(Finding(f"{code}-invalid", "error", relative, f"{relative} is not a JSON object.", RESTORE.format(file=relative)))
    policy, manifest = documents[POLICY], documents[MANIFEST]

    try:
        settings = _load_json(repo, SETTINGS)
        shape = [] if settings is None else _settings_shape_errors(settings)
    except _Unreadable as error:
        settings, shape = None, [str(error)]
        findings.append(Finding("settings-invalid", "error", SETTINGS, f"{SETTINGS} {error}. {DROPPED}",
                                "Fix the JSON (resolve the merge conflict, if any). " + RESTORE.format(file=SETTINGS)))
    else:
        if settings is None:
            findings.append(Finding("settings-missing", "error", SETTINGS,
                                    f"{SETTINGS} is missing: no deny rules, no guard, no audit log.", RESTORE.format(file=SETTINGS)))
        elif shape:
            findings.append(Finding("settings-invalid", "error", SETTINGS,
                                    f"{SETTINGS} fails the client's validation: {'; '.join(shape)}. {DROPPED}",
                                    RESTORE.format(file=SETTINGS)))
        else:
            findings += _check_settings(repo, settings, policy)
    findings += _check_local_settings(repo)
    if policy is not None:
        findings += _local_sandbox_findings(repo, policy)
        findings += _check_mcp(repo, policy, manifest)
        for relative, key in _agents_mcp_files(policy):
            findings += _check_mcp(repo, policy, manifest, relative, key)
        findings += _agents_posture().findings(Finding, repo, policy)
    if manifest is not None:
        # A file with a more precise finding is not reported a second time as "edited".
        findings += _check_files(repo, manifest, {finding.file for finding in findings})
        findings += _check_skill_delivery(repo, manifest)
    return apply_exceptions(findings, (policy or {}).get("exceptions") or [], datetime.date.today())


def apply_exceptions(findings: list[Finding], exceptions: list, today: datetime.date) -> list[Finding]:
    """A live exception turns the finding it names into a warning; an expired one leaves it an error and names
    the expiry; one that excuses nothing is a warning of its own (remove it)."""
    out, used = [], set()
    for finding in findings:
        match = next((index for index, entry in enumerate(exceptions) if isinstance(entry, dict)
                      and EXCEPTION_CODES.get(entry.get("kind")) == finding.code and entry.get("name") == finding.subject), None)
        if match is None:
            out.append(finding)
            continue
        used.add(match)
        entry = exceptions[match]
        try:
            expires = datetime.date.fromisoformat(str(entry.get("expires")))
        except ValueError:
            expires = datetime.date.min  # cannot tell when it ends: treated as ended
        who = f"approved by {entry.get('approved_by')}: {entry.get('reason')}"
        if expires >= today:
            out.append(dataclasses.replace(
                finding, severity="warning",
                message=f"{finding.message} Excepted until {entry.get('expires')} ({who}).",
                fix=f"Before {entry.get('expires')}: {finding.fix} Then remove the exception from your answers.",
            ))
        else:
            out.append(dataclasses.replace(
                finding,
                message=f"{finding.message} Its exception expired on {entry.get('expires')} ({who}).",
                fix=f"{finding.fix} Or ask the platform team to renew the exception (a later expires in your "
                    "exceptions answer).",
            ))
    for index, entry in enumerate(exceptions):
        if index not in used and isinstance(entry, dict):
            out.append(Finding(
                "exception-unused", "warning", POLICY,
                f"The exception for {entry.get('kind')} {entry.get('name')!r} (expires {entry.get('expires')}) excuses nothing.",
                "Remove it from the exceptions answer: python3 .claude/foundation/update.py --interactive.",
                subject=str(entry.get("name")),
            ))
    return out


def _agents_posture():
    """agents_posture.py beside this file (the fleet loads check.py by path, so import it by path too)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import agents_posture

    return agents_posture


def failed(findings: list[Finding], strict: bool = False) -> bool:
    return any(f.severity == "error" or strict for f in findings)


# ---------------------------------------------------------------- command line


def _default_repo() -> Path:
    return Path(__file__).resolve().parent.parent.parent  # <repo>/.claude/foundation/check.py


def _annotation(finding: Finding) -> str:
    level = "error" if finding.severity == "error" else "warning"
    text = f"{finding.message} Fix: {finding.fix}".replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{level} file={finding.file},title=agent-foundation {finding.code}::{text}"


def sarif_log(repo: Path, findings: list[Finding]) -> dict:
    """The findings as a SARIF 2.1.0 log (sarif.py beside this file), versioned with the foundation release."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import sarif

    try:
        version = str(json.loads((repo / MANIFEST).read_text(encoding="utf-8")).get("template_version") or "")
    except (OSError, ValueError, AttributeError):
        version = ""
    return sarif.log([sarif.run(findings, version=version, automation_id="agent-foundation/posture/")])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="check.py", description="Check this repository's agent guardrails.")
    parser.add_argument("--repo", type=Path, default=None, help="repository to check (default: the one holding this file)")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text")
    parser.add_argument("--output", type=Path, default=None, help="with --format sarif: write the log to this file instead of stdout")
    parser.add_argument("--strict", action="store_true", help="fail on warnings too")
    args = parser.parse_args(argv)
    repo = (args.repo or _default_repo()).resolve()
    findings = posture_findings(repo)
    bad = failed(findings, args.strict)
    if args.format == "sarif":
        text = json.dumps(sarif_log(repo, findings), indent=2) + "\n"
        if args.output:
            args.output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 1 if bad else 0
    if args.json or args.format == "json":
        print(json.dumps({"repo": str(repo), "ok": not bad, "findings": [asdict(f) for f in findings]}, indent=2))
        return 1 if bad else 0
    if args.format == "github":
        for finding in findings:
            print(_annotation(finding))
    if not findings:
        print(f"agent-foundation posture check: OK ({repo})")
        return 0
    errors = sum(f.severity == "error" for f in findings)
    print(f"agent-foundation posture check: {errors} error(s), {len(findings) - errors} warning(s) in {repo}\n")
    for finding in findings:
        print(f"{finding.severity.upper():7} {finding.code}  {finding.file}")
        print(f"        {finding.message}")
        print(f"        fix: {finding.fix}\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.dont_write_bytecode = True  # never leave __pycache__ in the foundation folder
    sys.exit(main())
