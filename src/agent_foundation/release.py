"""`agent-foundation release VERSION`: cut a template release.

Checks first, changes nothing until all pass: VERSION is X.Y.Z (a leading v is accepted) and greater than
every existing vX.Y.Z tag, the working tree is clean, CHANGELOG.md has entries under Unreleased, and the
registry check passes (against the last release tag, with the marketplace manifest regenerated). Then it moves
Unreleased under `## [X.Y.Z] - <today>`, regenerates .claude-plugin/marketplace.json, commits both and creates
the annotated tag vX.Y.Z (Copier offers teams the highest PEP 440 tag). It never pushes.
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import changelog, marketplace, registry
from .foundation import FoundationError, load_foundation


class ReleaseRefused(Exception):
    """The release cannot be made; nothing was changed."""

    exit_code = 1


class ReleaseMisused(ReleaseRefused):
    """The command line asks for what cannot be: a malformed or too low version, no --yes without a terminal."""

    exit_code = 2


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return registry.git(root, *args, check=False)


def release(root: Path, version: str, *, yes: bool = False, today: datetime.date | None = None) -> str:
    root = Path(root)
    parsed = registry.parse_version(version)
    if parsed is None:
        raise ReleaseMisused(f"{version!r} is not a semantic version: give MAJOR.MINOR.PATCH, e.g. 1.4.0")
    version = ".".join(map(str, parsed))
    tag = f"v{version}"
    if _git(root, "rev-parse", "--is-inside-work-tree").returncode != 0:
        raise ReleaseRefused(f"{root} is not a git repository")
    status = _git(root, "status", "--porcelain", "--untracked-files=all")
    if status.stdout.strip():
        dirty = [line for line in status.stdout.splitlines() if line.strip()]
        shown = "\n".join(f"  {line}" for line in dirty[:10]) + ("\n  ..." if len(dirty) > 10 else "")
        raise ReleaseRefused(f"the working tree is not clean; commit or remove these first:\n{shown}")
    tags = registry.release_tags(root)
    if tags and parsed <= tags[-1][0]:
        raise ReleaseMisused(f"{tag} is not greater than the last release {tags[-1][1]}; choose a higher version")
    previous = tags[-1][1] if tags else None

    text = changelog.read(root)
    if not changelog.unreleased_body(text):
        raise ReleaseRefused("CHANGELOG.md has nothing under ## [Unreleased]; describe the release there first")
    try:
        foundation = load_foundation(root / "foundation")
    except FoundationError as error:
        raise ReleaseRefused(f"the registry check failed:\n{error}") from None
    problems = registry.check(root, tag=registry.last_release_tag(root, merged=True), marketplace=False)
    if problems:
        lines = "\n".join(f"  - {p.file}: {p.field}: {p.message} (fix: {p.fix})" for p in problems)
        raise ReleaseRefused(f"the registry check found {len(problems)} problem(s):\n{lines}")

    if not yes:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise ReleaseMisused(f"about to commit and tag {tag}: pass --yes to confirm without a terminal")
        import questionary

        if not questionary.confirm(f"Release {tag} (previous: {previous or 'none'})?", default=True).ask():
            raise ReleaseRefused("cancelled; nothing changed")

    date = (today or datetime.date.today()).isoformat()
    changelog_path = root / changelog.CHANGELOG_FILE
    changelog_before = changelog_path.read_text(encoding="utf-8") if changelog_path.is_file() else None
    marketplace_path = root / marketplace.MARKETPLACE_FILE
    marketplace_before = marketplace_path.read_text(encoding="utf-8") if marketplace_path.is_file() else None
    try:
        changelog_path.write_text(changelog.release(text, version, date, previous), encoding="utf-8")
        marketplace.write(root, foundation)
        for args in (
            ("add", "--", changelog.CHANGELOG_FILE, marketplace.MARKETPLACE_FILE),
            ("-c", "user.name=agent-foundation", "-c", "user.email=agent-foundation@localhost", "commit", "-q", "-m", f"release: {tag}")
            if not _has_identity(root) else ("commit", "-q", "-m", f"release: {tag}"),
            ("tag", "-a", tag, "-m", f"agent-foundation {tag}"),
        ):
            result = _git(root, *args)
            if result.returncode != 0:
                raise ReleaseRefused(f"git {' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")
    except BaseException:
        _undo(root, tag, changelog_path, changelog_before, marketplace_path, marketplace_before)
        raise
    return tag


def _has_identity(root: Path) -> bool:
    return bool(_git(root, "config", "user.email").stdout.strip())


def _undo(root: Path, tag: str, changelog_path: Path, changelog_before: str | None, marketplace_path: Path, marketplace_before: str | None) -> None:
    if _git(root, "rev-parse", "-q", "--verify", f"refs/tags/{tag}").returncode == 0:
        _git(root, "tag", "-d", tag)
    head = _git(root, "log", "-1", "--format=%s").stdout.strip()
    if head == f"release: {tag}":
        _git(root, "reset", "-q", "--soft", "HEAD~1")
    _git(root, "reset", "-q", "--", changelog.CHANGELOG_FILE, marketplace.MARKETPLACE_FILE)
    for path, before in ((changelog_path, changelog_before), (marketplace_path, marketplace_before)):
        if before is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(before, encoding="utf-8")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("release", help="release a new template version")
    parser.add_argument("version", help="the new version, MAJOR.MINOR.PATCH (greater than the last tag)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        tag = release(Path(args.root), args.version, yes=args.yes)
    except ReleaseRefused as refusal:
        print(f"release: refused: {refusal}", file=sys.stderr)
        print("release: nothing was changed", file=sys.stderr)
        return refusal.exit_code
    print(f"release: committed and tagged {tag}")
    print(f"Next: git push origin HEAD {tag}   (teams then run python3 .claude/foundation/update.py)")
    return 0
