"""A killed rollout's updates outlive it (each runs in its own session, and update.py starts Copier in another):
the next run's recovery must end them before it clears the clone, or they keep writing into the tree the next
update works on. These tests use real process groups working in a real git clone; no rollout is started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from agent_foundation.rollout import claims

# A stand-in for an update still running after its rollout was killed: it keeps rewriting settings.json.
WRITER = "import pathlib, time\nwhile True:\n    pathlib.Path('.claude/settings.json').write_text('{\"half\": \"written\"}\\n')\n    time.sleep(0.01)\n"


def make_clone(path: Path) -> Path:
    (path / ".claude").mkdir(parents=True)
    (path / ".claude/settings.json").write_text('{"team": "settings"}\n')
    for args in (["init", "--quiet", "-b", "main"], ["add", "--all"],
                 ["-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "--quiet", "-m", "base"]):
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)
    return path


def start_group(cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WRITER], cwd=cwd, start_new_session=True)


def killed_claim(lock: Path, children: list[tuple[int, Path]]) -> None:
    """The claim file a run killed with SIGKILL leaves: its pid, the updates it started; no lock held."""
    lock.write_text("999999\n" + "".join(f"child {pgid} {where}\n" for pgid, where in children))


def alive(process: subprocess.Popen[bytes]) -> bool:
    return process.poll() is None


def test_recovery_ends_the_killed_runs_update_and_its_copier_before_clearing_the_tree(tmp_path):
    clone = make_clone(tmp_path / "clone")
    update, copier = start_group(clone), start_group(clone)
    scratch = clone / ".git" / claims.MIGRATION_SCRATCH
    scratch.mkdir()
    (scratch / claims.UPDATE_MARKER).write_text(json.dumps({"pid": update.pid, "copier_pid": copier.pid}))
    lock = tmp_path / "clone.lock"
    killed_claim(lock, [(update.pid, clone)])
    try:
        with claims.claim(lock) as stale:
            assert stale is not None and stale.children == [(update.pid, clone)]
            cleared = claims.clear_debris(clone, dict(os.environ), 60, [pgid for pgid, _ in stale.children])
            update.wait(timeout=10), copier.wait(timeout=10)
            assert not alive(update) and not alive(copier), "the update recorded in the claim and its Copier end first"
            assert any("still running (2 process groups)" in item for item in cleared), cleared
            time.sleep(0.2)  # nothing writes into the tree any more: it stays as committed
            assert (clone / ".claude/settings.json").read_text() == '{"team": "settings"}\n'
            assert not subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True).stdout
    finally:
        for process in (update, copier):
            if alive(process):
                process.kill()


def test_a_recorded_group_working_elsewhere_is_never_ended(tmp_path):
    """A pid recorded by a killed run may be recycled by then: only a group working in the clone is ended."""
    clone, elsewhere = make_clone(tmp_path / "clone"), make_clone(tmp_path / "elsewhere")
    stranger = start_group(elsewhere)
    try:
        assert claims.end_work(clone, [stranger.pid], wait=1) == []
        assert alive(stranger)
    finally:
        stranger.kill()
        stranger.wait()


def test_a_claim_records_the_updates_started_under_it(tmp_path):
    lock, clone = tmp_path / "clone.lock", tmp_path / "clone"
    with claims.claim(lock) as stale:
        assert stale is None
        claims.record_child(lock, 4242, clone)
        assert lock.read_text() == f"{os.getpid()}\nchild 4242 {clone}\n"
    assert not lock.exists()
