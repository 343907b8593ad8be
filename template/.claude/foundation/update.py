"""Take a new foundation release, safely.

    python3 .claude/foundation/update.py [--interactive] [copier update options...]

Runs `copier update --trust` (with your recorded answers unless --interactive; every other option is passed
on to Copier), and guarantees what Copier alone does not:
  - a dirty tree is refused before anything is touched;
  - hand edits of the foundation's JSON (.claude/settings.json, .mcp.json) are carried into your answers
    (extra_allow, extra_ask, extra_deny, extra_settings, extra_network_hosts, mcp_servers, extra_mcp_servers), so they survive
    as valid JSON and are never merged with conflict markers; removed foundation rules and hooks come back,
    each named in a warning;
  - after Copier: no conflict (Copier exits 0 on them), every JSON file parses, the posture check holds;
    on any failure the tree is put back exactly as it was and the reason is printed, with what to do.
On success it prints the CHANGELOG entries between your old and your new version; review and commit.
Standard library only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import history  # noqa: E402
import versions  # noqa: E402
from history import git  # noqa: E402

SETTINGS = ".claude/settings.json"
MCP = ".mcp.json"
POLICY = Path(".claude/foundation/policy.json")
CHANGELOG = Path(".claude/foundation/CHANGELOG.md")
CONFLICT_MARKER = re.compile(rb"^(<{7} |>{7} |={7}$)", re.M)
# Posture findings an update keeps and names instead of failing on: the team's own edit of a foundation text
# file (instructions, skills), and a server the team runs outside the registry (carried in extra_mcp_servers).
# Refusing the release for them would keep the team off every later security fix; the posture check and fleet
# report still flag them. An edit of the foundation's code (hooks, check, update) is never kept: it fails.
TOLERATED_FINDINGS = {"foundation-file-edited", "mcp-server-unvetted"}
TOLERATED_EDITS = (".md",)


def tolerated(finding: Any) -> bool:
    if finding.code == "foundation-file-edited":
        return str(finding.file).endswith(TOLERATED_EDITS)
    return finding.code in TOLERATED_FINDINGS


@dataclass
class Carry:
    """What update.py moves out of hand-edited foundation JSON into the team's answers."""

    data: dict[str, Any] = field(default_factory=dict)  # answers passed to copier with --data
    restored: list[str] = field(default_factory=list)  # files put back to the foundation's rendered content
    warnings: list[str] = field(default_factory=list)


class UpdateFailed(Exception):
    def __init__(self, what: str, todo: str):
        super().__init__(what)
        self.what, self.todo = what, todo


# ---------------------------------------------------------------- carrying hand edits into answers


def _added(current: list[Any], rendered: list[Any]) -> list[Any]:
    return [item for item in current if item not in rendered]


def carry_settings(current: dict[str, Any], rendered: dict[str, Any], answers: dict[str, Any],
                   team_keys: set[str], carry: Carry) -> None:
    cur_perm, ren_perm = current.get("permissions") or {}, rendered.get("permissions") or {}
    for kind in ("allow", "ask", "deny"):
        answer = f"extra_{kind}"
        ours = list(answers.get(answer) or [])
        added = _added(cur_perm.get(kind) or [], ren_perm.get(kind) or [])
        removed = _added(ren_perm.get(kind) or [], cur_perm.get(kind) or [])
        kept = [rule for rule in ours if rule not in removed] + [rule for rule in added if rule not in ours]
        for rule in removed:
            if rule not in ours:
                carry.warnings.append(f"restored the foundation's {kind} rule {rule} that was removed from {SETTINGS}")
        for rule in added:
            carry.warnings.append(f"carried your {kind} rule {rule} from {SETTINGS} into the answer {answer}")
        if kept != ours:
            carry.data[answer] = kept
    for key in sorted(set(ren_perm) - {"allow", "ask", "deny"}):
        if cur_perm.get(key) != ren_perm[key]:
            carry.warnings.append(f"restored permissions.{key} = {json.dumps(ren_perm[key])} in {SETTINGS}")

    carry_sandbox_hosts(current, rendered, answers, carry)

    extra = dict(answers.get("extra_settings") or {})
    extra_hooks = {event: list(entries) for event, entries in (extra.get("hooks") or {}).items()}
    ren_hooks, cur_hooks = rendered.get("hooks") or {}, current.get("hooks") or {}
    for event in sorted(set(ren_hooks) | set(cur_hooks)):
        for entry in _added(cur_hooks.get(event) or [], ren_hooks.get(event) or []):
            extra_hooks.setdefault(event, []).append(entry)
            carry.warnings.append(f"carried your {event} hook {json.dumps(entry)} into the answer extra_settings")
        for entry in _added(ren_hooks.get(event) or [], cur_hooks.get(event) or []):
            if entry in extra_hooks.get(event, []):
                extra_hooks[event].remove(entry)
            else:
                carry.warnings.append(f"restored the foundation's {event} hook that was removed from {SETTINGS}")
    new_extra = {key: value for key, value in extra.items() if key != "hooks"}
    if any(extra_hooks.values()):
        new_extra["hooks"] = {event: entries for event, entries in extra_hooks.items() if entries}
    for key in sorted(set(current) | set(rendered)):
        if key in ("permissions", "hooks") or current.get(key) == rendered.get(key):
            continue
        if key in team_keys and key in current:
            new_extra[key] = current[key]
            carry.warnings.append(f"carried your setting {key} from {SETTINGS} into the answer extra_settings")
        elif key in team_keys:
            new_extra.pop(key, None)
        else:
            carry.warnings.append(f"restored the foundation's setting {key} in {SETTINGS}")
    if new_extra != extra:
        carry.data["extra_settings"] = new_extra


def _sandbox_hosts(settings: dict[str, Any]) -> list[Any]:
    return (((settings.get("sandbox") or {}).get("network") or {}).get("allowedDomains")) or []


def carry_sandbox_hosts(current: dict[str, Any], rendered: dict[str, Any], answers: dict[str, Any], carry: Carry) -> None:
    """Hosts added to the sandbox by hand go to extra_network_hosts; the rest of the sandbox is re-rendered."""
    ours = list(answers.get("extra_network_hosts") or [])
    added = _added(_sandbox_hosts(current), _sandbox_hosts(rendered))
    removed = _added(_sandbox_hosts(rendered), _sandbox_hosts(current))
    kept = [host for host in ours if host not in removed] + [host for host in added if host not in ours]
    for host in added:
        carry.warnings.append(f"carried your sandbox host {host} from {SETTINGS} into the answer extra_network_hosts")
    if kept != ours:
        carry.data["extra_network_hosts"] = kept


def carry_mcp(current: dict[str, Any], rendered: dict[str, Any], answers: dict[str, Any],
              vetted: set[str], carry: Carry) -> None:
    cur, ren = current.get("mcpServers") or {}, rendered.get("mcpServers") or {}
    chosen = list(answers.get("mcp_servers") or [])
    extra = dict(answers.get("extra_mcp_servers") or {})
    for name in cur:
        if name in ren and cur[name] == ren[name]:
            continue
        if name in vetted:
            if name not in ren:
                chosen.append(name)
                carry.warnings.append(f"carried the vetted MCP server {name} from {MCP} into the answer mcp_servers")
            else:
                carry.warnings.append(f"restored the vetted configuration of MCP server {name} in {MCP}")
        else:
            extra[name] = cur[name]
            carry.warnings.append(
                f"carried your MCP server {name} from {MCP} into the answer extra_mcp_servers; it is not vetted, "
                "so the posture check and the fleet report flag it (ask the platform team to vet it)"
            )
    for name in ren:
        if name not in cur:
            if name in chosen:
                chosen.remove(name)
            extra.pop(name, None)
            carry.warnings.append(f"MCP server {name} was removed from {MCP}: removed it from your answers too")
    if chosen != list(answers.get("mcp_servers") or []):
        carry.data["mcp_servers"] = chosen
    if extra != dict(answers.get("extra_mcp_servers") or {}):
        carry.data["extra_mcp_servers"] = extra


def carry_team_edits(repo: Path, manifest: dict[str, Any]) -> Carry:
    """Move hand edits of the foundation's JSON into answers, and put the rendered JSON back in place."""
    carry = Carry()
    answers = manifest.get("answers") or {}
    policy = _load_json(repo / POLICY) or {}
    team_keys = set(policy.get("team_settings_keys") or [])
    vetted = set(((policy.get("mcp") or {}).get("servers") or {}))
    for path, carrier in ((SETTINGS, carry_settings), (MCP, carry_mcp)):
        digest = (manifest.get("files") or {}).get(path)
        file = repo / path
        if not digest or not file.is_file() or history.sha256(file.read_bytes()) == digest:
            continue
        rendered = history.rendered_content(repo, path, digest)
        if rendered is None:
            raise UpdateFailed(
                f"{path} was edited by hand, and the foundation's own version of it is not in git history",
                f"restore it with `copier recopy --trust --defaults`, move your additions into the answers "
                f"(extra_allow, extra_ask, extra_deny, extra_settings, extra_mcp_servers), commit, and run update.py again",
            )
        current = _load_json(file)
        if current is None:
            carry.warnings.append(f"{path} did not parse as JSON (the client would have ignored it); restored the foundation's version")
        else:
            extras = team_keys if carrier is carry_settings else vetted
            carrier(current, json.loads(rendered), answers, extras, carry)
        file.write_bytes(rendered)
        carry.restored.append(path)
    return carry


# ---------------------------------------------------------------- checks after Copier


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def changed_files(repo: Path, since: str) -> list[str]:
    tracked = git(repo, "diff", "--name-only", since).decode().split("\n")
    untracked = git(repo, "ls-files", "--others", "--exclude-standard").decode().split("\n")
    return sorted({path for path in tracked + untracked if path})


def problems_after_update(repo: Path, since: str, findings: list[Any]) -> list[str]:
    """What makes the update fail; `findings` receives the posture findings (computed once)."""
    problems = []
    conflicted = set(git(repo, "diff", "--name-only", "--diff-filter=U").decode().split())
    for path in changed_files(repo, since):
        file = repo / path
        if path.endswith(".rej"):
            problems.append(f"{path}: Copier could not apply your change to {path[:-4]}")
        elif file.is_file() and (path in conflicted or CONFLICT_MARKER.search(file.read_bytes())):
            problems.append(f"{path}: conflict between your edit and the new foundation")
        elif path.endswith(".json") and file.is_file() and _load_json(file) is None:
            problems.append(f"{path}: not valid JSON after the update")
    if not problems:
        findings.extend(_posture_findings(repo))
        problems += [
            f"{finding.file}: {finding.message}"
            for finding in findings
            if getattr(finding, "severity", "error") == "error" and not tolerated(finding)
        ]
    return problems


def _posture_findings(repo: Path) -> list[Any]:
    """The new version's own posture check, run in-process (it is standard library only)."""
    check = repo / ".claude/foundation/check.py"
    if not check.is_file():
        raise UpdateFailed(".claude/foundation/check.py is missing after the update",
                           "restore it with `copier recopy --trust --defaults`, commit, and run update.py again")
    import importlib.util

    spec = importlib.util.spec_from_file_location("foundation_check_after_update", check)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    try:
        spec.loader.exec_module(module)
        return list(module.posture_findings(repo))
    finally:
        sys.modules.pop(spec.name, None)


# ---------------------------------------------------------------- the CHANGELOG between two versions


def changelog_between(changelog: str, old: str, new: str) -> str:
    """The CHANGELOG sections after release `old`, up to and including `new` (any spelling of either: v0.2.0,
    0.2.0, 0.2.0+local; an unknown or unreleased `old` is behind every release)."""
    sections = re.split(r"(?m)^(?=## \[)", changelog)
    kept = []
    for section in sections:
        heading = re.match(r"## \[([^\]]+)\]", section)
        if not heading or versions.parse(heading.group(1)) is None:
            continue  # [Unreleased] and anything that names no release
        release = heading.group(1)
        if (not old or versions.compare(release, old) > 0) and (not new or versions.parse(new) is None or versions.compare(release, new) <= 0):
            kept.append(section.rstrip())
    return "\n\n".join(kept)


# ---------------------------------------------------------------- running it


# Copier's shorthands for template URLs.
URL_SHORTHANDS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}


def has_no_release(repo: Path) -> bool:
    """Whether the template recorded in the answers has no release tag at all.

    Copier then takes its latest commit, and says "No git tags found in template; using HEAD as ref" once for
    each of the three renders of an update; update.py says it once and asks Copier for HEAD itself. False when
    the tags cannot be listed: Copier reports that on its own.
    """
    answers = repo / ".copier-answers.yml"
    recorded = re.search(r"(?m)^_src_path: *(.+?) *$", answers.read_text(encoding="utf-8")) if answers.is_file() else None
    if recorded is None:
        return False
    source = recorded.group(1).strip("'\"")
    for shorthand, base in URL_SHORTHANDS.items():
        if source.startswith(shorthand):
            source = base + source[len(shorthand):].lstrip("/").removesuffix(".git") + ".git"
    try:
        listed = subprocess.run(["git", "ls-remote", "--tags", "--refs", "--", source], cwd=repo,
                                capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    tags = [line.rsplit("refs/tags/", 1)[-1] for line in listed.stdout.splitlines()]
    releases = [version for version in map(versions.parse, tags) if version is not None and version.is_release]
    return listed.returncode == 0 and not releases


def asks_for_a_version(args: list[str]) -> bool:
    return any(arg in ("--vcs-ref", "-r") or arg.startswith(("--vcs-ref=", "-r")) for arg in args)


def copier_command() -> list[str]:
    found = shutil.which("copier")
    if found:
        return [found]
    raise UpdateFailed("copier is not installed", "install it once: pipx install copier && pipx inject copier copier-template-extensions")


def restore(repo: Path, head: str) -> None:
    """Put the tree back exactly as it was: the tree was clean, so HEAD holds everything tracked."""
    subprocess.run(["git", "merge", "--abort"], cwd=repo, capture_output=True, timeout=60)
    git(repo, "reset", "--quiet", "--hard", head)
    git(repo, "clean", "--quiet", "-fd")


def run(argv: list[str], repo: Path) -> int:
    interactive = "--interactive" in argv
    passthrough = [arg for arg in argv if arg != "--interactive"]
    if git(repo, "rev-parse", "--is-inside-work-tree", check=False).strip() != b"true":
        raise UpdateFailed(f"{repo} is not a git repository", "run update.py from your team repository")
    dirty = git(repo, "status", "--porcelain").decode().strip()
    if dirty:
        raise UpdateFailed(
            "the working tree has uncommitted changes:\n" + "\n".join(f"    {line}" for line in dirty.splitlines()[:20]),
            "commit or stash them first, so the update can be undone exactly if anything fails",
        )
    head = git(repo, "rev-parse", "HEAD").decode().strip()
    manifest = history.read_manifest(repo)
    old_version = str(manifest.get("template_version") or "")
    try:
        carry = carry_team_edits(repo, manifest)
        if carry.restored:
            git(repo, "add", "--", *carry.restored)
            git(repo, "-c", "user.name=agent-foundation", "-c", "user.email=agent-foundation@localhost",
                "commit", "--quiet", "--no-verify", "--allow-empty", "-m", "agent-foundation: carry hand edits into answers (temporary)")
        command = [*copier_command(), "update", "--trust", *([] if interactive else ["--defaults"])]
        for key, value in carry.data.items():
            command += ["--data", f"{key}={json.dumps(value)}"]
        command += passthrough
        if not asks_for_a_version(passthrough) and has_no_release(repo):
            print("update.py: the template has no release yet (no version tag); taking its latest commit", flush=True)
            command += ["--vcs-ref", "HEAD"]
        print("$ " + " ".join(command), flush=True)
        result = subprocess.run(command, cwd=repo, stdin=None if interactive else subprocess.DEVNULL)
        if result.returncode != 0:
            raise UpdateFailed(f"copier update failed (exit {result.returncode}); see its output above",
                               "fix what it reports (often an answer the new version refuses), then run update.py again")
        findings: list[Any] = []
        problems = problems_after_update(repo, head, findings)
        if problems:
            raise UpdateFailed(
                "the update left problems:\n" + "\n".join(f"    {problem}" for problem in problems),
                "nothing was changed. To take this release, move your edits of foundation files into your own "
                "files (.claude/rules/<team>.md, your own skill folder) or your answers, commit, and run update.py "
                "again; or run `copier update --trust` yourself and resolve the conflict markers by hand",
            )
    except BaseException:
        restore(repo, head)
        raise
    git(repo, "reset", "--quiet", head)  # drop the temporary commit, keep every change in the working tree
    new_version = str(history.read_manifest(repo).get("template_version") or "")
    report(repo, carry, findings, old_version, new_version)
    return 0


def report(repo: Path, carry: Carry, findings: list[Any], old: str, new: str) -> None:
    if old == new:
        print(f"\nThe foundation is already at {new}; nothing to take.")
    else:
        print(f"\nThe foundation is updated from {old or 'an unknown version'} to {new}.")
    for warning in carry.warnings:
        print(f"warning: {warning}")
    for finding in findings:
        if tolerated(finding):
            print(f"warning: kept as you have it, and flagged by the posture check: {finding.file}: {finding.message}")
    changes = changelog_between((repo / CHANGELOG).read_text(encoding="utf-8") if (repo / CHANGELOG).is_file() else "", old, new)
    if changes and old != new:
        print("\nWhat changed:\n\n" + changes)
    print("\nNext: review `git status` and `git diff`, run your tests, then commit everything.")


def main(argv: list[str]) -> int:
    if any(arg in ("-h", "--help") for arg in argv):
        print(__doc__)
        return 0
    repo = Path(git(Path.cwd(), "rev-parse", "--show-toplevel", check=False).decode().strip() or Path.cwd())
    try:
        return run(argv, repo)
    except UpdateFailed as failure:
        print(f"\nupdate.py: {failure.what}\nWhat to do: {failure.todo}\nYour repository is exactly as it was before.", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - restored already by run(); say so instead of a bare traceback
        print(f"\nupdate.py: {type(error).__name__}: {error}\nYour repository is exactly as it was before.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
