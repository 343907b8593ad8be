"""Read one team repository and describe it: version, profile, skills, MCP servers, flags, posture findings.

Read-only: nothing here writes to, runs code from, or changes the current folder of a team repository.
A repository that cannot be read is a row with `error` set, never an exception.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any, Callable

import yaml

from .. import render, versions
from ..foundation import Foundation
from . import git_facts
from .audit import log_path_in
from .posture import as_dict
from .repo_files import RepoFiles, clean

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
DEFAULT_AGENTS = ["claude-code"]

# The flags, in the order they are shown; the first five are high blast radius: each switches off a layer
# that stands between an agent and everything the organisation forbids (see report.HIGH_BLAST).
FLAGS = {
    "settings-unparsable": "settings.json missing or not valid JSON: the client silently drops it, with every deny rule and hook",
    "deny-rules-removed": "foundation deny rules are missing from settings.json: the client no longer refuses what the org forbids",
    "hooks-removed": "the guard or audit hooks are gone from settings.json, or their scripts are missing",
    "sandbox-off": "the foundation renders the OS sandbox and settings.json switches it off or drops it",
    "bypass-possible": "bypassPermissions mode is not disabled, or is the default mode",
    "hooks-edited": "the guard or audit hooks differ from what the foundation rendered",
    "broad-allow": "allow rules such as Bash(*) that approve what the foundation denies",
    "mcp-write-unapproved": "MCP tools that change state are allowed without approval",
    "agent-guard-removed": "another agent's (Codex, Copilot, Cursor) hook no longer reaches the guard, or no longer fails closed",
    "agent-permission-loosened": "another agent's permissions, approval policy or sandbox are looser than the profile",
}
# Posture findings about the other agents that are also high-blast-radius flags.
AGENT_FLAGS = {"codex-hook-missing": "agent-guard-removed", "copilot-hook-missing": "agent-guard-removed",
               "cursor-hook-missing": "agent-guard-removed", "cursor-hook-fails-open": "agent-guard-removed",
               "cursor-permission-loosened": "agent-permission-loosened", "cursor-deny-rule-missing": "agent-permission-loosened",
               "codex-approval-policy-loosened": "agent-permission-loosened", "codex-sandbox-mode-loosened": "agent-permission-loosened"}


# What "who can do what" asks of each repository: a command an agent might run, and the policy rule (by id) the
# guard applies to it. The answer is the effective decision: the settings' rules, then the guard when its hook
# is in place; the strictest wins.
CAPABILITY_PROBES = {
    "push": ("git push origin HEAD", None),
    "publish": ("npm publish", "publish-package"),
    "infrastructure": ("terraform apply", "infrastructure-change"),
}
DECISION_ORDER = {"deny": 0, "ask": 1, "allow": 2}


@dataclasses.dataclass
class Context:
    """What every scan compares against: today's registry and rules, computed once per run."""

    foundation: Foundation
    posture: Callable[[Path], list[Any]]
    registry_skills: dict[str, tuple[str, str]]  # name -> (version, sha256 of SKILL.md)
    servers: dict[str, dict[str, Any]]  # name -> {risk, read, write, config}
    expected_hooks: dict[str, Any]
    deny_rules: tuple[str, ...] = ()  # the foundation's deny rules today
    sandbox_rendered: bool = False  # whether today's release renders the OS sandbox on
    guard_decisions: dict[str, str] = dataclasses.field(default_factory=dict)  # policy rule id -> deny/ask
    git_history: bool = True  # read dates from local repositories' git history (first commit, render, releases taken)
    profile_allow: dict[tuple[str, tuple[str, ...]], frozenset[str]] = dataclasses.field(default_factory=dict)
    broad_cache: dict[str, str | None] = dataclasses.field(default_factory=dict)
    covers_cache: dict[tuple[str, str], bool] = dataclasses.field(default_factory=dict)

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
        guard = {str(c.get("id")): str(c.get("decision")) for c in foundation.policy.get("commands") or [] if isinstance(c, dict)}
        return cls(foundation, posture, skills, servers, render.hooks_config(), tuple(render.foundation_deny_rules(foundation)),
                   _renders_sandbox(foundation), guard)

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

    def covers(self, rule: str, command: str) -> bool:
        key = (rule, command)
        if key not in self.covers_cache:
            try:
                self.covers_cache[key] = render.rule_covers(rule, "Bash", command)
            except re.error:
                self.covers_cache[key] = False
        return self.covers_cache[key]


def _renders_sandbox(foundation: Foundation) -> bool:
    """Whether today's release renders settings.json with the OS sandbox on (read from a sample render)."""
    try:
        profile = next(iter(foundation.profiles))
        sample = render.settings(foundation, {"permission_profile": profile, "team_slug": "sample", "stacks": []}, "sample")
    except Exception:  # noqa: BLE001 - a foundation this code does not know: judge no repository by it
        return False
    sandbox = sample.get("sandbox")
    return isinstance(sandbox, dict) and sandbox.get("enabled") is True


def _read_json(files: RepoFiles, relative: str) -> tuple[Any, str | None]:
    try:
        raw = files.read(relative)
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
    except RecursionError:
        return None, "is nested too deeply to be configuration"
    except ValueError as error:
        conflict = " (it holds a merge conflict marker)" if b"\n<<<<<<<" in b"\n" + raw or b"\n>>>>>>>" in raw else ""
        return None, f"is not valid JSON{conflict}: {getattr(error, 'msg', error)} at line {getattr(error, 'lineno', '?')}"


def _flag(flags: list[dict[str, str]], code: str, file: str, message: str) -> None:
    flags.append({"code": code, "file": file, "message": message})


def repo_name(label: str, path: Path | None, url: str | None = None) -> str:
    """The repository's own name (its folder or the URL's last part), which tells a team's repositories apart."""
    if url:
        return url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git") or url
    if path is not None:
        return path.name or str(path)
    return label.rstrip("/").rsplit("/", 1)[-1] or label


def empty_row(label: str, path: Path | None, url: str | None = None, error: str | None = None) -> dict[str, Any]:
    return {
        "source": label,
        "repo": repo_name(label, path, url),
        "url": url,
        "path": str(path) if path else None,
        "team": None,
        "team_name": None,
        "owner": None,
        "error": error,
        "version": None,
        "profile": None,
        "stacks": [],
        "agents": list(DEFAULT_AGENTS),
        "skills": {"registry": [], "local": []},
        "mcp_servers": [],
        "flags": [],
        "findings": [],
        "exceptions": [],
        "posture_error": None,
        "capabilities": None,
        "skipped_files": [],
        "dates": None,
    }


def scan_repo(ctx: Context, label: str, path: Path, url: str | None = None) -> dict[str, Any]:
    """One repository's row, with every string valid Unicode. Never raises: an unexpected failure becomes the
    row's error."""
    row = empty_row(label, path, url)
    try:
        _scan(ctx, path, row)
    except Exception as error:  # noqa: BLE001 - one bad repo must never stop the report
        row["error"] = f"could not be scanned: {type(error).__name__}: {error}"
    return clean(row)


def _load_answers(files: RepoFiles) -> tuple[dict[str, Any], str | None]:
    """The answers file parsed, or ({}, why it is corrupt)."""
    try:
        raw = files.read(ANSWERS)
        if raw is None:
            return {}, "is missing"
        loaded = yaml.load(raw.decode("utf-8"), Loader=_Loader)
    except OSError as error:
        return {}, f"cannot be read ({error})"
    except UnicodeDecodeError:
        return {}, "is not UTF-8 text"
    except (ValueError, yaml.YAMLError, RecursionError) as error:
        return {}, f"is not valid YAML ({str(error).splitlines()[0] if str(error) else type(error).__name__})"
    if not isinstance(loaded, dict):
        return {}, "is not a mapping of answers"
    if not loaded.get("_src_path") or not loaded.get("_commit"):
        missing = " and ".join(k for k in ("_src_path", "_commit") if not loaded.get(k))
        return loaded, f"has no {missing}: Copier cannot tell which template or release to update from"
    return loaded, None


def _scan(ctx: Context, repo_path: Path, row: dict[str, Any]) -> None:
    repo = str(repo_path) + os.sep  # plain strings: pathlib costs more than the reads on a large fleet
    if not os.path.isdir(repo):
        row["error"] = "the folder does not exist"
        return
    files = RepoFiles(repo)
    has_answers, has_manifest = files.info(ANSWERS) is not None, files.info(MANIFEST) is not None
    if not has_answers and not has_manifest:
        row["skipped_files"] = files.skipped_list()
        row["error"] = (f"not a foundation repository: neither {ANSWERS} nor {MANIFEST} is there "
                        "(render the foundation into it with copier copy, or leave it out of the fleet)")
        return
    problems: list[str] = []
    manifest, why = _read_json(files, MANIFEST)
    if why or not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        problems.append(f"{MANIFEST} {why or 'is not a foundation manifest'}")
        manifest = {}
    team = manifest.get("team") if isinstance(manifest.get("team"), dict) else {}
    answers, corrupt = _load_answers(files)
    if corrupt == "is missing":
        problems.append(f"{ANSWERS} is missing")
    elif corrupt:
        row["findings"].append({
            "code": "answers-corrupt", "severity": "error", "file": ANSWERS, "message": f"{ANSWERS} {corrupt}",
            "fix": "restore it from git history (`git log -- .copier-answers.yml`), or re-create it with "
                   "`copier recopy --trust`; until then no update, by hand, by update.py or by rollout, can run"})
    recorded = manifest.get("answers") if isinstance(manifest.get("answers"), dict) else {}
    row["team"] = str(team.get("slug") or answers.get("team_slug") or repo_path.name)
    row["team_name"] = team.get("name") or answers.get("team_name")
    row["owner"] = team.get("owner") or answers.get("owner")
    row["version"] = str(manifest.get("template_version") or answers.get("_commit") or "") or None
    row["profile"] = manifest.get("profile") or answers.get("permission_profile")
    stacks = manifest.get("stacks") or answers.get("stacks") or []
    row["stacks"] = [str(s) for s in stacks] if isinstance(stacks, list) else []
    agents = answers.get("agents") or recorded.get("agents") or manifest.get("agents")
    row["agents"] = [str(a) for a in agents] if isinstance(agents, list) and agents else list(DEFAULT_AGENTS)
    if problems:
        row["error"] = "; ".join(problems) + " (restore it with python3 .claude/foundation/update.py, or copier recopy)"

    settings = _scan_settings(ctx, files, row)
    _scan_skills(ctx, files, row, manifest)
    _scan_mcp(ctx, files, row, settings)
    _scan_exceptions(files, row)
    policy, _ = _read_json(files, POLICY)
    row["_audit_log"] = log_path_in(policy)  # read with the rest, so collecting audit logs reads no policy again
    _scan_hook_scripts(files, row, manifest)
    row["capabilities"] = capabilities(ctx, files, row, settings)
    if ctx.git_history:
        row["dates"] = git_facts.dates(repo_path)
    unsafe = unsafe_files(files, manifest)
    row["skipped_files"] = files.skipped_list()
    if unsafe:
        row["posture_error"] = (f"the posture check was not run: {', '.join(unsafe[:5])} "
                                "is a symbolic link (or inside a linked folder), not a regular file, or too large; "
                                "replace it with the rendered file")
        return
    try:
        row["findings"] += [as_dict(f) for f in ctx.posture(repo_path)]
        for finding in row["findings"]:
            if finding.get("code") in AGENT_FLAGS:
                _flag(row["flags"], AGENT_FLAGS[finding["code"]], str(finding.get("file")), str(finding.get("message")))
    except Exception as error:  # noqa: BLE001 - the check is run on a repo it may not expect
        row["posture_error"] = f"the posture check failed on this repository: {type(error).__name__}: {error}"


def unsafe_files(files: RepoFiles, manifest: dict[str, Any]) -> list[str]:
    """Foundation files that are links, behind a linked folder, not regular files, or too large (the posture
    check, which reads them itself, is not run on such a repository)."""
    listed = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    return [relative for relative in (ANSWERS, MANIFEST, POLICY, SETTINGS, LOCAL_SETTINGS, MCP, *listed)
            if isinstance(relative, str) and files.unsafe(relative)]


# ---------------------------------------------------------------- settings.json


def _scan_settings(ctx: Context, files: RepoFiles, row: dict[str, Any]) -> dict[str, Any] | None:
    flags = row["flags"]
    settings, why = _read_json(files, SETTINGS)
    if why or not isinstance(settings, dict):
        _flag(flags, "settings-unparsable", SETTINGS,
              f"{SETTINGS} {why or 'is not a JSON object'}; the client drops it silently, so no deny rule, "
              "ask rule or hook of the foundation applies")
        return None
    local, _ = _read_json(files, LOCAL_SETTINGS)
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

    _check_deny_rules(ctx, files, settings, row)
    _check_sandbox(ctx, settings, row)
    _check_hooks(ctx, files, settings, row)
    return settings


def _rules(data: Any, kind: str) -> list[str]:
    permissions = data.get("permissions") if isinstance(data, dict) and isinstance(data.get("permissions"), dict) else {}
    rules = permissions.get(kind)
    return [rule for rule in rules if isinstance(rule, str)] if isinstance(rules, list) else []


def _check_deny_rules(ctx: Context, files: RepoFiles, settings: dict[str, Any], row: dict[str, Any]) -> None:
    """The foundation's deny rules (today's, or those the team's own release rendered) gone from settings.json."""
    have = set(_rules(settings, "deny"))
    missing = [rule for rule in ctx.deny_rules if rule not in have]
    total = len(ctx.deny_rules)
    if not missing:
        return  # the common case: every deny rule of today's release is there
    policy, _ = _read_json(files, POLICY)
    floor = policy.get("floor") if isinstance(policy, dict) and isinstance(policy.get("floor"), dict) else {}
    own = [rule for rule in floor.get("deny") or [] if isinstance(rule, str)] if isinstance(floor.get("deny"), list) else []
    if own:
        own_missing = [rule for rule in own if rule not in have]
        if len(own_missing) < len(missing):
            missing, total = own_missing, len(own)  # judged by the release the team is on
    if missing:
        shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        _flag(row["flags"], "deny-rules-removed", SETTINGS,
              f"{len(missing)} of the foundation's {total} deny rules are missing from permissions.deny ({shown}): "
              "the client no longer refuses them on its own, so one gap in the guard hook lets them run")


def _check_sandbox(ctx: Context, settings: dict[str, Any], row: dict[str, Any]) -> None:
    sandbox = settings.get("sandbox")
    if not ctx.sandbox_rendered:
        return
    if not isinstance(sandbox, dict) or sandbox.get("enabled") is not True:
        state = "is switched off (sandbox.enabled is not true)" if isinstance(sandbox, dict) else "is gone from settings.json"
        _flag(row["flags"], "sandbox-off", SETTINGS,
              f"the OS sandbox {state}: commands the guard cannot parse run with the whole machine and network in reach")


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


def _scan_exceptions(files: RepoFiles, row: dict[str, Any]) -> None:
    """The team's exceptions (its `exceptions` answer, as rendered into policy.json); the report dates them."""
    policy, _ = _read_json(files, POLICY)
    entries = policy.get("exceptions") if isinstance(policy, dict) else None
    fields = ("kind", "name", "reason", "approved_by", "expires")
    row["exceptions"] = [{field: str(entry.get(field) or "") for field in fields}
                         for entry in entries or [] if isinstance(entry, dict)]


def _check_hooks(ctx: Context, files: RepoFiles, settings: dict[str, Any], row: dict[str, Any]) -> None:
    actual = settings.get("hooks") if isinstance(settings.get("hooks"), dict) else {}
    if settings.get("disableAllHooks") is True:
        _flag(row["flags"], "hooks-removed", SETTINGS, "disableAllHooks is true: neither the guard nor the audit hook runs")
        return
    if actual == ctx.expected_hooks:
        return  # the common case: exactly today's hooks
    expected_sets = [ctx.expected_hooks]
    policy, _ = _read_json(files, POLICY)
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


def _scan_hook_scripts(repo: RepoFiles, row: dict[str, Any], manifest: dict[str, Any]) -> None:
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    for script in (GUARD_SCRIPT, AUDIT_SCRIPT):
        try:
            content = repo.read(script)
        except OSError as error:
            _flag(row["flags"], "hooks-edited", script, f"{script} is not read: {error}")
            continue
        if content is None:
            _flag(row["flags"], "hooks-removed", script, f"{script} is missing: the hook fails, and the guard blocks every call")
        elif script in files and render.sha256(content) != files[script]:
            _flag(row["flags"], "hooks-edited", script, f"{script} differs from the rendered file (manifest hash)")


# ---------------------------------------------------------------- skills


def _skill_folders(repo: RepoFiles) -> list[str]:
    """The skill folders (real folders only: a linked one is recorded as skipped and never read)."""
    if not repo.dir_ok(SKILLS):
        return []
    present = []
    try:
        with os.scandir(repo.repo + SKILLS) as entries:
            for entry in entries:
                if entry.is_symlink():
                    repo.skip(f"{SKILLS}/{entry.name}", "link", target=repo._link_target(f"{SKILLS}/{entry.name}"))
                elif entry.is_dir(follow_symlinks=False):
                    present.append(entry.name)
    except OSError:
        return []
    return sorted(present)


def _scan_skills(ctx: Context, repo: RepoFiles, row: dict[str, Any], manifest: dict[str, Any]) -> None:
    rendered = {}
    for entry in manifest.get("skills") or []:
        if isinstance(entry, dict) and entry.get("name"):
            rendered[str(entry["name"])] = entry
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    present = _skill_folders(repo)
    names = set(present)
    for name in present:
        relative = f"{SKILLS}/{name}/SKILL.md"
        note = None
        try:
            content = repo.read(relative)
        except OSError as error:
            content, note = None, str(error)
        info = repo.info(relative)
        size = info.st_size if info is not None else 0
        if content is not None:
            content = content[:MAX_SKILL_BYTES]
        digest = render.sha256(content) if content is not None else None
        linked = (rendered.get(name) or {}).get("delivery") == "plugin"  # a team copy beside the plugin is the team's
        if not linked and (name in rendered or name in ctx.registry_skills):
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
                "status": status, "stale": stale, "modified": modified, "delivery": "copy",
            })
        else:
            row["skills"]["local"].append({
                "name": name,
                "sha256": digest,
                "size": size,  # the file's own size, also when it is too large to read
                "note": note,
                "_text": content.decode("utf-8", "replace") if content is not None else "",
            })
    for name in rendered:
        if rendered[name].get("delivery") == "plugin":
            # by link: the client fetches the registry's current version; nothing in the repository to compare
            registry_version = ctx.registry_skills.get(name, (None,))[0]
            row["skills"]["registry"].append({
                "name": name, "version": registry_version, "registry_version": registry_version,
                "status": "linked" if registry_version else "withdrawn", "stale": False, "modified": False,
                "delivery": "plugin",
            })
        elif name not in names:
            row["skills"]["registry"].append({
                "name": name, "version": str(rendered[name].get("version") or "") or None,
                "registry_version": ctx.registry_skills.get(name, (None,))[0],
                "status": "deleted", "stale": False, "modified": True, "delivery": "copy",
            })


def _other_files_edited(repo: RepoFiles, name: str, files: dict[str, str]) -> bool:
    prefix = f"{SKILLS}/{name}/"
    for path, expected in files.items():
        if path.startswith(prefix) and not path.endswith("/SKILL.md"):
            try:
                content = repo.read(path)
                if content is None or render.sha256(content) != expected:
                    return True
            except OSError:
                return True
    return False


# ---------------------------------------------------------------- .mcp.json


def _scan_mcp(ctx: Context, repo: RepoFiles, row: dict[str, Any], settings: dict[str, Any] | None) -> None:
    data, why = _read_json(repo, MCP)
    if why == "is missing":
        return
    if why or not isinstance(data, dict) or not isinstance(data.get("mcpServers", {}), dict):
        row["mcp_servers"].append({"name": "(.mcp.json)", "vetted": False, "risk": "unknown", "package": None,
                                   "version": None, "enabled": False,
                                   "note": f"{MCP} {why or 'has no mcpServers mapping'}; the client loads none of its servers"})
        return
    enabled_all = bool(settings and settings.get("enableAllProjectMcpServers") is True)
    listed = settings.get("enabledMcpjsonServers") if settings else None
    enabled = {n for n in listed if isinstance(n, str)} if isinstance(listed, list) else set()
    for name, config in sorted(data.get("mcpServers", {}).items(), key=lambda item: str(item[0])):
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


# ---------------------------------------------------------------- who can do what


def _decide(ctx: Context, layers: list[dict[str, Any]], command: str, bypass: bool) -> str:
    """The client's decision on a Bash command from the settings' rules: deny, then ask, then allow, else it asks
    (bypass mode approves whatever no rule denies)."""
    for kind in ("deny", "ask", "allow"):
        if any(ctx.covers(rule, command) for data in layers for rule in _rules(data, kind)):
            return kind
    return "allow" if bypass else "ask"


def capabilities(ctx: Context, files: RepoFiles, row: dict[str, Any], settings: dict[str, Any] | None) -> dict[str, Any]:
    """What an agent in this repository can do without a human saying yes: push, publish, change infrastructure
    (allow / ask / deny), which network hosts it reaches, which MCP write tools it has, whether the OS sandbox
    is on, and which agents are wired."""
    layers = [settings] if isinstance(settings, dict) else []
    local, _ = _read_json(files, LOCAL_SETTINGS)
    if layers and isinstance(local, dict):
        layers.append(local)
    bypass = any(isinstance(d.get("permissions"), dict) and d["permissions"].get("defaultMode") == "bypassPermissions" for d in layers)
    guard_on = bool(layers) and not any(f["code"] in ("hooks-removed", "settings-unparsable") for f in row["flags"])
    out: dict[str, Any] = {}
    for capability, (command, rule_id) in CAPABILITY_PROBES.items():
        decision = _decide(ctx, layers, command, bypass)
        guard = ctx.guard_decisions.get(rule_id or "", "allow") if guard_on else "allow"
        out[capability] = min(decision, guard, key=DECISION_ORDER.__getitem__)
    hosts = set()
    for data in layers:
        for rule in _rules(data, "allow"):
            match = re.fullmatch(r"WebFetch\(domain:(.+)\)", rule)
            if match:
                hosts.add(match.group(1))
            elif rule == "WebFetch":
                hosts.add("*")
    sandbox = settings.get("sandbox") if isinstance(settings, dict) and isinstance(settings.get("sandbox"), dict) else {}
    network = sandbox.get("network") if isinstance(sandbox.get("network"), dict) else {}
    for host in network.get("allowedDomains") or []:
        if isinstance(host, str):
            hosts.add(host)
    write_tools = []
    allowed = [rule for data in layers for rule in _rules(data, "allow") if rule.startswith("mcp__")]
    denied = [rule for data in layers for rule in _rules(data, "deny") if rule.startswith("mcp__")]
    for server in row["mcp_servers"]:
        if not server["enabled"]:
            continue
        known = ctx.servers.get(server["name"])
        tools = sorted(known["write"]) if known and server["vetted"] else ["*"]
        for tool in tools:
            name = f"mcp__{server['name']}__{tool}"
            if any(rule in (name, f"mcp__{server['name']}", f"mcp__{server['name']}__*") for rule in denied):
                continue
            free = any(rule in (name, f"mcp__{server['name']}", f"mcp__{server['name']}__*", "mcp__*") for rule in allowed) or bypass
            write_tools.append({"tool": name, "decision": "allow" if free else "ask"})
    out["network_hosts"] = sorted(hosts)
    out["mcp_write_tools"] = write_tools
    out["sandbox"] = bool(sandbox.get("enabled") is True)
    out["agents"] = list(row["agents"])
    return out
