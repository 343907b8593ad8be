"""The fast path: a repository whose foundation files carry no team edit takes the release by a direct render.

`copier update` renders the old version and the new one (twice), diffs the old render against the project
and re-applies that diff, with some 170 git calls: all to keep team edits. When the manifest's hashes say no
foundation-owned file was edited (and nothing else can conflict), there is no edit to keep, and the result
is the new version's render of the same answers. So this path:

  1. renders the release once per distinct (template, release, answers, manifest): the release's own
     before-migration decides the answers (renamed answers, retired skills, newly offered skills) exactly as
     in an update, then Copier renders the release with them into a scratch folder;
  2. in the work clone: removes the foundation files the release dropped, copies every foundation-owned file
     and the new answers and manifest, refreshes AGENTS.md's foundation section with the release's own code;
  3. runs the release's own update.py checks (conflict markers, JSON, the posture check) on the result.

Anything it cannot vouch for declines (the reason goes in the report) and the repository takes the full
path, the team's own update.py, as before. tests/test_rollout_fastpath.py proves the result byte-identical
to `copier update` on the update tests' scenarios, and that every team edit declines.

Renders and checks run in worker processes (Copier is CPU-bound Python: threads would share one core).
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import yaml

ANSWERS = ".copier-answers.yml"
MANIFEST = ".claude/foundation/manifest.json"
AGENTS = "AGENTS.md"
TEAM_OWNED = ("CLAUDE.md", AGENTS)  # copier.yml's _skip_if_exists: seeded once, the team's afterwards
SECTION_PLACEHOLDER = "{{ af.agents_section }}"


class Declined(Exception):
    """The fast path cannot vouch for this repository: the full path takes it."""


def raw_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _user_answers(answers: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answers.items() if not key.startswith("_") and value is not None}


def check_unedited(clone: Path, answers_text: str, manifest: dict[str, Any]) -> dict[str, str]:
    """The foundation-owned files (path -> sha256) when none carries a team edit; else Declined naming one.

    Strict on bytes: a file rendered with LF and checked out with CRLF is the same to the manifest, but not to
    a copy, so it declines (the full path handles line endings)."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise Declined(f"{MANIFEST} lists no foundation files (rendered before the manifest recorded them)")
    for path, digest in files.items():
        file = clone / path
        if file.is_symlink() or not file.is_file():
            raise Declined(f"the team removed or replaced the foundation file {path}")
        if raw_sha256(file.read_bytes()) != digest:
            raise Declined(f"the team edited the foundation file {path}")
    for path in TEAM_OWNED:
        if (clone / path).is_symlink() or not (clone / path).is_file():
            raise Declined(f"{path} is missing or not a file (Copier would render it again)")
    try:
        answers = yaml.safe_load(answers_text)
    except yaml.YAMLError as error:
        raise Declined(f"{ANSWERS} does not parse") from error
    if not isinstance(answers, dict) or _user_answers(answers) != (manifest.get("answers") or {}):
        raise Declined(f"{ANSWERS} differs from the answers the manifest records (edited by hand?)")
    return {str(path): str(digest) for path, digest in files.items()}


# ---------------------------------------------------------------- in the worker processes


_checkouts: dict[tuple[str, str], Path] = {}
_scratch_root: Path | None = None


def _scratch() -> Path:
    global _scratch_root
    if _scratch_root is None:
        _scratch_root = Path(tempfile.mkdtemp(prefix="agent-foundation-fastpath-"))
    return _scratch_root


def _git(cwd: Path | None, *args: str) -> str:
    result = subprocess.run(["git", "-c", "user.name=agent-foundation", "-c", "user.email=agent-foundation@localhost",
                             *args], cwd=cwd, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise Declined(f"git {' '.join(args[:2])} failed: {(result.stderr or result.stdout).strip()[-300:]}")
    return result.stdout


def release_checkout(src: str, tag: str) -> Path:
    """The template at `tag` (its migrations and AGENTS.md code), checked out once per worker."""
    key = (src, tag)
    if key not in _checkouts:
        folder = Path(tempfile.mkdtemp(prefix="release-", dir=_scratch()))
        _git(None, "clone", "--quiet", "--shared", "--no-checkout", src, str(folder))
        _git(folder, "checkout", "--quiet", "--detach", tag)
        _checkouts[key] = folder
    return _checkouts[key]


def _migrated_answers(checkout: Path, answers_text: str, manifest_text: str, version_from: str, tag: str,
                      sample: Path, files: list[str]) -> dict[str, Any]:
    """The answers an update renders with: the release's before-migration run, as Copier runs it, on a copy of
    a repository with these answers (its foundation files are the same in every such repository: unedited)."""
    answers = yaml.safe_load(answers_text) or {}
    migrate = checkout / "src/agent_foundation/migrate.py"
    if not migrate.is_file():
        return answers
    scratch = Path(tempfile.mkdtemp(prefix="answers-", dir=_scratch()))
    try:
        for path in [*files, *TEAM_OWNED]:
            (scratch / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sample / path, scratch / path)
        (scratch / ANSWERS).write_text(answers_text, encoding="utf-8")
        (scratch / MANIFEST).parent.mkdir(parents=True, exist_ok=True)
        (scratch / MANIFEST).write_text(manifest_text, encoding="utf-8")
        _git(scratch, "init", "--quiet")
        _git(scratch, "add", "--all")
        _git(scratch, "commit", "--quiet", "--no-verify", "-m", "the repository as rendered")
        env = {**os.environ, "STAGE": "before", "VERSION_FROM": version_from, "VERSION_TO": tag,
               "VERSION_PEP440_FROM": version_from.lstrip("v"), "VERSION_PEP440_TO": tag.lstrip("v")}
        result = subprocess.run([sys.executable, str(migrate), "before"], cwd=scratch, capture_output=True, text=True,
                                timeout=300, env=env, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise Declined(f"the release's migration failed on these answers: {result.stderr.strip()[-300:]}")
        return yaml.safe_load((scratch / ANSWERS).read_text(encoding="utf-8")) or {}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def render_release(src: str, tag: str, answers_text: str, manifest_text: str, version_from: str, out: str,
                   sample: str, files: list[str]) -> dict[str, Any]:
    """Render release `tag` of `src` for these answers into `out`; returns the AGENTS.md section and the files.
    `sample` is an unedited repository with these answers, `files` its foundation files."""
    from copier import run_copy

    checkout = release_checkout(src, tag)
    answers = _migrated_answers(checkout, answers_text, manifest_text, version_from, tag, Path(sample), files)
    target = Path(out)
    run_copy(src, str(target), user_defaults=_user_answers(answers), defaults=True, unsafe=True, vcs_ref=tag,
             quiet=True, overwrite=True)
    header = (checkout / "template" / f"{AGENTS}.jinja").read_text(encoding="utf-8").split(SECTION_PLACEHOLDER)[0]
    rendered_agents = (target / AGENTS).read_text(encoding="utf-8")
    if SECTION_PLACEHOLDER not in (checkout / "template" / f"{AGENTS}.jinja").read_text(encoding="utf-8") \
            or not rendered_agents.startswith(header):
        raise Declined("the release's AGENTS.md has no foundation section where this rollout expects it")
    files = sorted(path.relative_to(target).as_posix() for path in target.rglob("*")
                   if (path.is_file() or path.is_symlink()) and ".git" not in path.relative_to(target).parts)
    agents_digest = (json.loads(manifest_text or "{}") or {}).get("agents_section")
    return {"out": out, "checkout": str(checkout), "section": rendered_agents[len(header):], "files": files,
            "agents_digest": agents_digest}


_modules: dict[str, Any] = {}


def _load(path: Path, name: str) -> Any:
    """A module of the release's own code, by path, once per worker; its sibling imports (history, versions)
    come from its own folder."""
    if str(path) in _modules:
        return _modules[str(path)]
    saved_path = list(sys.path)
    for sibling in ("history", "versions"):
        sys.modules.pop(sibling, None)
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved_path
    _modules[str(path)] = module
    return module


def apply_release(render: dict[str, Any], clone: str, base_sha: str, old_files: dict[str, str],
                  old_version: str, src_line: str | None) -> dict[str, Any]:
    """Bring the clone (clean, on the release branch) to the render; run update.py's checks on the result."""
    out, repo = Path(render["out"]), Path(clone)
    new_manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    new_files = dict(new_manifest.get("files") or {})
    expected = set(new_files) | {ANSWERS, MANIFEST, *TEAM_OWNED}
    if set(render["files"]) != expected:
        odd = sorted(set(render["files"]) ^ expected)
        raise Declined(f"the release renders files its manifest does not account for: {', '.join(odd[:5])}")
    for path in sorted(set(new_files) - set(old_files)):
        if (repo / path).exists() or (repo / path).is_symlink():
            raise Declined(f"the release adds {path}, and the team already has a file there")
    for path in sorted(set(old_files) - set(new_files)):
        (repo / path).unlink()
        _prune_empty_parents(repo, (repo / path).parent)
    for path in sorted(set(new_files) | {ANSWERS, MANIFEST}):
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / path, target)
        shutil.copymode(out / path, target)
    if src_line is not None:  # --template: the team's recorded source stays in its answers
        answers = (repo / ANSWERS).read_text(encoding="utf-8").splitlines(keepends=True)
        (repo / ANSWERS).write_text("".join(src_line + "\n" if line.startswith("_src_path:") else line for line in answers),
                                    encoding="utf-8")
    checkout = Path(render["checkout"])
    section = render["section"]
    agents = (repo / AGENTS).read_text(encoding="utf-8")
    if section.rstrip("\n") not in agents:  # the refresh task's own condition (copier.yml)
        splice = _load(checkout / "src/agent_foundation/agents_md.py", "release_agents_md").splice
        takes_digest = len(inspect.signature(splice).parameters) > 2  # releases that keep a team's lines in the section
        spliced = splice(agents, section, render.get("agents_digest")) if takes_digest else splice(agents, section)
        text, note = spliced if isinstance(spliced, tuple) else (spliced, "")
        if note:
            raise Declined(note)
        (repo / AGENTS).write_text(text, encoding="utf-8")
    update = _load(out / ".claude/foundation/update.py", f"release_update_py_{out.name}")
    if not hasattr(update, "changelog_between"):
        raise Declined("the release's update.py does not offer changelog_between, which the fast path runs after the render")
    problems, warnings = _release_checks(checkout, update, repo, base_sha)
    if problems:
        raise Declined("the release's checks found problems: " + "; ".join(problems[:3]))
    changelog_file = repo / ".claude/foundation/CHANGELOG.md"
    changes = update.changelog_between(changelog_file.read_text(encoding="utf-8") if changelog_file.is_file() else "",
                                       old_version, str(new_manifest.get("template_version") or ""))
    return {"to_version": str(new_manifest.get("template_version") or "") or None, "warnings": warnings,
            "changelog": changes}


def _release_checks(checkout: Path, update: Any, repo: Path, base_sha: str) -> tuple[list[str], list[str]]:
    """(problems, warnings) from the release's own after-update checks: its migrations' (they run inside Copier's
    update since the update's safety moved into the template), or, for older releases, its update.py's."""
    migrate_file = checkout / "src/agent_foundation/migrate.py"
    migrate = _load(migrate_file, f"release_migrate_{checkout.name}") if migrate_file.is_file() else None
    if migrate is not None and hasattr(migrate, "update_problems"):
        problems, _, kept = migrate.update_problems(repo)
        return problems, [f"kept as you have it, and flagged by the posture check: {k}" for k in kept]
    if not all(hasattr(update, name) for name in ("problems_after_update", "tolerated")):
        raise Declined("the release offers no after-update checks the fast path can run (migrate.update_problems, "
                       "or update.py's problems_after_update and tolerated)")
    findings: list[Any] = []
    problems = update.problems_after_update(repo, base_sha, findings)
    return problems, [f"kept as you have it, and flagged by the posture check: {f.file}: {f.message}"
                      for f in findings if update.tolerated(f)]


def _prune_empty_parents(repo: Path, folder: Path) -> None:
    while folder != repo and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _warm() -> None:
    """A worker's start: Copier imported once (not per render); its output kept off the rollout's stdout,
    which may be carrying the JSON report (errors come back as exceptions)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    import copier  # noqa: F401


# ---------------------------------------------------------------- in the rollout process


class FastPath:
    """The worker processes and the renders of one run, each distinct render made once."""

    def __init__(self, workers: int, scratch: Path):
        self.scratch = scratch
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_warm)
        self._renders: dict[str, Future[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def render(self, src: str, tag: str, answers_text: str, manifest_text: str, version_from: str, sample: Path,
               files: dict[str, str]) -> dict[str, Any]:
        """The release rendered for these answers: made once, by the first repository that asks (its clone is
        the sample the migration runs on); the others with the same answers wait for it."""
        key = hashlib.sha256(json.dumps([src, tag, answers_text, manifest_text, version_from]).encode()).hexdigest()[:20]
        with self._lock:
            future = self._renders.get(key)
            if future is None:
                out = self.scratch / key
                shutil.rmtree(out, ignore_errors=True)
                future = self._pool.submit(render_release, src, tag, answers_text, manifest_text, version_from, str(out),
                                           str(sample), sorted(files))
                self._renders[key] = future
        return future.result()

    def apply(self, render: dict[str, Any], clone: Path, base_sha: str, old_files: dict[str, str], old_version: str,
              src_line: str | None) -> dict[str, Any]:
        return self._pool.submit(apply_release, render, str(clone), base_sha, old_files, old_version, src_line).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.scratch, ignore_errors=True)
