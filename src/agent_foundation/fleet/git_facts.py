"""Dates from a team repository's git history, and its HEAD: what adoption lag and onboarding time are made of.

- first commit: when the repository started;
- rendered: the first commit that added the foundation's manifest (the foundation's first render);
- took: for each release, the first commit whose manifest records it (the day the repository took it).

Read with two `git log` calls per repository, never changing it. A shallow clone (the fleet's own cache of a
git URL) has no history to read: its dates are null, and the report counts how many repositories had dates.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from .. import versions

MANIFEST = ".claude/foundation/manifest.json"
GIT_TIMEOUT_SECONDS = 60
_VERSION_LINE = re.compile(r'^\+\s*"template_version":\s*"([^"]*)"', re.M)


def iso(stamp: int | float) -> str:
    return datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).isoformat(timespec="seconds")


def parse_iso(text: str) -> float:
    return datetime.datetime.fromisoformat(text).timestamp()


def git_dir(repo: Path) -> Path | None:
    """The repository's git folder (a `.git` folder, or the folder a `.git` file points to), or None."""
    dot_git = repo / ".git"
    try:
        if dot_git.is_dir() and not dot_git.is_symlink():
            return dot_git
        if dot_git.is_file() and not dot_git.is_symlink():
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text.removeprefix("gitdir:").strip())
                target = target if target.is_absolute() else repo / target
                return target if target.is_dir() else None
    except OSError:
        return None
    return None


def head(repo: Path) -> str | None:
    """The commit HEAD points at, read from the git folder's files (no process started); None when unknown."""
    folder = git_dir(repo)
    if folder is None:
        return None
    try:
        text = (folder / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
        if not text.startswith("ref:"):
            return text or None
        ref = text.removeprefix("ref:").strip()
        common = folder
        commondir = folder / "commondir"
        if commondir.is_file():  # a linked worktree keeps its branches in the main git folder
            common = (folder / commondir.read_text(encoding="utf-8").strip()).resolve()
        for base in (folder, common):
            loose = base / ref
            if loose.is_file():
                return loose.read_text(encoding="utf-8", errors="replace").strip() or None
        packed = common / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8", errors="replace").splitlines():
                sha, _, name = line.partition(" ")
                if name.strip() == ref:
                    return sha
        return f"unborn:{ref}"
    except OSError:
        return None


def _git(repo: Path, *args: str) -> str | None:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=GIT_TIMEOUT_SECONDS, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.decode("utf-8", "replace") if result.returncode == 0 else None


def dates(repo: Path) -> dict[str, Any] | None:
    """{first_commit, rendered, onboarding_days, took: {release: time}} from git history; None without git."""
    folder = git_dir(repo)
    if folder is None:
        return None
    if (folder / "shallow").exists():
        return {"first_commit": None, "rendered": None, "onboarding_days": None, "took": {}, "shallow": True}
    roots = _git(repo, "log", "--max-parents=0", "--format=%ct", "HEAD")
    first = min((int(line) for line in (roots or "").split() if line.isdigit()), default=None)
    log = _git(repo, "log", "--reverse", "--format=@%ct", "-p", "--unified=0", "--no-color", "--no-ext-diff", "--", MANIFEST)
    rendered: int | None = None
    took: dict[str, int] = {}
    when = None
    for line in (log or "").splitlines():
        if line.startswith("@") and line[1:].isdigit():
            when = int(line[1:])
            if rendered is None:
                rendered = when
            continue
        match = _VERSION_LINE.match(line)
        if match and when is not None:
            release = versions.release_of(match.group(1))
            if release != versions.UNRELEASED and release not in took:
                took[release] = when
    onboarding = round((rendered - first) / 86400, 2) if rendered is not None and first is not None else None
    return {"first_commit": iso(first) if first is not None else None, "rendered": iso(rendered) if rendered is not None else None,
            "onboarding_days": onboarding, "took": {release: iso(stamp) for release, stamp in took.items()}, "shallow": False}
