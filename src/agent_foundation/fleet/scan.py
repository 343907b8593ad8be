"""Read one team repository and describe it: version, profile, skills, MCP servers, flags, posture findings.

Read-only: nothing here writes to, runs code from, or changes the current folder of a team repository.
A repository that cannot be read is a row with `error` set, never an exception.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
from pathlib import Path
from typing import Any, Callable

import yaml

from .. import render
from ..foundation import Foundation
from .. import versions
from .posture import as_dict

try:  # libyaml when present: the answers file is the only YAML the fleet reads, once per repository
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

ANSWERS = ".copier-answers.yml"
MANIFEST = ".claude/foundation/manifest.json"
POLICY = ".claude/foundation/policy.json"
SETTINGS = ".claude/settings.json"
LOCAL_SETTINGS = ".claude/settings.local.json"
MCP = ".mcp.json"
SKILLS = ".claude/skills"
GUARD_SCRIPT = ".claude/foundation/hooks/guard.py"
AUDIT_SCRIPT = ".claude/foundation/hooks/audit.py"
MAX_SKILL_BYTES = 256 * 1024
MAX_FILE_BYTES = 8 * 1024 * 1024

# The high-blast-radius flags, in the order they are shown.
FLAGS = {
    "settings-unparsable": "settings.json missing or not valid JSON: the client silently drops it, with every deny rule and hook",
    "bypass-possible": "bypassPermissions mode is not disabled, or is the default mode",
    "hooks-removed": "the guard or audit hooks are gone from settings.json, or their scripts are missing",
    "hooks-edited": "the guard or audit hooks differ from what the foundation rendered",
    "broad-allow": "allow rules such as Bash(*) that approve what the foundation denies",
    "mcp-write-unapproved": "MCP tools that change state are allowed without approval",
}


@dataclasses.dataclass
class Context:
    """What every scan compares against: today's registry and rules, computed once per run."""

    foundation: Foundation
    posture: Callable[[Path], list[Any]]
    registry_skills: dict[str, tuple[str, str]]  # name -> (version, sha256 of SKILL.md)
    servers: dict[str, dict[str, Any]]  # name -> {risk, read, write, config}
    expected_hooks: dict[str, Any]
    profile_allow: dict[tuple[str, tuple[str, ...]], frozenset[str]] = dataclasses.field(default_factory=dict)
    broad_cache: dict[str, str | None] = dataclasses.field(default_factory=dict)

    @classmethod
    def build(cls, foundation: Foundation, posture: Callable[[Path], list[Any]]) -> "Context":
        skills = {name: (skill.version, render.sha256(skill.files["SKILL.md"])) for name, skill in foundation.skills.items()}
        servers = {
            name: {
                "risk": server["risk"],
                "read": set(server["tools"].get("read") or []),
                "write": set(server["tools"].get("write") or []),
                "config": render.mcp_server_config(server),
                "package": server.get("package") or server.get("url"),
                "version": str(server.get("version", "")),
            }
            for name, server in foundation.mcp_servers.items()
        }
        return cls(foundation, posture, skills, servers, render.hooks_config())

    def allowed_by_profile(self, profile: str, stacks: list[str]) -> frozenset[str]:
        key = (profile, tuple(stacks))
        if key not in self.profile_allow:
            known = [s for s in stacks if s in self.foundation.stacks]
            rules = render.profile_allow_rules(self.foundation, profile, known) if profile in self.foundation.profiles else []
            self.profile_allow[key] = frozenset(rules)
        return self.profile_allow[key]

    def broad_reason(self, rule: str) -> str | None:
        """Why an allow rule is broad (approves what the foundation denies), or None; cached per rule."""
        if rule not in self.broad_cache:
            self.broad_cache[rule] = self._broad_reason(rule)
        return self.broad_cache[rule]

    def _broad_reason(self, rule: str) -> str | None:
        match = re.match(r"^Bash(?:\((.*)\))?$", rule.strip(), re.S)
        if match and (match.group(1) is None or match.group(1).strip() in ("", "*", "**", ":*", "* *")):
            return "approves every shell command"
        errors = render.extra_rule_errors(self.foundation, [rule], "allow")
        if errors:
            return errors[0].split(" would ", 1)[-1].split("; allow only", 1)[0].replace("allow ", "approves ", 1)
        return None


def _read_bytes(path: str) -> bytes | None:
    """The file's bytes; None when it is missing. A symbolic link, a FIFO or a device, or a file too large for
    configuration raises OSError: a team repository must not make the fleet read /dev/zero or hang on a pipe."""
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISREG(info.st_mode):
        if stat.S_ISDIR(info.st_mode):
            return None
        raise OSError(f"{path} is a symbolic link or not a regular file; the fleet does not follow it")
    if info.st_size > MAX_FILE_BYTES:
        raise OSError(f"{path} is {info.st_size} bytes, more than a configuration file should be")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1)


def unsafe_files(repo: str, manifest: dict[str, Any]) -> list[str]:
    """Foundation files that are symbolic links or not regular files (the posture check is not run on them)."""
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    out = []
    for relative in (ANSWERS, MANIFEST, POLICY, SETTINGS, LOCAL_SETTINGS, MCP, *files):
        try:
            info = os.lstat(repo + relative)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            out.append(relative)
    return out


def _read_json(path: str) -> tuple[Any, str | None]:
    try:
        raw = _read_bytes(path)
        if raw is None:
            return None, "is missing"
    except FileNotFoundError:
        return None, "is missing"
    except OSError as error:
        return None, f"cannot be read ({error.strerror or error})"
    try:
        return json.loads(raw.decode("utf-8")), None
    except UnicodeDecodeError:
        return None, "is not UTF-8 text"
    except ValueError as error:
        conflict = " (it holds a merge conflict marker)" if b"\n<<<<<<<" in b"\n" + raw or b"\n>>>>>>>" in raw else ""
        return None, f"is not valid JSON{conflict}: {getattr(error, 'msg', error)} at line {getattr(error, 'lineno', '?')}"


def _flag(flags: list[dict[str, str]], code: str, file: str, message: str) -> None:
    flags.append({"code": code, "file": file, "message": message})


def empty_row(label: str, path: Path | None, url: str | None = None, error: str | None = None) -> dict[str, Any]:
    return {
        "source": label,
        "url": url,
        "path": str(path) if path else None,
        "team": None,
        "team_name": None,
        "owner": None,
        "error": error,
        "version": None,
        "profile": None,
        "stacks": [],
        "skills": {"registry": [], "local": []},
        "mcp_servers": [],
        "flags": [],
        "findings": [],
        "posture_error": None,
    }


def scan_repo(ctx: Context, label: str, path: Path, url: str | None = None) -> dict[str, Any]:
    """One repository's row. Never raises: an unexpected failure becomes the row's error."""
    row = empty_row(label, path, url)
    try:
        _scan(ctx, path, row)
    except Exception as error:  # noqa: BLE001 - one bad repo must never stop the report
        row["error"] = f"could not be scanned: {type(error).__name__}: {error}"
    return row


def _scan(ctx: Context, repo_path: Path, row: dict[str, Any]) -> None:
    repo = str(repo_path) + os.sep  # plain strings: pathlib costs more than the reads on a large fleet
    if not os.path.isdir(repo):
        row["error"] = "the folder does not exist"
        return
    has_answers, has_manifest = os.path.isfile(repo + ANSWERS), os.path.isfile(repo + MANIFEST)
    if not has_answers and not has_manifest:
        row["error"] = (f"not a foundation repository: neither {ANSWERS} nor {MANIFEST} is there "
                        "(render the foundation into it with copier copy, or leave it out of the fleet)")
        return
    problems: list[str] = []
    manifest, why = _read_json(repo + MANIFEST)
    if why or not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        problems.append(f"{MANIFEST} {why or 'is not a foundation manifest'}")
        manifest = {}
    team = manifest.get("team") if isinstance(manifest.get("team"), dict) else {}
    answers: dict[str, Any] = {}
    # The manifest carries the version, team, profile and stacks; the answers (YAML, slow to parse) are read
    # only when the manifest cannot say (the posture check judges the answers file itself).
    if not has_answers:
        problems.append(f"{ANSWERS} is missing")
    elif not manifest or not team.get("slug") or not manifest.get("template_version"):
        try:
            with open(repo + ANSWERS, encoding="utf-8") as handle:
                loaded = yaml.load(handle.read(), Loader=_Loader)
            if not isinstance(loaded, dict):
                raise ValueError("it is not a mapping of answers")
            answers = loaded
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as error:
            problems.append(f"{ANSWERS} is corrupt ({str(error).splitlines()[0]})")
    row["team"] = str(team.get("slug") or answers.get("team_slug") or repo_path.name)
    row["team_name"] = team.get("name") or answers.get("team_name")
    row["owner"] = team.get("owner") or answers.get("owner")
    row["version"] = str(manifest.get("template_version") or answers.get("_commit") or "") or None
    row["profile"] = manifest.get("profile") or answers.get("permission_profile")
    stacks = manifest.get("stacks") or answers.get("stacks") or []
    row["stacks"] = [str(s) for s in stacks] if isinstance(stacks, list) else []
    if problems:
        row["error"] = "; ".join(problems) + " (restore it with python3 .claude/foundation/update.py, or copier recopy)"

    settings = _scan_settings(ctx, repo, row)
    _scan_skills(ctx, repo, row, manifest)
    _scan_mcp(ctx, repo, row, settings)
    _scan_hook_scripts(repo, row, manifest)
    unsafe = unsafe_files(repo, manifest)
    if unsafe:
        row["posture_error"] = (f"the posture check was not run: {', '.join(unsafe[:5])} "
                                "is a symbolic link, not a regular file, or too large; replace it with the rendered file")
        return
    try:
        row["findings"] = [as_dict(f) for f in ctx.posture(repo_path)]
    except Exception as error:  # noqa: BLE001 - the check is run on a repo it may not expect
        row["posture_error"] = f"the posture check failed on this repository: {type(error).__name__}: {error}"


# ---------------------------------------------------------------- settings.json


def _scan_settings(ctx: Context, repo: str, row: dict[str, Any]) -> dict[str, Any] | None:
    flags = row["flags"]
    settings, why = _read_json(repo + SETTINGS)
    if why or not isinstance(settings, dict):
        _flag(flags, "settings-unparsable", SETTINGS,
              f"{SETTINGS} {why or 'is not a JSON object'}; the client drops it silently, so no deny rule, "
              "ask rule or hook of the foundation applies")
        return None
    local, _ = _read_json(repo + LOCAL_SETTINGS)
    layers = [(SETTINGS, settings)]
    if isinstance(local, dict):
        layers.append((LOCAL_SETTINGS, local))

    # bypass
    for file, data in layers:
        permissions = data.get("permissions") if isinstance(data.get("permissions"), dict) else {}
        if permissions.get("defaultMode") == "bypassPermissions":
            _flag(flags, "bypass-possible", file, "defaultMode is bypassPermissions: every call runs without any approval")
    permissions = settings.get("permissions") if isinstance(settings.get("permissions"), dict) else {}
    if permissions.get("disableBypassPermissionsMode") != "disable":
        _flag(flags, "bypass-possible", SETTINGS, "permissions.disableBypassPermissionsMode is not \"disable\": "
              "anyone can start an agent with --dangerously-skip-permissions")

    # allow rules
    profile_rules = ctx.allowed_by_profile(str(row["profile"] or ""), row["stacks"])
    broad, mcp_write = [], []
    for file, data in layers:
        perms = data.get("permissions") if isinstance(data.get("permissions"), dict) else {}
        allow = perms.get("allow") if isinstance(perms.get("allow"), list) else []
        for rule in allow:
            if not isinstance(rule, str):
                continue
            if rule.startswith("mcp__"):
                why_write = _mcp_write_reason(ctx, rule)
                if why_write:
                    mcp_write.append((file, f"{rule} ({why_write})"))
                continue
            if rule in profile_rules:
                continue  # the profile's own rules; the guard hook covers what they over-match
            reason = ctx.broad_reason(rule)
            if reason:
                broad.append((file, f"{rule} {reason}"))
    for code, items in (("broad-allow", broad), ("mcp-write-unapproved", mcp_write)):
        for file in dict.fromkeys(f for f, _ in items):
            listed = "; ".join(text for f, text in items if f == file)
            _flag(flags, code, file, f"allow rules: {listed}")

    _check_hooks(ctx, repo, settings, row)
    return settings


def _mcp_write_reason(ctx: Context, rule: str) -> str | None:
    parts = rule.split("__", 2)
    server = parts[1] if len(parts) > 1 else ""
    tool = parts[2] if len(parts) > 2 else "*"
    known = ctx.servers.get(server)
    if server in ("", "*"):
        return "every tool of every MCP server"
    if known is None:
        return "server not in the vetted registry; its tools are unknown"
    if tool in ("*", "") and known["write"]:
        return f"every tool, including {', '.join(sorted(known['write'])[:3])}"
    if tool in known["write"]:
        return f"{known['risk']}-risk write tool"
    if tool not in known["read"] and tool not in ("*", ""):
        return "not a tool the registry lists as read-only"
    return None


def _hook_entries(hooks: Any, event: str) -> list[tuple[str, str]]:
    """(matcher, command) of every command hook under one event."""
    out = []
    for entry in (hooks.get(event) if isinstance(hooks, dict) else None) or []:
        if not isinstance(entry, dict):
            continue
        for hook in entry.get("hooks") or []:
            if isinstance(hook, dict):
                out.append((str(entry.get("matcher", "")), str(hook.get("command", ""))))
    return out


def _check_hooks(ctx: Context, repo: str, settings: dict[str, Any], row: dict[str, Any]) -> None:
    actual = settings.get("hooks") if isinstance(settings.get("hooks"), dict) else {}
    if settings.get("disableAllHooks") is True:
        _flag(row["flags"], "hooks-removed", SETTINGS, "disableAllHooks is true: neither the guard nor the audit hook runs")
        return
    if actual == ctx.expected_hooks:
        return  # the common case: exactly today's hooks
    expected_sets = [ctx.expected_hooks]
    policy, _ = _read_json(repo + POLICY)
    floor_hooks = ((policy or {}).get("floor") or {}).get("hooks") if isinstance(policy, dict) else None
    if isinstance(floor_hooks, dict) and floor_hooks != ctx.expected_hooks:
        expected_sets.append(floor_hooks)  # what the team's own release rendered
    best: tuple[list[str], list[str]] | None = None
    for expected in expected_sets:
        removed, edited = [], []
        for event in expected:
            have = _hook_entries(actual, event)
            for matcher, command in _hook_entries(expected, event):
                if (matcher, command) in have:
                    continue
                script = "guard.py" if "guard.py" in command else "audit.py" if "audit.py" in command else command
                same_script = [h for h in have if script in h[1]]
                (edited if same_script else removed).append(f"{event} {script.removesuffix('.py')} hook"
                                                            + (f" (now: matcher {same_script[0][0]!r}, command {same_script[0][1][:80]!r})" if same_script else ""))
        if best is None or len(removed) + len(edited) < len(best[0]) + len(best[1]):
            best = (removed, edited)
    removed, edited = best or ([], [])
    if removed:
        _flag(row["flags"], "hooks-removed", SETTINGS, "missing from settings.json: " + ", ".join(removed))
    if edited:
        _flag(row["flags"], "hooks-edited", SETTINGS, "changed in settings.json: " + "; ".join(edited))


def _scan_hook_scripts(repo: str, row: dict[str, Any], manifest: dict[str, Any]) -> None:
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    for script in (GUARD_SCRIPT, AUDIT_SCRIPT):
        content = _read_bytes(repo + script)
        if content is None:
            _flag(row["flags"], "hooks-removed", script, f"{script} is missing: the hook fails, and the guard blocks every call")
        elif script in files and render.sha256(content) != files[script]:
            _flag(row["flags"], "hooks-edited", script, f"{script} differs from the rendered file (manifest hash)")


# ---------------------------------------------------------------- skills


def _scan_skills(ctx: Context, repo: str, row: dict[str, Any], manifest: dict[str, Any]) -> None:
    rendered = {}
    for entry in manifest.get("skills") or []:
        if isinstance(entry, dict) and entry.get("name"):
            rendered[str(entry["name"])] = entry
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    try:
        present = sorted(entry.name for entry in os.scandir(repo + SKILLS) if entry.is_dir())
    except (FileNotFoundError, NotADirectoryError):
        present = []
    names = set(present)
    for name in present:
        try:
            content = _read_bytes(f"{repo}{SKILLS}/{name}/SKILL.md")
        except OSError:
            content = None
        if content is not None:
            content = content[:MAX_SKILL_BYTES]
        digest = render.sha256(content) if content is not None else None
        if name in rendered or name in ctx.registry_skills:
            registry_version, registry_sha = ctx.registry_skills.get(name, (None, None))
            entry = rendered.get(name) or {}
            version = str(entry.get("version") or "") or None
            if entry:
                modified = digest != entry.get("sha256") or _other_files_edited(repo, name, files)
            else:
                modified = digest != registry_sha
                version = registry_version if not modified else None
            stale = False
            if registry_version is not None:
                behind = versions.parse(version) is not None and versions.compare(version, registry_version) < 0
                stale = behind or (not modified and digest != registry_sha)
            status = "modified" if modified else "stale" if stale else "current"
            if registry_version is None:
                status = "withdrawn"  # rendered from the registry, no longer in it
            row["skills"]["registry"].append({
                "name": name, "version": version, "registry_version": registry_version,
                "status": status, "stale": stale, "modified": modified,
            })
        else:
            row["skills"]["local"].append({
                "name": name,
                "sha256": digest,
                "size": len(content) if content is not None else 0,
                "_text": content.decode("utf-8", "replace") if content is not None else "",
            })
    for name in rendered:
        if name not in names:
            row["skills"]["registry"].append({
                "name": name, "version": str(rendered[name].get("version") or "") or None,
                "registry_version": ctx.registry_skills.get(name, (None,))[0],
                "status": "deleted", "stale": False, "modified": True,
            })


def _other_files_edited(repo: str, name: str, files: dict[str, str]) -> bool:
    prefix = f"{SKILLS}/{name}/"
    for path, expected in files.items():
        if path.startswith(prefix) and not path.endswith("/SKILL.md"):
            try:
                content = _read_bytes(repo + path)
                if content is None or render.sha256(content) != expected:
                    return True
            except OSError:
                return True
    return False


# ---------------------------------------------------------------- .mcp.json


def _scan_mcp(ctx: Context, repo: str, row: dict[str, Any], settings: dict[str, Any] | None) -> None:
    data, why = _read_json(repo + MCP)
    if why == "is missing":
        return
    if why or not isinstance(data, dict) or not isinstance(data.get("mcpServers", {}), dict):
        row["mcp_servers"].append({"name": "(.mcp.json)", "vetted": False, "risk": "unknown", "package": None,
                                   "version": None, "enabled": False,
                                   "note": f"{MCP} {why or 'has no mcpServers mapping'}; the client loads none of its servers"})
        return
    enabled_all = bool(settings and settings.get("enableAllProjectMcpServers") is True)
    enabled = set(settings.get("enabledMcpjsonServers") or []) if settings else set()
    for name, config in sorted(data.get("mcpServers", {}).items()):
        known = ctx.servers.get(name)
        package, version = _package_of(config)
        item = {"name": name, "vetted": False, "risk": "unknown", "package": package, "version": version,
                "enabled": enabled_all or name in enabled, "note": None}
        if known is None:
            item["note"] = "not in the vetted registry"
        elif config != known["config"]:
            item["note"] = f"differs from the registry's {known['package']}@{known['version']} (edited command, version or arguments)"
        else:
            item.update(vetted=True, risk=known["risk"])
        row["mcp_servers"].append(item)


def _package_of(config: Any) -> tuple[str | None, str | None]:
    if not isinstance(config, dict):
        return None, None
    if config.get("url"):
        return str(config["url"]), None
    for arg in config.get("args") or []:
        arg = str(arg)
        if arg.startswith("-"):
            continue
        for sep in ("==", "@"):
            head, _, tail = arg.rpartition(sep)
            if head and tail and not head.endswith("/"):
                return head, tail
        return arg, None
    return (str(config.get("command")) if config.get("command") else None), None
