"""Who works in a work clone or a Copier cache right now, and what a killed run left behind there.

A rollout claims each work clone (and each Copier cache slot) with a lock file beside it: an exclusive
`flock` while it works, the file holding the claimant's pid. A finished claim removes the file. So when a
claim is taken and the file is already there with a pid in it, the run that wrote it was killed mid-work
(the kernel dropped its lock, the file stayed): whatever it left (git's own lock files, a half-made branch,
a dirty tree, an interrupted update) is debris, and is cleared before the clone is used. A clone that is
dirty *without* such a file is a person's work (someone resolving a conflict there) and is never cleared.

A killed run's updates do not die with it: each runs in its own session (so a timeout can end it whole), and
update.py starts Copier in another. They go on writing into the clone. So the claim also records every update
started under it (a line `child PGID CLONE`), and clearing debris first ends those process groups and the
Copier group update.py recorded in its own marker, and waits until they are gone: clearing a tree while the
killed run's Copier still writes into it is what made the next run's update meet a conflict that was no one's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

GIT_LOCKS = ("index.lock", "HEAD.lock", "config.lock", "packed-refs.lock", "shallow.lock", "FETCH_HEAD.lock", "ORIG_HEAD.lock")
LEFTOVER_STATE = ("MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "CHERRY_PICK_HEAD", "REVERT_HEAD", "AUTO_MERGE")
MIGRATION_SCRATCH = "agent-foundation"  # .git/agent-foundation/: where the foundation's migrations park edits mid-update
UPDATE_MARKER = "update-in-progress.json"  # update.py's marker in MIGRATION_SCRATCH: its pid and its Copier's
LEFTOVER_WAIT_SECONDS = 30


class Busy(Exception):
    """Another live process holds the claim."""


@dataclasses.dataclass
class Stale:
    """What a killed claimant left recorded: the updates it had started (process group, the clone it worked in)."""

    children: list[tuple[int, Path]]


def _recorded_children(text: str) -> list[tuple[int, Path]]:
    children = []
    for line in text.splitlines()[1:]:
        kind, _, rest = line.partition(" ")
        pgid, _, where = rest.partition(" ")
        if kind == "child" and pgid.isdigit() and where:
            children.append((int(pgid), Path(where)))
    return children


@contextlib.contextmanager
def claim(lock_file: Path) -> Iterator[Stale | None]:
    """Hold `lock_file` exclusively; yields a Stale (its debris must be cleared) when a killed run had held it."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            holder = os.pread(fd, 64, 0).decode(errors="replace").split("\n", 1)[0].strip() or "?"
            raise Busy(f"another rollout (pid {holder}) is working on it") from error
        size = os.fstat(fd).st_size
        stale = Stale(_recorded_children(os.pread(fd, size, 0).decode(errors="replace"))) if size > 0 else None
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


def record_child(lock_file: Path, pgid: int, clone: Path) -> None:
    """Note in a claim held by this process that an update (process group `pgid`) now works in `clone`."""
    with open(lock_file, "a", encoding="utf-8") as handle:
        handle.write(f"child {pgid} {clone}\n")


def _live_members(pgid: int) -> list[int] | None:
    """The processes of group `pgid` that are not zombies; None where /proc cannot tell (not Linux)."""
    if not os.path.isdir("/proc/self"):
        return None
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != b"Z":
            members.append(int(entry.name))
    return members


def _works_in(pid: int, clone: Path) -> bool:
    """Whether process `pid` has its current folder in `clone` (a recycled pid never does)."""
    try:
        where = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return False
    return where == clone or clone in where.parents


def _update_marker_groups(clone: Path) -> list[int]:
    """update.py's own pid and its Copier's, from the marker it keeps while it runs (each leads its group)."""
    try:
        marker = json.loads((clone / ".git" / MIGRATION_SCRATCH / UPDATE_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(marker, dict):
        return []
    return [value for value in (marker.get("pid"), marker.get("copier_pid")) if isinstance(value, int) and value > 0]


def end_work(clone: Path, groups: list[int], wait: float = LEFTOVER_WAIT_SECONDS) -> list[int]:
    """End every process group still working in `clone`: `groups` (updates a run started there) and the Copier
    update.py recorded; wait until they are gone. Returns the groups ended. A group is ended only when one of its
    processes works in the clone, so a recycled pid is never hit; where /proc is missing, a recorded group
    that still exists is trusted."""
    clone = clone.resolve()
    ended: list[int] = []
    deadline = time.monotonic() + wait
    pending = list(dict.fromkeys(groups))
    while pending:
        pgid = pending.pop(0)
        members = _live_members(pgid)
        if members is None:
            ours = pgid in groups
            try:
                os.killpg(pgid, 0)
            except (ProcessLookupError, PermissionError):
                ours = False
        else:
            ours = any(_works_in(pid, clone) for pid in members)
        if ours:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            ended.append(pgid)
            while time.monotonic() < deadline and (_live_members(pgid) if members is not None else _group_exists(pgid)):
                time.sleep(0.05)
        if not pending:  # the update is gone now, so the Copier it recorded can no longer change: end that too
            pending = [g for g in _update_marker_groups(clone) if g not in ended and g not in groups]
            groups = groups + pending
    return ended


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


def clear_debris(clone: Path, env: dict[str, str], timeout: int, groups: list[int] | None = None) -> list[str]:
    """Put a clone a killed run was working in back to a clean checkout; returns what was cleared. `groups`:
    the updates the killed run had started there (they may still be running: ended first)."""
    cleared: list[str] = []
    ended = end_work(clone, groups or []) if clone.exists() else []
    if ended:
        cleared.append(f"the killed run's update, still running ({len(ended)} process group{'s' if len(ended) > 1 else ''})")
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
