"""Helpers for the registry, promotion and release tests, which work on throwaway copies of this checkout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.rendering import git

CLI_TIMEOUT = 120


def cli(root: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the agent-foundation CLI on the checkout at root, without a terminal (stdin closed)."""
    return subprocess.run(
        [sys.executable, "-m", "agent_foundation.cli", "--root", str(root), *args],
        cwd=cwd or root, capture_output=True, text=True, timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL,
    )


def commit(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
