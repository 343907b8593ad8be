"""Copier migrations driven by foundation/migrations.yml (run by `_migrations` in copier.yml).

    python migrate.py before|after      (cwd: the team repository; Copier sets VERSION_PEP440_FROM/TO)

Runs with Copier's own interpreter (so PyYAML is there) from the NEW template checkout, and must work on
every repository, edited or not: each step is idempotent, because Copier may run it again after a failure.
Between the two stages, a team's edit of a renamed file waits in .git/agent-foundation/carry/.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_ROOT = Path(__file__).resolve().parents[2]
ANSWERS = Path(".copier-answers.yml")
CARRY_DIR = Path(".git/agent-foundation/carry")
RETIRED_DIR = Path(".claude/retired-skills")


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


def warn(message: str) -> None:
    print(f"agent-foundation migration: {message}", file=sys.stderr)


def rename_answers(repo: Path, renames: list[dict[str, str]]) -> None:
    path = repo / ANSWERS
    answers = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    changed = False
    for rename in renames:
        if rename["from"] in answers:
            answers[rename["to"]] = answers.pop(rename["from"])
            changed = True
    if changed:
        write_answers(repo, answers)


def retire_skills(repo: Path, skills: list[str], manifest: dict[str, Any], history: Any) -> None:
    path = repo / ANSWERS
    answers = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    chosen = answers.get("skills") or []
    for name in skills:
        folder = repo / ".claude/skills" / name
        prefix = f".claude/skills/{name}/"
        edited = [p for p in history.edited_foundation_files(repo, manifest) if p.startswith(prefix)]
        if edited and folder.is_dir():
            target = repo / RETIRED_DIR / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(folder, target)
            subprocess.run(["git", "add", "--", str(RETIRED_DIR / name)], cwd=repo, check=True, timeout=60)
            warn(f"skill {name} is retired; your edited copy is kept in {RETIRED_DIR / name}/")
        if name in chosen:
            chosen.remove(name)
            warn(f"skill {name} is retired from the registry and removed from your answers")
    answers["skills"] = chosen
    write_answers(repo, answers)


def stash_renamed_edits(repo: Path, renames: list[dict[str, str]], manifest: dict[str, Any], history: Any) -> None:
    """Before: an edited file that is about to move gets its rendered content back, its edit set aside."""
    for rename in renames:
        old = repo / rename["from"]
        digest = (manifest.get("files") or {}).get(rename["from"])
        if not old.is_file() or not digest or history.sha256(old.read_bytes()) == digest:
            continue
        base = history.rendered_content(repo, rename["from"], digest)
        if base is None:
            warn(f"{rename['from']} was edited but its rendered version is not in git history; keeping it as is")
            continue
        carry = repo / CARRY_DIR / (rename["to"].replace("/", "__") + ".json")
        carry.parent.mkdir(parents=True, exist_ok=True)
        carry.write_text(json.dumps({"to": rename["to"], "base": base.decode("utf-8"),
                                     "edited": old.read_text(encoding="utf-8")}), encoding="utf-8")
        old.write_bytes(base)
        subprocess.run(["git", "add", "--", rename["from"]], cwd=repo, check=True, timeout=60)


def apply_renamed_edits(repo: Path) -> None:
    """After: merge each set-aside edit into the file's new place (3-way, like Copier's own conflicts)."""
    folder = repo / CARRY_DIR
    if not folder.is_dir():
        return
    for carry_file in sorted(folder.glob("*.json")):
        carry = json.loads(carry_file.read_text(encoding="utf-8"))
        target = repo / carry["to"]
        scratch = folder / "merge"
        scratch.mkdir(exist_ok=True)
        (scratch / "base").write_text(carry["base"], encoding="utf-8")
        (scratch / "edited").write_text(carry["edited"], encoding="utf-8")
        result = subprocess.run(
            ["git", "merge-file", "-L", "after updating", "-L", "before updating", "-L", "your edit",
             str(target), str(scratch / "base"), str(scratch / "edited")],
            cwd=repo, capture_output=True, timeout=60,
        )
        if result.returncode != 0:
            warn(f"your edit of the moved file could not be merged cleanly into {carry['to']}: resolve the conflict markers there")
        else:
            warn(f"your edit moved with the file into {carry['to']}")
        carry_file.unlink()
    shutil.rmtree(folder, ignore_errors=True)


def _head_file(repo: Path, path: str) -> bytes | None:
    result = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=repo, capture_output=True, timeout=60)
    return result.stdout if result.returncode == 0 else None


def keep_edited_skill_copies(repo: Path, history: Any) -> None:
    """After: a team that moved from skill copies to plugins keeps every registry skill it had edited, as its
    own copy under .claude/skills/<name>/ (from the last commit: Copier has just removed the rendered copies).
    The posture check names each such copy, so the edit can be proposed to the platform team."""
    answers = yaml.safe_load((repo / ANSWERS).read_text(encoding="utf-8")) or {}
    old_text = _head_file(repo, ".claude/foundation/manifest.json")
    if answers.get("skills_delivery") != "plugin" or old_text is None:
        return
    old = json.loads(old_text)
    if old.get("skills_delivery", "copy") != "copy":
        return
    files = old.get("files") or {}
    for entry in old.get("skills") or []:
        prefix = f".claude/skills/{entry['name']}/"
        mine = {path: digest for path, digest in files.items() if path.startswith(prefix)}
        contents = {path: _head_file(repo, path) for path in mine}
        edited = [path for path, digest in mine.items() if contents[path] is not None and history.sha256(contents[path]) != digest]
        if not edited:
            continue
        for path, content in contents.items():
            if content is not None:
                (repo / path).parent.mkdir(parents=True, exist_ok=True)
                (repo / path).write_bytes(content)
        subprocess.run(["git", "add", "--", prefix], cwd=repo, check=True, timeout=60)
        warn(f"skill {entry['name']} now comes as a plugin; your edited copy stays in {prefix} as your own "
             "(propose the edit to the platform team, then delete it)")


def offer_new_skills(repo: Path, manifest: dict[str, Any]) -> None:
    """Add recommended skills new to the registry to the team's answers, so the update renders them."""
    sys.path.insert(0, str(TEMPLATE_ROOT / "src"))  # this process's own checkout: no other version is loaded
    from agent_foundation.foundation import load_foundation
    from agent_foundation.render import new_recommended_skills

    offered = new_recommended_skills(load_foundation(TEMPLATE_ROOT / "foundation"), manifest)
    if not offered:
        return
    path = repo / ANSWERS
    answers = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    answers["skills"] = list(answers.get("skills") or []) + [name for name in offered if name not in (answers.get("skills") or [])]
    write_answers(repo, answers)
    for name in offered:
        warn(f"new recommended skill {name} added to your skills; to decline it, run update.py --interactive")


def write_answers(repo: Path, answers: dict[str, Any]) -> None:
    """Rewrite the answers, keeping the file's own header comment (the template renders it)."""
    path = repo / ANSWERS
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.is_file() else []
    header = "".join(line for line in lines[: next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))])
    path.write_text(header + yaml.safe_dump(answers, sort_keys=True, allow_unicode=True), encoding="utf-8")
    subprocess.run(["git", "add", "--", str(ANSWERS)], cwd=repo, check=True, timeout=60)


def main(stage: str) -> int:
    repo = Path.cwd()
    version_from = os.environ.get("VERSION_PEP440_FROM") or os.environ.get("VERSION_FROM") or "0"
    version_to = os.environ.get("VERSION_PEP440_TO") or os.environ.get("VERSION_TO") or "0"
    if stage == "after":
        apply_renamed_edits(repo)
        keep_edited_skill_copies(repo, _history())
        return 0
    history = _history()
    manifest = history.read_manifest(repo)
    for migration in due_migrations(version_from, version_to):
        rename_answers(repo, migration.get("renamed_answers") or [])
        if migration.get("retired_skills"):
            retire_skills(repo, migration["retired_skills"], manifest, history)
        stash_renamed_edits(repo, migration.get("renamed_files") or [], manifest, history)
    offer_new_skills(repo, manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
