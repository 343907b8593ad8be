"""Render team repositories from this template inside tests, the way a team would."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from copier import run_copy

from agent_foundation.demo import copy_checkout

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
CANONICAL_ANSWERS = TEMPLATE_ROOT / "tests" / "canonical-answers.yml"


def canonical_answers() -> dict[str, Any]:
    """The answers file that drives the tests (and the README's demo)."""
    return yaml.safe_load(CANONICAL_ANSWERS.read_text(encoding="utf-8"))


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=repo, capture_output=True, text=True, check=True,
    )
    return result.stdout


def commit_all(repo: Path, message: str = "commit") -> None:
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


def copy_template(dst: Path, tag: str | None = "v0.1.0") -> Path:
    """A throwaway git repository of this checkout's tracked and untracked (not ignored) files, committed and
    tagged: what tests break, release or promote into, never this repository itself."""
    copy_checkout(TEMPLATE_ROOT, dst)
    commit_all(dst, "agent-foundation")
    if tag:
        git(dst, "tag", "-a", tag, "-m", tag)
    return dst


def render_team(dst: Path, answers: dict[str, Any] | None = None, *, template: Path | str = TEMPLATE_ROOT,
                vcs_ref: str | None = "HEAD", commit: bool = True, **kwargs: Any) -> Path:
    """copier copy --trust --defaults with the canonical answers overridden by `answers`; returns dst."""
    data = {**canonical_answers(), **(answers or {})}
    run_copy(str(template), str(dst), data=data, defaults=True, unsafe=True, vcs_ref=vcs_ref, quiet=True, **kwargs)
    if commit:
        commit_all(dst, "render the foundation")
    return dst
