"""Put the foundation's section into AGENTS.md, beside the team's own text.

    python agents_md.py SECTION      (cwd: the team repository; run by Copier's task, from the template)

AGENTS.md belongs to the team; the foundation owns only the part between its two markers, which this script
replaces (or appends, the first time). Nothing of the team's is ever dropped: with a marker missing or
doubled the file is left as it is and the problem named; lines the team wrote inside the section are kept
just below it, and named. It runs from the template checkout, so team repositories carry no Copier-only
code; Copier runs it only when the section is out of date, and it is idempotent. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

AGENTS_FILE = Path("AGENTS.md")
MANIFEST = ".claude/foundation/manifest.json"
BEGIN_PREFIX = "<!-- agent-foundation:begin"
KEPT_HEADING = ("<!-- Kept by the agent-foundation update: lines you wrote inside the foundation's section, which "
                "the update replaces. Keep what is yours here, outside the markers; delete the rest. -->")


def section_digest(section: str) -> str:
    """What manifest.json records of the section it rendered, to tell a team's edit inside it."""
    return hashlib.sha256(section.strip("\n").replace("\r\n", "\n").encode("utf-8")).hexdigest()


def _markers(section: str) -> tuple[str, str]:
    lines = section.rstrip("\n").splitlines()
    return lines[0].split("(")[0].rstrip(), lines[-1]


def marker_problem(team_text: str, section: str) -> str:
    """Why the section cannot be replaced safely (a marker missing, doubled or out of order); empty if it can."""
    begin_marker, end_marker = _markers(section)
    begins, ends = team_text.count(begin_marker), team_text.count(end_marker)
    if begins == ends == 0:
        return ""
    if begins == 1 and ends == 1 and team_text.find(begin_marker) < team_text.find(end_marker):
        return ""
    return (f"AGENTS.md has {begins} begin and {ends} end marker(s) of the foundation's section (it needs exactly one of "
            f"each, begin first), so the section was not refreshed and nothing in the file was changed. Keep one "
            f"section between `{begin_marker} ...` and `{end_marker}` (put back a deleted marker line, or delete the "
            "extra copy), commit, and update again")


def splice(team_text: str, section: str, old_digest: str | None = None) -> tuple[str, str]:
    """(team_text with the foundation's section replaced or appended, a note for the team or "").

    `old_digest` is the section the foundation rendered last time; a section that differs from it was edited
    by the team, and the lines it has that the new section lacks are kept just below the section."""
    problem = marker_problem(team_text, section)
    if problem:
        return team_text, problem
    begin_marker, end_marker = _markers(section)
    begin = team_text.find(begin_marker)
    if begin < 0:
        separator = "" if not team_text or team_text.endswith("\n\n") else ("\n" if team_text.endswith("\n") else "\n\n")
        return team_text + separator + section, ""
    end = team_text.find(end_marker, begin) + len(end_marker)
    current = team_text[begin:end]
    if not old_digest or section_digest(current) == old_digest:
        return team_text[:begin] + section.rstrip("\n") + team_text[end:], ""
    theirs = [line for line in current.splitlines() if line.strip() and line not in section.splitlines()
              and not line.startswith(begin_marker)]
    if not theirs:
        return (team_text[:begin] + section.rstrip("\n") + team_text[end:],
                "AGENTS.md: lines removed from the foundation's section are back (edit outside the markers instead)")
    kept = "\n\n" + KEPT_HEADING + "\n" + "\n".join(theirs) + "\n"
    rest = team_text[end:]
    return (team_text[:begin] + section.rstrip("\n") + kept + ("\n" + rest.lstrip("\n") if rest.strip() else ""),
            f"AGENTS.md: {len(theirs)} line(s) you wrote inside the foundation's section are kept just below it, "
            "outside the markers (the section itself is the foundation's and was replaced)")


def last_rendered_digest(root: Path) -> str | None:
    """The section digest of the last render, from the committed manifest (the update has not been committed)."""
    shown = subprocess.run(["git", "show", f"HEAD:{MANIFEST}"], cwd=root, capture_output=True, timeout=60)
    try:
        return json.loads(shown.stdout).get("agents_section") if shown.returncode == 0 else None
    except ValueError:
        return None


def tell(root: Path, note: str) -> None:
    """Print the note, and add it to this Copier run's update report (see migrate.py) when in a git repository."""
    print(f"agent-foundation: {note}", file=sys.stderr)
    found = subprocess.run(["git", "rev-parse", "--git-path", "agent-foundation"], cwd=root, capture_output=True, text=True, timeout=60)
    if found.returncode != 0:
        return
    folder = (root / found.stdout.strip()).resolve()
    path = folder / "update-report.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = None
    if not isinstance(report, dict) or report.get("copier_pid") != os.getppid():
        report = {"copier_pid": os.getppid(), "notes": [], "answers": {}, "problems": [], "fix": ""}
    report["notes"].append({"kind": "kept", "text": note})
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def main(root: Path, section: str) -> int:
    agents = root / AGENTS_FILE
    current = agents.read_text(encoding="utf-8") if agents.exists() else ""
    updated, note = splice(current, section, last_rendered_digest(root) if current else None)
    if updated != current:
        agents.write_text(updated, encoding="utf-8")
    if note:
        tell(root, note)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].strip():
        sys.exit("usage: agents_md.py SECTION (the foundation's section of AGENTS.md)")
    sys.exit(main(Path.cwd(), sys.argv[1]))
