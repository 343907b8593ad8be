"""Foundation versions: which release a team is on, the latest release, how far behind a team is."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

# v1.2.3, 1.2.3, and `git describe` forms such as v1.2.3-4-gabc1234 (4 commits past v1.2.3: unreleased)
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-(\d+)-g[0-9a-f]+)?$")
_STRICT = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


def parse(version: str | None) -> tuple[int, int, int] | None:
    """The (major, minor, patch) of a release tag or describe string; None for a bare commit or nonsense."""
    match = _VERSION.match(str(version or "").strip())
    return (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None


def is_release(version: str | None) -> bool:
    return bool(_STRICT.match(str(version or "").strip()))


def sort_key(version: str | None) -> tuple:
    """Releases in semantic order, then everything else alphabetically."""
    parsed = parse(version)
    return (0, parsed, str(version)) if parsed else (1, (0, 0, 0), str(version))


def release_tags(root: Path) -> list[str]:
    """Every semantic-version tag of the template checkout, oldest first; empty when it has none."""
    try:
        result = subprocess.run(["git", "-C", str(root), "tag", "--list"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if result.returncode != 0:
        return []
    tags = [tag.strip() for tag in result.stdout.splitlines() if is_release(tag.strip())]
    return sorted(tags, key=sort_key)


def latest_release(root: Path, override: str | None = None) -> tuple[str | None, list[str]]:
    """(the latest release, every known release oldest first): --latest wins, else the highest tag."""
    tags = release_tags(root)
    if override:
        if not is_release(override):
            raise ValueError(f"--latest {override!r} is not a release version; write it like v1.4.0")
        if override not in tags:
            tags = sorted([*tags, override], key=sort_key)
        # releases above an explicit --latest do not count (e.g. a tag pushed but not yet announced)
        tags = [tag for tag in tags if parse(tag) <= parse(override)]
        return override, tags
    return (tags[-1] if tags else None), tags


def releases_behind(version: str | None, releases: list[str]) -> int | None:
    """How many known releases are newer than `version`; None when the version is not a release."""
    mine = parse(version)
    if mine is None or not releases:
        return None
    return sum(1 for tag in releases if parse(tag) > mine)
