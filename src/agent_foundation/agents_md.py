"""Put the foundation's section into AGENTS.md, beside the team's own text.

    python agents_md.py SECTION      (cwd: the team repository; run by Copier's task, from the template)

AGENTS.md belongs to the team; the foundation owns only the part between its two markers, which this script
replaces (or appends, the first time). It runs from the template checkout, so team repositories carry no
Copier-only code; Copier runs it only when the section is out of date, and it is idempotent. Standard
library only.
"""

from __future__ import annotations

import sys
from pathlib import Path

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


def main(root: Path, section: str) -> int:
    agents = root / AGENTS_FILE
    current = agents.read_text(encoding="utf-8") if agents.exists() else ""
    updated = splice(current, section)
    if updated != current:
        agents.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].strip():
        sys.exit("usage: agents_md.py SECTION (the foundation's section of AGENTS.md)")
    sys.exit(main(Path.cwd(), sys.argv[1]))
