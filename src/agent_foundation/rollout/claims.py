"""Who works in a work clone or a Copier cache right now, and what a killed run left behind there.

A rollout claims each work clone (and each Copier cache slot) with a lock file beside it: an exclusive
`flock` while it works, the file holding the claimant's pid. A finished claim removes the file. So when a
claim is taken and the file is already there with a pid in it, the run that wrote it was killed mid-work
(the kernel dropped its lock, the file stayed): whatever it left (git's own lock files, a half-made branch,
a dirty tree, an interrupted update) is debris, and is cleared before the clone is used. A clone that is
dirty *without* such a file is a person's work (someone resolving a conflict there) and is never cleared.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

GIT_LOCKS = ("index.lock", "HEAD.lock", "config.lock", "packed-refs.lock", "shallow.lock", "FETCH_HEAD.lock", "ORIG_HEAD.lock")
LEFTOVER_STATE = ("MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "CHERRY_PICK_HEAD", "REVERT_HEAD", "AUTO_MERGE")
MIGRATION_SCRATCH = "agent-foundation"  # .git/agent-foundation/: where the foundation's migrations park edits mid-update


class Busy(Exception):
    """Another live process holds the claim."""


@contextlib.contextmanager
def claim(lock_file: Path) -> Iterator[bool]:
    """Hold `lock_file` exclusively; yields True when a killed run had held it (its debris must be cleared)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise Busy(f"another rollout (pid {holder}) is working on it") from error
        stale = os.fstat(fd).st_size > 0
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        os.fsync(fd)
        try:
            yield stale
        finally:
            with contextlib.suppress(OSError):
                os.unlink(lock_file)  # a finished claim leaves nothing: the next claimant sees a clean slate
    finally:
        os.close(fd)


def remove_git_locks(git_dir: Path) -> list[str]:
    """git's own lock files (a git process killed mid-write leaves them and blocks every later command)."""
    removed = []
    candidates = [git_dir / name for name in GIT_LOCKS]
    for folder in ("refs", "logs"):
        if (git_dir / folder).is_dir():
            candidates += list((git_dir / folder).rglob("*.lock"))
    for path in candidates:
        if path.is_file():
            path.unlink()
            removed.append(str(path.relative_to(git_dir)))
    return removed


def clear_debris(clone: Path, env: dict[str, str], timeout: int) -> list[str]:
    """Put a clone a killed run was working in back to a clean checkout; returns what was cleared."""
    cleared: list[str] = []
    partial = clone.with_name(clone.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial, ignore_errors=True)
        cleared.append("a half-made clone")
    git_dir = clone / ".git"
    if not git_dir.is_dir():
        return cleared
    locks = remove_git_locks(git_dir)
    if locks:
        cleared.append("git lock files " + ", ".join(sorted(locks)))
    for name in LEFTOVER_STATE:
        if (git_dir / name).exists():
            (git_dir / name).unlink()
            cleared.append(f"an unfinished merge ({name})")
    if (git_dir / MIGRATION_SCRATCH).exists():
        shutil.rmtree(git_dir / MIGRATION_SCRATCH, ignore_errors=True)
        cleared.append("an interrupted update's migration scratch")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=clone, capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)

    if (git_dir / "index").exists():
        status = run("status", "--porcelain", "--ignored").stdout.strip()
        if status:
            run("reset", "--quiet", "--hard")
            run("clean", "--quiet", "-fdx")
            cleared.append(f"a dirty tree ({len(status.splitlines())} paths)")
    return cleared


def clear_cache_slot(slot: Path) -> None:
    """A Copier cache a killed update was refreshing may hold half-written refs: start it afresh."""
    shutil.rmtree(slot, ignore_errors=True)
