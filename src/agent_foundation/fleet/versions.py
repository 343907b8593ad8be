"""The template's releases: its release tags (with their dates) and the latest one.

Comparing versions is `agent_foundation.versions` (shared with update.py in every team repository).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..versions import canonical, is_release, key


def release_tags(root: Path) -> list[str]:
    """Every release of the template checkout (canonical names, oldest first); empty when it has none."""
    return list(release_dates(root))


def release_dates(root: Path) -> dict[str, int]:
    """release (canonical, e.g. 0.2.0) -> the unix time its tag was made, oldest release first."""
    try:
        result = subprocess.run(["git", "-C", str(root), "for-each-ref", "--format=%(refname:short) %(creatordate:unix)",
                                 "refs/tags"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if result.returncode != 0:
        return {}
    dates: dict[str, int] = {}
    for line in result.stdout.splitlines():
        name, _, when = line.strip().rpartition(" ")
        if is_release(name):
            release = canonical(name)
            stamp = int(when) if when.isdigit() else 0
            dates[release] = min(dates.get(release, stamp), stamp)  # v0.2.0 and 0.2.0 both tagged: the first
    return dict(sorted(dates.items(), key=lambda item: key(item[0])))


def latest_release(root: Path, override: str | None = None) -> tuple[str | None, list[str]]:
    """(the latest release, every known release oldest first), canonical names: --latest wins, else the highest tag."""
    tags = release_tags(root)
    if override:
        if not is_release(override):
            raise ValueError(f"--latest {override!r} is not a release version; write it like v1.4.0")
        latest = canonical(override)
        if latest not in tags:
            tags = sorted([*tags, latest], key=key)
        # releases above an explicit --latest do not count (e.g. a tag pushed but not yet announced)
        return latest, [tag for tag in tags if key(tag) <= key(latest)]
    return (tags[-1] if tags else None), tags
