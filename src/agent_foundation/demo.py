"""`agent-foundation demo [DIR]`: the version flow of a real platform team, in a throwaway folder.

1. The platform team's repository: a copy of this checkout (its files as they are, committed in a new git
   repository, so the checkout's own history, tags and state never matter).
2. The platform team releases what is under Unreleased, as the next minor version after every release the
   checkout knows (its tags and its CHANGELOG), with `agent-foundation release`.
3. A team renders its repository from that release, exactly as a team does: `copier copy --trust --defaults`
   with no --vcs-ref, so Copier takes the latest release.
4. The platform team changes an org rule, notes it in the CHANGELOG and releases again.
5. The team takes the new release with its own `python3 .claude/foundation/update.py`, and commits it.

Nothing outside DIR is touched.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import changelog, registry, release

PLATFORM_REPO = "agent-foundation"
TEAM_REPO = "demo-team"
DEMO_RULE = "- Say which tests you ran and which you did not, in every summary of your work."
IDENTITY = ("-c", "user.name=agent-foundation demo", "-c", "user.email=demo@localhost")
SKIPPED = ("node_modules/", ".venv/")
CHANGELOG_VERSION = re.compile(r"^## \[v?(\d+\.\d+\.\d+)\]", re.M)


class DemoFailed(Exception):
    """A step of the demo failed; the message says which and why."""


def copy_checkout(root: Path, dst: Path, *, exclude: tuple[Path, ...] = ()) -> None:
    """The checkout's tracked and untracked, not ignored, files (what a commit of it would hold), copied to dst."""
    listing = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root, capture_output=True,
                             check=True, timeout=60).stdout.decode().split("\0")
    excluded = [path.resolve() for path in exclude]
    for relative in filter(None, listing):
        source = root / relative
        if not (source.is_file() or source.is_symlink()) or relative.startswith(SKIPPED):
            continue
        if any(source.resolve().is_relative_to(folder) for folder in excluded):
            continue
        target = dst / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():  # a link in the template (Codex's .agents/skills) stays a link
            os.symlink(os.readlink(source), target)
        else:
            shutil.copy2(source, target)


def next_release(root: Path) -> str:
    """The next minor version after every release the checkout knows: its vX.Y.Z tags and its CHANGELOG."""
    known = [version for version, _ in registry.release_tags(root)]
    known += [registry.parse_version(v) for v in CHANGELOG_VERSION.findall(changelog.read(root))]
    major, minor, _ = max((v for v in known if v), default=(0, 0, 0))
    return f"{major}.{minor + 1}.0"


def _run(command: list[str], cwd: Path, *, env: dict[str, str] | None = None, show: bool = True) -> str:
    if show:
        print(f"$ {' '.join(command)}", flush=True)
    result = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=not show, text=True,
                            timeout=600)
    if result.returncode != 0:
        raise DemoFailed(f"`{' '.join(command)}` failed in {cwd} (exit {result.returncode}) {result.stderr or ''}".strip())
    return result.stdout or ""


def _git(repo: Path, *args: str) -> None:
    _run(["git", *IDENTITY, *args], repo, show=False)


def _release(platform: Path, version: str) -> str:
    print(f"$ agent-foundation release {version} --yes", flush=True)
    try:
        tag = release.release(platform, version, yes=True)
    except release.ReleaseRefused as refusal:
        raise DemoFailed(f"the release of {version} was refused: {refusal}") from None
    print(f"platform team: released {tag}")
    return tag


def _heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


def demo(root: Path, folder: Path) -> dict[str, Any]:
    folder = folder.resolve()
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} exists and is not empty; remove it or give another folder")
    platform, team = folder / PLATFORM_REPO, folder / TEAM_REPO
    tools = Path(sys.executable).parent  # this environment's copier, found by update.py on PATH like a team's
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"}

    _heading(f"The platform team's repository: {platform}")
    copy_checkout(root, platform, exclude=(folder,))
    _git(platform, "init", "-q", "-b", "main")
    _git(platform, "add", "-A")
    _git(platform, "commit", "-q", "-m", "agent-foundation, as in the checkout")
    first = next_release(root)
    if not changelog.unreleased_body(changelog.read(platform)):
        (platform / changelog.CHANGELOG_FILE).write_text(
            changelog.add_entry(changelog.read(platform), "Changed", "Demo release of the checkout as it is."), encoding="utf-8")
        _git(platform, "commit", "-q", "-am", "CHANGELOG: demo release")
    first_tag = _release(platform, first)

    _heading(f"A team renders its repository from the latest release ({first_tag}): {team}")
    _run([str(tools / "copier"), "copy", "--trust", "--defaults", "--quiet", str(platform), str(team)], folder, env=env)
    _git(team, "init", "-q", "-b", "main")
    _git(team, "add", "-A")
    _git(team, "commit", "-q", "-m", f"Render agent-foundation {first_tag}")
    print(f"team: rendered from {first_tag}")

    major, minor, _ = registry.parse_version(first)  # type: ignore[misc]
    second = f"{major}.{minor + 1}.0"
    _heading(f"The platform team adds an org rule and releases {second}")
    rules = platform / "foundation/org-rules.md"
    rules.write_text(rules.read_text(encoding="utf-8").replace("\n## Security", f"{DEMO_RULE}\n\n## Security", 1),
                     encoding="utf-8")
    (platform / changelog.CHANGELOG_FILE).write_text(
        changelog.add_entry(changelog.read(platform), "Changed", f"Org rules: \"{DEMO_RULE[2:]}\""), encoding="utf-8")
    _git(platform, "commit", "-q", "-am", "Org rules: say which tests ran")
    second_tag = _release(platform, second)

    _heading(f"The team takes {second_tag} with its own update command")
    _run(["python3", ".claude/foundation/update.py"], team, env=env)
    _git(team, "add", "-A")
    _git(team, "commit", "-q", "-m", f"Take agent-foundation {second_tag}")
    return {"platform": platform, "team": team, "first": first_tag, "second": second_tag}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="try the version flow in a folder: release, render a team, release again, update the team",
        description=__doc__.split("\n\n", 1)[1].split("\n\nNothing", 1)[0])
    parser.add_argument("folder", nargs="?", type=Path, default=Path("demo"), help="an empty or new folder (default: ./demo)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        done = demo(Path(args.root), args.folder)
    except FileExistsError as error:
        print(f"agent-foundation demo: {error}", file=sys.stderr)
        return 2
    except DemoFailed as failure:
        print(f"agent-foundation demo: {failure}", file=sys.stderr)
        return 1
    platform, team = done["platform"], done["team"]
    print(f"""
Done. {platform}: the platform team's repository, released {done['first']} and {done['second']}.
      {team}: a team repository rendered from {done['first']} and updated to {done['second']}.
Try:
  cd {team} && python3 .claude/foundation/check.py && git log --oneline
  agent-foundation --root {platform} fleet {team}""")
    return 0
