"""Throwaway copies of this checkout for registry, promotion and release tests (never tag /work/main itself)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.rendering import TEMPLATE_ROOT, git

CLI_TIMEOUT = 120


def copy_checkout(dst: Path, tag: str | None = "v0.1.0") -> Path:
    """Copy the working tree's tracked and untracked (not ignored) files into dst, commit, and tag it."""
    listing = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=TEMPLATE_ROOT,
        capture_output=True, check=True, timeout=30,
    ).stdout.decode().split("\0")
    for rel in filter(None, listing):
        source = TEMPLATE_ROOT / rel
        if not source.is_file() or rel.startswith(("node_modules/", ".venv/")):
            continue
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    git(dst, "init", "-q", "-b", "main")
    git(dst, "add", "-A")
    git(dst, "commit", "-q", "-m", "agent-foundation")
    if tag:
        git(dst, "tag", "-a", tag, "-m", tag)
    return dst


def cli(root: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the agent-foundation CLI on the checkout at root, without a terminal (stdin closed)."""
    return subprocess.run(
        [sys.executable, "-m", "agent_foundation.cli", "--root", str(root), *args],
        cwd=cwd or root, capture_output=True, text=True, timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL,
    )


def commit(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
