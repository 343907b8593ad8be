"""Keep a Changelog editing shared by `promote` (adds Unreleased entries) and `release` (dates them)."""

from __future__ import annotations

import re
from pathlib import Path

CHANGELOG_FILE = "CHANGELOG.md"
SECTIONS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
HEADER = (
    "# Changelog\n\n"
    "All notable changes to this project are documented in this file.\n\n"
    "The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),\n"
    "and this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).\n\n"
)
UNRELEASED = re.compile(r"^## \[Unreleased\][^\n]*\n", re.M | re.I)
RELEASE_HEADING = re.compile(r"^## \[", re.M)
LINK_LINE = re.compile(r"^\[[^\]]+\]: \S+", re.M)


def read(root: Path) -> str:
    path = Path(root) / CHANGELOG_FILE
    return path.read_text(encoding="utf-8") if path.is_file() else HEADER


def _unreleased_span(text: str) -> tuple[int, int] | None:
    """(start of the body, end of the body) of the Unreleased section, or None."""
    match = UNRELEASED.search(text)
    if not match:
        return None
    start = match.end()
    following = [m.start() for m in (RELEASE_HEADING.search(text, start), LINK_LINE.search(text, start)) if m]
    return start, min(following) if following else len(text)


def with_unreleased(text: str) -> str:
    """The text with an `## [Unreleased]` section (inserted before the first release, or at the end)."""
    if UNRELEASED.search(text):
        return text
    first = RELEASE_HEADING.search(text) or LINK_LINE.search(text)
    section = "## [Unreleased]\n\n"
    if first:
        return text[: first.start()] + section + text[first.start() :]
    return text.rstrip("\n") + "\n\n" + section


def add_entry(text: str, section: str, line: str) -> str:
    """Add `- line` under `### section` of Unreleased, creating either heading if needed."""
    assert section in SECTIONS
    text = with_unreleased(text)
    start, end = _unreleased_span(text)  # type: ignore[misc]
    body = text[start:end]
    bullet = f"- {line}\n"
    heading = re.search(rf"^### {section}[ \t]*\n", body, re.M)
    if heading:
        nxt = re.search(r"^(### |## )", body[heading.end():], re.M)
        insert_at = heading.end() + (nxt.start() if nxt else len(body) - heading.end())
        block = body[heading.end():insert_at].rstrip("\n")
        new_block = (block + "\n" if block.strip() else "") + bullet + "\n"
        body = body[: heading.end()] + new_block + body[insert_at:].lstrip("\n")
    else:
        # keep the Keep a Changelog order of the sub-sections
        later = [m for m in re.finditer(r"^### (\w+)", body, re.M) if m.group(1) in SECTIONS and SECTIONS.index(m.group(1)) > SECTIONS.index(section)]
        new = f"### {section}\n\n{bullet}\n"
        if later:
            body = body[: later[0].start()] + new + body[later[0].start():]
        else:
            body = body.rstrip("\n") + ("\n\n" if body.strip() else "\n") + new
    body = body.rstrip("\n") + ("\n\n" if end < len(text) else "\n")
    return text[:start] + body + text[end:]


def unreleased_body(text: str) -> str:
    span = _unreleased_span(text)
    return text[span[0]:span[1]].strip() if span else ""


def release(text: str, version: str, date: str, previous_tag: str | None) -> str:
    """Move Unreleased under `## [version] - date`, leaving an empty Unreleased above it; update compare links."""
    start, end = _unreleased_span(text)  # type: ignore[misc]
    body = text[start:end].strip("\n")
    rest = text[end:].lstrip("\n")
    text = text[:start] + f"\n## [{version}] - {date}\n\n{body}\n" + ("\n" + rest if rest else "")
    link = re.search(r"^\[Unreleased\]: (?P<base>\S+)/compare/(?P<prev>\S+)\.\.\.HEAD$", text, re.M | re.I)
    if link:
        base = link.group("base")
        new_links = f"[Unreleased]: {base}/compare/v{version}...HEAD\n[{version}]: {base}/compare/{link.group('prev')}...v{version}"
        text = text[: link.start()] + new_links + text[link.end():]
    return text
