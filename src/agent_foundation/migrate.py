"""The update's safety, inside Copier's own update (run by `_migrations` in copier.yml).

    python migrate.py before|after      (cwd: the team repository; Copier sets VERSION_PEP440_FROM/TO)

Every way of running `copier update --trust` runs this: by hand, Renovate's `copier update --skip-answered
--defaults --trust --vcs-ref vX.Y.Z`, update.py and rollout. So each gives the same result:

  before  refuses a hand-edited answers file (naming the answers and the command that gives them instead);
          applies foundation/migrations.yml (renamed answers and files, retired skills and servers); drops
          skills and servers the registry no longer has, naming each; carries hand edits of settings.json,
          .mcp.json and the other agents' files (agents/team.py) into the answers and puts the files back to
          the foundation's last render (so Copier never merges them with conflict markers); offers
          recommended skills new to the registry.
  after   moves a team's edit of a renamed file into its new place; then fails (exit 1) if a conflict marker,
          a .rej file, JSON that does not parse or a posture error is left, naming each and the fix.

The answers the before stage changes are written to .copier-answers.yml and handed to Copier in-process
(extensions/foundation_context.py, `adopt_answers`), because with --skip-answered Copier does not read the
answers file again after its before-migrations. What each stage did is printed, and recorded for update.py in
the git directory (agent-foundation/update-report.json). Runs with Copier's own interpreter (PyYAML is there)
from the NEW template checkout; every step is idempotent.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):  # run as Copier's migration script, from the template checkout
    sys.path.insert(0, str(TEMPLATE_ROOT / "src"))
from agent_foundation import carry  # noqa: E402

ANSWERS = Path(carry.ANSWERS)
STATE_DIR = "agent-foundation"  # inside the git directory: never committed, never seen by Copier's diff
REPORT = "update-report.json"
CARRY_DIR = "carry"
RETIRED_DIR = Path(".claude/retired-skills")
CONFLICT_MARKER = re.compile(rb"^(<{7} |>{7} |={7}$)", re.M)
# Posture findings an update keeps and names instead of failing on: the team's own edit of a foundation text
# file (instructions, skills), and a server the team runs outside the registry (carried in extra_mcp_servers).
# Refusing the release for them would keep the team off every later security fix; the posture check and fleet
# report still flag them. An edit of the foundation's code (hooks, check, update) is never kept: it fails.
TOLERATED_FINDINGS = {"foundation-file-edited", "mcp-server-unvetted"}
TOLERATED_EDITS = (".md",)
UNDO = "git reset --hard && git clean -fd"


def _history() -> Any:
    """The new template's history helpers (the same code update.py uses), loaded by path."""
    path = TEMPLATE_ROOT / "template/.claude/foundation/history.py"
    spec = importlib.util.spec_from_file_location("foundation_history_for_migrations", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _versions() -> Any:
    """Version comparison shared with the fleet, rollout and update.py, loaded by path (this file runs as a script)."""
    path = TEMPLATE_ROOT / "src/agent_foundation/versions.py"
    spec = importlib.util.spec_from_file_location("foundation_versions_for_migrations", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # NamedTuple needs its module registered while it executes
    spec.loader.exec_module(module)
    return module


def due_migrations(version_from: str, version_to: str, root: Path = TEMPLATE_ROOT) -> list[dict[str, Any]]:
    """The entries of foundation/migrations.yml after version_from, up to and including version_to."""
    data = yaml.safe_load((root / "foundation/migrations.yml").read_text(encoding="utf-8")) or {}
    versions = _versions()
    return [m for m in data.get("migrations") or []
            if versions.compare(version_from, m["version"]) < 0 <= versions.compare(version_to, m["version"])]


# ---------------------------------------------------------------- the record of what the stages did


def state_dir(repo: Path) -> Path:
    path = subprocess.run(["git", "rev-parse", "--git-path", STATE_DIR], cwd=repo, capture_output=True, text=True,
                          timeout=60).stdout.strip() or f".git/{STATE_DIR}"
    return (repo / path).resolve()


def load_report(repo: Path, copier_pid: int, folder: Path | None = None) -> dict[str, Any]:
    """This Copier run's report so far (a report of another run is stale and ignored)."""
    try:
        report = json.loads(((folder or state_dir(repo)) / REPORT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = None
    if not isinstance(report, dict) or report.get("copier_pid") != copier_pid:
        report = {"copier_pid": copier_pid, "notes": [], "answers": {}, "problems": [], "fix": ""}
    return report


def save_report(repo: Path, report: dict[str, Any]) -> None:
    folder = state_dir(repo)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / REPORT).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def tell(report: dict[str, Any], notes: list[carry.Note]) -> None:
    for note in notes:
        report["notes"].append({"kind": note.kind, "text": note.text})
        print(f"agent-foundation: {note.text}", file=sys.stderr)


def fail(repo: Path, report: dict[str, Any], problems: list[str], fix: str) -> int:
    report["problems"], report["fix"] = problems, fix
    save_report(repo, report)
    print("\nagent-foundation: the update cannot be taken as it is:\n" + "\n".join(f"    {p}" for p in problems)
          + f"\nWhat to do: {fix}\n", file=sys.stderr)
    return 1


# ---------------------------------------------------------------- before: answers


def before_due(repo: Path, foundation: Any, render: Any) -> bool:
    """Whether the before stage has a hand edit to carry, an answer to check or a choice the registry dropped
    (cheap: it runs in Copier's process on every update)."""
    try:
        manifest = json.loads((repo / carry.MANIFEST).read_text(encoding="utf-8"))
        answers = read_answers(repo)
    except (OSError, ValueError, carry.CarryRefused):
        return True  # the stage names what is wrong
    files = manifest.get("files") or {}
    for path in (carry.SETTINGS, carry.MCP, *render.agents.team_files()):
        file = repo / path
        if files.get(path) and file.is_file() and render.sha256(file.read_bytes()) != files[path]:
            return True
    skills, servers = answers.get("skills") or [], answers.get("mcp_servers") or []
    return bool(carry.hand_edited_answers(answers, manifest)
                or set(skills) - set(foundation.skills) or set(servers) - set(foundation.mcp_servers)
                or carry.deleted_skill_folders(repo, manifest, list(skills)))



def read_answers(repo: Path) -> dict[str, Any]:
    path = repo / ANSWERS
    try:
        answers = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{ANSWERS}, line {mark.line + 1}" if mark else str(ANSWERS)
        raise carry.CarryRefused(f"{where}: not valid YAML ({getattr(error, 'problem', None) or error})",
                                 f"fix {ANSWERS} at that line (`git log -p {ANSWERS}` shows what changed), commit, and update again")
    return answers if isinstance(answers, dict) else {}


def write_answers(repo: Path, answers: dict[str, Any]) -> None:
    """Rewrite the answers, keeping the file's own header comment (the template renders it)."""
    path = repo / ANSWERS
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.is_file() else []
    header = "".join(line for line in lines[: next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))])
    path.write_text(header + yaml.safe_dump(answers, sort_keys=True, allow_unicode=True), encoding="utf-8")


def rename_answers(state: carry.Carry, renames: list[dict[str, str]]) -> None:
    for rename in renames:
        if rename["from"] in state.answers:
            state.set(rename["to"], state.answers.pop(rename["from"]))


def offer_new_skills(state: carry.Carry, foundation: Any, manifest: dict[str, Any], render: Any) -> None:
    """Add recommended skills new to the registry to the team's answers, so the update renders them."""
    offered = [name for name in render.new_recommended_skills(foundation, manifest)
               if name not in (state.answers.get("skills") or [])]
    if offered:
        state.set("skills", list(state.answers.get("skills") or []) + offered)
    for name in offered:
        state.note("offered", f"new recommended skill {name} added to your skills; to decline it, run update.py --interactive "
                              f"(or update.py --data 'skills=[...]' without it)")


def refuse_invalid_carry(state: carry.Carry, foundation: Any, render: Any) -> None:
    """A carried answer the new version would refuse (a hand-added `Bash(*)`) stops the update here, before
    anything is written, with the reason."""
    errors: list[str] = []
    for kind in ("allow", "ask", "deny"):
        if f"extra_{kind}" in state.changed:
            errors += [f"extra_{kind}: {error}" for error in
                       render.extra_rule_errors(foundation, state.answers.get(f"extra_{kind}"), kind)]
    if "extra_settings" in state.changed:
        errors += render.extra_settings_errors(foundation, state.answers.get("extra_settings"))
    if "extra_mcp_servers" in state.changed:
        errors += render.extra_mcp_server_errors(foundation, state.answers.get("extra_mcp_servers"))
    if "extra_network_hosts" in state.changed:
        errors += render.extra_network_host_errors(state.answers.get("extra_network_hosts"))
    if "extra_codex_config" in state.changed:
        errors += render.agents.codex.extra_config_errors(state.answers.get("extra_codex_config"))
    if "extra_agent_config" in state.changed:
        errors += render.agents.extra_agent_config_errors(foundation, state.answers.get("extra_agent_config"))
    if errors:
        raise carry.CarryRefused(
            "a hand edit of the foundation's files cannot be carried into your answers: " + "; ".join(errors),
            f"remove that edit from {carry.SETTINGS}, {carry.MCP} or the agent's file it names, commit, and update again",
        )


# ---------------------------------------------------------------- before: files


def keep_edited_skill_copies(repo: Path, skills: list[str], manifest: dict[str, Any], history: Any,
                             state: carry.Carry) -> None:
    """A skill leaving the team's answers takes its folder with it; an edited copy is kept, out of the client's reach."""
    edited = history.edited_foundation_files(repo, manifest)
    for name in skills:
        folder = repo / carry.SKILLS_DIR / name
        if folder.is_dir() and any(path.startswith(f"{carry.SKILLS_DIR}/{name}/") for path in edited):
            target = repo / RETIRED_DIR / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(folder, target)
            _stage(repo, str(RETIRED_DIR / name))
            state.note("kept", f"your edited copy of the skill {name} is kept in {RETIRED_DIR / name}/ (the client does not load it)")


def stash_renamed_edits(repo: Path, renames: list[dict[str, str]], last: carry.LastRender, state: carry.Carry) -> None:
    """An edited file that is about to move gets its rendered content back, its edit set aside for the after stage."""
    for rename in renames:
        old = repo / rename["from"]
        if not old.is_file() or not last.edited(rename["from"]):
            continue
        base = last.content(rename["from"])
        if base is None:
            raise carry.CarryRefused(
                f"{rename['from']} was edited by hand and moves to {rename['to']} in this release, but the foundation's "
                "last render of it is neither in git history nor renderable from the old template version",
                f"copy your edit to your own file (.claude/rules/<team>.md), run `git checkout -- {rename['from']}` with "
                "the foundation's text, commit, and update again",
            )
        stash = state_dir(repo) / CARRY_DIR / (rename["to"].replace("/", "__") + ".json")
        stash.parent.mkdir(parents=True, exist_ok=True)
        stash.write_text(json.dumps({"to": rename["to"], "base": base.decode("utf-8"),
                                     "edited": old.read_text(encoding="utf-8")}), encoding="utf-8")
        old.write_bytes(base)
        _stage(repo, rename["from"])


def _stage(repo: Path, *paths: str) -> None:
    """Copier snapshots the index after the before stage: what this stage puts back must be staged."""
    subprocess.run(["git", "add", "--", *paths], cwd=repo, check=True, timeout=60, capture_output=True)


def before(repo: Path, version_from: str, version_to: str, report: dict[str, Any]) -> int:
    history = _history()
    manifest = history.read_manifest(repo)
    answers = read_answers(repo)
    edited = carry.hand_edited_answers(answers, manifest)
    if edited:
        last_render = subprocess.run(["git", "log", "-1", "--format=%h", "--", carry.MANIFEST], cwd=repo,
                                     capture_output=True, text=True, timeout=60).stdout.strip()
        carry.refuse_hand_edited_answers(repo, edited, answers, manifest.get("answers") or {}, last_render)
    from agent_foundation import render
    from agent_foundation.foundation import load_foundation

    foundation = load_foundation(TEMPLATE_ROOT / "foundation")
    state = carry.Carry(dict(answers))
    migrations = due_migrations(version_from, version_to)
    retired = {"skills": set(), "mcp_servers": set()}
    for migration in migrations:
        rename_answers(state, migration.get("renamed_answers") or [])
        retired["skills"] |= set(migration.get("retired_skills") or [])
        retired["mcp_servers"] |= set(migration.get("retired_servers") or [])
    registry = {"skills": set(foundation.skills), "mcp_servers": set(foundation.mcp_servers)}
    dropped = carry.drop_unknown_choices(registry, retired, state)
    last = carry.LastRender(repo, manifest, history, TEMPLATE_ROOT, str(answers.get("_commit") or ""))
    owned = render.owned_settings(foundation)
    carry.carry_json_edits(repo, last, owned, set(foundation.mcp_servers), state)
    carry.carry_agent_edits(repo, last, render.agents.team_files(render.agents.chosen(state.answers)),
                            set(foundation.mcp_servers), state)
    refuse_invalid_carry(state, foundation, render)
    offer_new_skills(state, foundation, manifest, render)
    deleted = carry.deleted_skill_folders(repo, manifest, list(state.answers.get("skills") or []))
    if deleted:
        state.note("hint", carry.decline_hint(list(state.answers.get("skills") or []), deleted))
    # Nothing is written before this point: a refusal above leaves the repository as it was.
    keep_edited_skill_copies(repo, dropped, manifest, history, state)
    for migration in migrations:
        stash_renamed_edits(repo, migration.get("renamed_files") or [], last, state)
    for path in state.restored:
        (repo / path).write_bytes(state.pending[path])
    if state.restored:
        _stage(repo, *state.restored)
    if state.changed:
        write_answers(repo, state.answers)
        _stage(repo, str(ANSWERS))
        report["answers"] = {key: state.answers.get(key) for key in sorted(state.changed)}
    tell(report, state.notes)
    save_report(repo, report)
    return 0


# ---------------------------------------------------------------- after


def apply_renamed_edits(repo: Path, report: dict[str, Any]) -> None:
    """Merge each set-aside edit into the file's new place (3-way, like Copier's own conflicts)."""
    folder = state_dir(repo) / CARRY_DIR
    if not folder.is_dir():
        return
    notes = []
    for stash in sorted(folder.glob("*.json")):
        moved = json.loads(stash.read_text(encoding="utf-8"))
        target = repo / moved["to"]
        scratch = folder / "merge"
        scratch.mkdir(exist_ok=True)
        (scratch / "base").write_text(moved["base"], encoding="utf-8")
        (scratch / "edited").write_text(moved["edited"], encoding="utf-8")
        result = subprocess.run(
            ["git", "merge-file", "-L", "after updating", "-L", "before updating", "-L", "your edit",
             str(target), str(scratch / "base"), str(scratch / "edited")],
            cwd=repo, capture_output=True, timeout=60,
        )
        if result.returncode != 0:
            notes.append(carry.Note("conflict", f"your edit of the moved file could not be merged cleanly into {moved['to']}"))
        else:
            notes.append(carry.Note("kept", f"your edit moved with the file into {moved['to']}"))
        stash.unlink()
    shutil.rmtree(folder, ignore_errors=True)
    tell(report, notes)


def _head_file(repo: Path, path: str) -> bytes | None:
    result = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=repo, capture_output=True, timeout=60)
    return result.stdout if result.returncode == 0 else None


def keep_skill_edits_moved_to_plugins(repo: Path, report: dict[str, Any]) -> None:
    """A team that moved from skill copies to plugins keeps every registry skill it had edited, as its own copy
    under .claude/skills/<name>/ (from the last commit: Copier has just removed the rendered copies). The posture
    check names each such copy, so the edit can be proposed to the platform team."""
    answers = read_answers(repo)
    old_text = _head_file(repo, carry.MANIFEST)
    if answers.get("skills_delivery") != "plugin" or old_text is None:
        return
    old = json.loads(old_text)
    if old.get("skills_delivery", "copy") != "copy":
        return
    history = _history()
    files = old.get("files") or {}
    notes = []
    for entry in old.get("skills") or []:
        prefix = f"{carry.SKILLS_DIR}/{entry['name']}/"
        mine = {path: digest for path, digest in files.items() if path.startswith(prefix)}
        contents = {path: _head_file(repo, path) for path in mine}
        if not any(contents[path] is not None and history.sha256(contents[path]) != digest for path, digest in mine.items()):
            continue
        for path, content in contents.items():
            if content is not None:
                (repo / path).parent.mkdir(parents=True, exist_ok=True)
                (repo / path).write_bytes(content)
        _stage(repo, prefix)
        notes.append(carry.Note("kept", f"skill {entry['name']} now comes as a plugin; your edited copy stays in "
                                        f"{prefix} as your own (propose the edit to the platform team, then delete it)"))
    tell(report, notes)


def tolerated(finding: Any) -> bool:
    if finding.code == "foundation-file-edited":
        return str(finding.file).endswith(TOLERATED_EDITS)
    return finding.code in TOLERATED_FINDINGS


def changed_files(repo: Path) -> list[str]:
    """What the update changed: the tree was clean when it started (Copier refuses a dirty one)."""
    status = subprocess.run(["git", "status", "--porcelain", "-z", "--untracked-files=all"], cwd=repo,
                            capture_output=True, timeout=60).stdout.decode("utf-8", "replace").split("\0")
    return sorted({entry[3:] for entry in status if len(entry) > 3})


def posture_findings(repo: Path) -> list[Any]:
    """The new version's own posture check, run in-process (it is standard library only)."""
    check = repo / ".claude/foundation/check.py"
    if not check.is_file():
        return []
    spec = importlib.util.spec_from_file_location("foundation_check_after_update", check)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    try:
        spec.loader.exec_module(module)
        return list(module.posture_findings(repo))
    finally:
        sys.modules.pop(spec.name, None)


def update_problems(repo: Path) -> tuple[list[str], list[str], list[str]]:
    """(problems, conflicted files, kept edits) the update left: conflict markers, .rej files, JSON that does not
    parse, then the posture check's errors; and the foundation files the team edited that it keeps."""
    problems, conflicts = [], []
    for path in changed_files(repo):
        file = repo / path
        if path.endswith(".rej"):
            problems.append(f"{path}: Copier could not apply your change to {path[:-4]}")
            conflicts.append(path[:-4])
        elif file.is_file() and CONFLICT_MARKER.search(file.read_bytes()):
            problems.append(f"{path}: conflict between your edit and the new foundation")
            conflicts.append(path)
        elif path.endswith(".json") and file.is_file() and not _parses(file):
            problems.append(f"{path}: not valid JSON after the update")
    kept = []
    if not problems:
        for finding in posture_findings(repo):
            if getattr(finding, "severity", "error") != "error":
                continue
            (kept if tolerated(finding) else problems).append(located(finding))
    return problems, conflicts, kept


def located(finding: Any) -> str:
    """The finding with its file in front, once (some messages already start with it)."""
    return finding.message if finding.message.startswith(f"{finding.file}:") else f"{finding.file}: {finding.message}"


def _parses(file: Path) -> bool:
    try:
        json.loads(file.read_text(encoding="utf-8"))
        return True
    except (OSError, ValueError):
        return False


def after(repo: Path, report: dict[str, Any]) -> int:
    apply_renamed_edits(repo, report)
    keep_skill_edits_moved_to_plugins(repo, report)
    problems, conflicts, kept = update_problems(repo)
    tell(report, [carry.Note("kept", f"kept as you have it, and flagged by the posture check: {k}") for k in kept])
    report["conflicts"] = conflicts
    if problems:
        fix = ("move your edits of foundation files into your own files (.claude/rules/<team>.md, your own skill folder) "
               "or your answers, commit, and update again; or resolve the conflict markers by hand, run "
               "`python3 .claude/foundation/check.py`, and commit")
        missing = [p for p in problems if p.startswith(carry.SKILLS_DIR) and "missing" in p]
        if missing:
            fix = next((n["text"] for n in report["notes"] if n["kind"] == "hint"), fix)
        return fail(repo, report, problems, f"{fix}. With plain Copier, `{UNDO}` undoes this update (the tree was "
                                            "clean before it); update.py undoes it for you")
    save_report(repo, report)
    return 0


def main(stage: str) -> int:
    repo = Path.cwd()
    report = load_report(repo, os.getppid())
    if stage == "after":
        return after(repo, report)
    report = {**report, "notes": [], "answers": {}, "problems": []}
    version_from = os.environ.get("VERSION_PEP440_FROM") or os.environ.get("VERSION_FROM") or "0"
    version_to = os.environ.get("VERSION_PEP440_TO") or os.environ.get("VERSION_TO") or "0"
    try:
        return before(repo, version_from, version_to, report)
    except carry.CarryRefused as refused:
        return fail(repo, report, [refused.what], refused.fix + ". Nothing was changed")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
