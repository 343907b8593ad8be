"""Git helpers shared by update.py and the template's migrations (standard library only).

The foundation's files are rendered, committed, and recorded by hash in manifest.json; so the exact content
the foundation rendered last time (before any hand edit) can always be found in git history by its hash.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

MANIFEST = Path(".claude/foundation/manifest.json")
HISTORY_DEPTH = 200  # commits searched for a file's rendered content


class GitError(RuntimeError):
    pass


def git(repo: Path, *args: str, check: bool = True, input: bytes | None = None) -> bytes:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, input=input, timeout=120)
    if check and result.returncode != 0:
        raise GitError(f"git {' '.join(args)} failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def sha256(content: bytes) -> str:
    """As manifest.json records it: with LF line endings, so a CRLF checkout (core.autocrlf) is not an edit."""
    return hashlib.sha256(content.replace(b"\r\n", b"\n")).hexdigest()


def read_manifest(repo: Path) -> dict[str, Any]:
    try:
        return json.loads((repo / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def rendered_content(repo: Path, path: str, digest: str) -> bytes | None:
    """The content of `path` whose sha256 is `digest`, from the working tree or git history; None if absent."""
    current = repo / path
    if current.is_file() and sha256(current.read_bytes()) == digest:
        return current.read_bytes()
    commits = git(repo, "log", f"-{HISTORY_DEPTH}", "--format=%H", "--", path, check=False).decode().split()
    for commit in commits:
        blob = git(repo, "show", f"{commit}:{path}", check=False)
        if blob and sha256(blob) == digest:
            return blob
    return None


def edited_foundation_files(repo: Path, manifest: dict[str, Any]) -> list[str]:
    """Foundation-owned files whose content differs from what the foundation rendered."""
    edited = []
    for path, digest in (manifest.get("files") or {}).items():
        file = repo / path
        if file.is_file() and sha256(file.read_bytes()) != digest:
            edited.append(path)
    return edited
