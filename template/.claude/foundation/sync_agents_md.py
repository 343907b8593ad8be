"""Put the foundation's section into AGENTS.md, beside the team's own text.

AGENTS.md belongs to the team; the foundation owns only the part between its two markers, which this script
replaces (or appends, the first time). Run by Copier after every copy and update; safe to run any number of
times. Standard library only.
"""

from __future__ import annotations

import sys
from pathlib import Path

SECTION_FILE = Path(".claude/foundation/agents-section.md")
AGENTS_FILE = Path("AGENTS.md")


def splice(team_text: str, section: str) -> str:
    """team_text with the foundation's section replaced, or appended after the team's text."""
    begin_marker, end_marker = section.splitlines()[0], section.rstrip("\n").splitlines()[-1]
    begin = team_text.find(begin_marker.split("(")[0])
    end = team_text.find(end_marker, begin + 1) if begin >= 0 else -1
    if begin >= 0 and end >= 0:
        return team_text[:begin] + section.rstrip("\n") + team_text[end + len(end_marker):]
    separator = "" if not team_text or team_text.endswith("\n\n") else ("\n" if team_text.endswith("\n") else "\n\n")
    return team_text + separator + section


def main(root: Path) -> int:
    section = (root / SECTION_FILE).read_text(encoding="utf-8")
    agents = root / AGENTS_FILE
    current = agents.read_text(encoding="utf-8") if agents.exists() else ""
    updated = splice(current, section)
    if updated != current:
        agents.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path.cwd()))
