"""update.py stopped by a signal at several moments of an update, then run again: nothing of the team's is
lost, no temporary state outlives the process, and the team is told what happened.

SIGINT, SIGTERM and SIGHUP (Ctrl-C, a CI cancel or `timeout`, a closed terminal) are handled: the tree is put
back before update.py exits. SIGKILL cannot be handled: the next run finds the in-progress marker, sets the
partial changes aside in a stash, says so, and then updates.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.update_support import (  # noqa: F401 - edited_team, team and template_repo are fixtures
    ENV, edited_team, snapshot, team, team_bytes, template_repo, update_py,
)

V2 = "v0.2.0"
STATE = ".git/agent-foundation"


def copier_running(repo: Path) -> bool:
    marker = repo / STATE / "update-in-progress.json"
    return marker.is_file() and "copier_pid" in marker.read_text()


def before_stage_done(repo: Path) -> bool:
    """The template's before stage has carried the team's hand edit and staged its changes."""
    return (repo / STATE / "update-report.json").is_file()


def new_version_rendered(repo: Path) -> bool:
    try:
        return json.loads((repo / ".claude/foundation/manifest.json").read_text())["template_version"] == "0.2.0"
    except (OSError, ValueError, KeyError):
        return False


MOMENTS = {"copier-running": copier_running, "before-stage-done": before_stage_done, "new-version-rendered": new_version_rendered}


def start_update(repo: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(["python3", ".claude/foundation/update.py", "--vcs-ref", V2], cwd=repo, env=ENV,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for(moment: str, repo: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 240
    while not MOMENTS[moment](repo):
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"update.py ended (exit {process.returncode}) before the moment {moment}:\n{out}\n{err}")
        assert time.monotonic() < deadline, f"the moment {moment} never came"
        time.sleep(0.01)


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except (ProcessLookupError, FileNotFoundError):
        return False


def wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 240
    while running(pid):
        assert time.monotonic() < deadline, f"pid {pid} still runs"
        time.sleep(0.05)


def assert_rerun_takes_the_release(repo: Path, kept: dict[str, bytes]) -> str:
    rerun = update_py(repo, "--vcs-ref", V2)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert team_bytes(repo) == kept
    assert json.loads((repo / ".claude/foundation/manifest.json").read_text())["template_version"] == "0.2.0"
    assert not (repo / STATE / "update-in-progress.json").exists()
    return rerun.stdout + rerun.stderr


@pytest.mark.parametrize(("signum", "moment"), [
    (signal.SIGINT, "before-stage-done"),
    (signal.SIGTERM, "copier-running"),
    (signal.SIGTERM, "new-version-rendered"),
    (signal.SIGHUP, "before-stage-done"),
], ids=["SIGINT-before-stage-done", "SIGTERM-copier-running", "SIGTERM-new-version-rendered", "SIGHUP-before-stage-done"])
def test_a_handled_signal_puts_the_tree_back_before_update_py_exits(team, signum, moment):
    before, kept = snapshot(team), team_bytes(team)
    process = start_update(team)
    wait_for(moment, team, process)
    process.send_signal(signum)  # to update.py alone, as `timeout` or `kill` does
    _, err = process.communicate(timeout=240)
    assert process.returncode == 128 + signum, err
    assert f"interrupted ({signal.Signals(signum).name})" in err and "exactly as it was before" in err
    assert snapshot(team) == before  # same HEAD, same files, no temporary commit, no marker
    assert not (team / STATE / "update-in-progress.json").exists()
    output = assert_rerun_takes_the_release(team, kept)
    assert "was interrupted" not in output  # nothing to recover: the first run cleaned up after itself


def test_sigkill_of_the_whole_job_is_recovered_by_the_next_run(team):
    """A CI job cancelled hard: update.py and its Copier die together, the tree half-updated."""
    head, kept = snapshot(team)["<HEAD>"], team_bytes(team)
    process = start_update(team)
    wait_for("new-version-rendered", team, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert (team / STATE / "update-in-progress.json").is_file()
    output = assert_rerun_takes_the_release(team, kept)
    assert "was interrupted" in output and "git stash" in output
    assert snapshot(team)["<HEAD>"] == head
    stash = subprocess.run(["git", "stash", "list"], cwd=team, capture_output=True, text=True, check=True).stdout
    assert "partial changes of the update interrupted" in stash  # set aside, not deleted


def test_sigkill_of_update_py_alone_waits_for_its_copier_then_recovers(team):
    kept = team_bytes(team)
    process = start_update(team)
    wait_for("copier-running", team, process)
    copier_pid = json.loads((team / STATE / "update-in-progress.json").read_text())["copier_pid"]
    process.kill()
    process.communicate(timeout=60)
    first = json.loads(update_py(team, "--json", "--vcs-ref", V2).stdout)
    if first["outcome"] == "busy":  # the orphaned Copier was still at work: the next run must not race it
        assert f"pid {copier_pid}" in first["problems"][0]
        wait_gone(copier_pid)
        output = assert_rerun_takes_the_release(team, kept)
        assert "was interrupted" in output
    else:  # it had already died (its stderr went to the killed update.py): recovered, then updated
        assert first["outcome"] == "updated" and "was interrupted" in first["recovered"], first
    assert team_bytes(team) == kept
