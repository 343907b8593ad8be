"""agent-foundation rollout on a fleet of team repositories with local bare remotes, made here.

The fleet: two clean teams behind the release (one given as its working copy, one as its bare remote), one
already on the release, one whose hand edit of a foundation file conflicts with the release, one with a
corrupt manifest, one that is not a foundation repository and one that cannot be cloned.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.rendering import commit_all, git, render_team
from tests.template_versions import NEW_ORG_RULE, ORG_RULES_NEW, ORG_RULES_OLD, build_template_versions

VENV_BIN = str(Path(sys.executable).parent)
RELEASE = "v0.2.0"
BRANCH = "foundation/v0.2.0"
CHANGELOG_LINE = "New deny rule prod-db-reset."


def rollout(root: Path, *args: str, timeout: int = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ["PATH"]}
    return subprocess.run([str(Path(VENV_BIN) / "agent-foundation"), "--root", str(root), "rollout", *args],
                          capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)


def publish(work: Path, remotes: Path) -> Path:
    """Push a team's working copy to a new bare remote (default branch main) and make it the origin."""
    bare = remotes / f"{work.name}.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(bare)], check=True, timeout=30)
    git(work, "remote", "add", "origin", str(bare))
    git(work, "push", "--quiet", "origin", "main")
    return bare


def heads(bare: Path) -> dict[str, str]:
    out = git(bare, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/")
    return dict(line.split(" ") for line in out.splitlines())


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    base = tmp_path_factory.mktemp("rollout")
    template = build_template_versions(base / "agent-foundation")
    teams, remotes = base / "teams", base / "remotes"
    teams.mkdir(), remotes.mkdir()
    bare = {}
    for slug, version in (("alpha", "v0.1.0"), ("bravo", "v0.1.0"), ("charlie", RELEASE), ("delta", "v0.1.0")):
        answers = {"team_slug": slug, "team_name": slug.title()}
        if version == RELEASE:
            answers["skills"] = ["code-review", "security-review"]  # writing-tests is retired in v0.2.0
        work = render_team(teams / slug, answers, template=template, vcs_ref=version)
        if slug == "delta":  # rewrites the very line v0.2.0 appends after: a real conflict
            rules = work / ORG_RULES_OLD
            lines = rules.read_text().rstrip("\n").split("\n")
            rules.write_text("\n".join(lines[:-1] + ["- Our own last rule, replacing the organisation's."]) + "\n")
            commit_all(work, "delta rewrites the last org rule")
        bare[slug] = publish(work, remotes)
    corrupt = render_team(teams / "echo", {"team_slug": "echo"}, template=template, vcs_ref="v0.1.0", commit=False)
    manifest = corrupt / ".claude/foundation/manifest.json"
    manifest.write_text(manifest.read_text()[:200])  # truncated: not JSON any more
    commit_all(corrupt, "a bad merge")
    bare["echo"] = publish(corrupt, remotes)
    edited = render_team(teams / "hotel", {"team_slug": "hotel"}, template=template, vcs_ref="v0.1.0")
    with (edited / ".claude/foundation/update.py").open("a") as handle:
        handle.write("\nimport os  # a team's own change to the foundation's update code\n")
    commit_all(edited, "hotel edits update.py")
    bare["hotel"] = publish(edited, remotes)
    plain = teams / "foxtrot"
    plain.mkdir()
    (plain / "README.md").write_text("# not a foundation repository\n")
    commit_all(plain)
    bare["foxtrot"] = publish(plain, remotes)
    sources = base / "fleet.txt"
    sources.write_text("\n".join([
        "teams/alpha          # a working copy: its origin is cloned and receives the branch",
        str(bare["bravo"]),
        "remotes/charlie.git",
        "remotes/delta.git",
        "remotes/echo.git",
        "remotes/foxtrot.git",
        "remotes/hotel.git",
        "file://" + str(base / "remotes/missing.git"),
    ]) + "\n")
    return {"base": base, "template": template, "bare": bare, "sources": sources, "workdir": base / "work",
            "mains": {slug: heads(b)["refs/heads/main"] for slug, b in bare.items()}}


def by_team(report: dict) -> dict[str, dict]:
    return {(row["team"] or Path(row["source"]).name.removesuffix(".git")): row for row in report["repos"]}


def test_rollout_updates_the_clean_ones_and_reports_the_rest_then_resumes(fleet):
    first = rollout(fleet["template"], RELEASE, str(fleet["sources"]), "--push", "--jobs", "2",
                    "--workdir", str(fleet["workdir"]), "--json")
    assert first.returncode == 1, first.stderr  # a conflict and failures: non-zero
    report = json.loads(first.stdout)
    assert report["schema"] == "agent-foundation.rollout-report" and report["schema_version"] == 1
    rows = by_team(report)
    assert {name: row["status"] for name, row in rows.items()} == {
        "alpha": "updated", "bravo": "updated", "charlie": "current", "delta": "conflict",
        "echo": "failed", "foxtrot": "failed", "hotel": "failed", "missing": "failed",
    }, json.dumps(report, indent=1)
    assert report["totals"] == {"updated": 2, "current": 1, "branch-pushed": 0, "conflict": 1, "failed": 4, "repos": 8, "fast": 2}
    assert report["complete"] and report["shard"] is None and report["sources"] == 8
    schema = json.loads((Path(__file__).parent.parent / "docs/rollout-schema.json").read_text())
    assert set(schema["required"]) <= set(report) and set(schema["properties"]["totals"]["required"]) == set(report["totals"])
    assert all(set(schema["$defs"]["repo"]["required"]) == set(row) for row in report["repos"])
    assert [row["index"] for row in report["repos"]] == list(range(8))
    assert rows["alpha"]["path"] == rows["bravo"]["path"] == "fast"  # no team edit: rendered directly
    assert rows["delta"]["path"] == "full" and ORG_RULES_OLD in rows["delta"]["path_reason"]

    for slug in ("alpha", "bravo"):
        row, bare = rows[slug], fleet["bare"][slug]
        assert row["pushed"] and row["from_version"] == "0.1.0" and row["to_version"] == "0.2.0"
        assert heads(bare)[f"refs/heads/{BRANCH}"] == row["commit"]
        message = git(bare, "log", "-1", "--format=%B", BRANCH)
        assert message.startswith(f"foundation: take release {RELEASE} (from 0.1.0)") and CHANGELOG_LINE in message
        assert NEW_ORG_RULE in git(bare, "show", f"{BRANCH}:{ORG_RULES_NEW}")
        assert "prod-db-reset" in git(bare, "show", f"{BRANCH}:.claude/settings.json")
        assert json.loads(git(bare, "show", f"{BRANCH}:.claude/foundation/manifest.json"))["template_version"] == "0.2.0"
        assert git(bare, "show", f"{BRANCH}:.copier-answers.yml").count("_commit: v0.2.0") == 1
        assert git(bare, "rev-parse", f"{BRANCH}^").strip() == fleet["mains"][slug]  # one commit on top of main

    delta = rows["delta"]
    assert delta["conflicts"] == [ORG_RULES_NEW] and not delta["pushed"]
    assert f"copier update --trust --defaults --vcs-ref {RELEASE}" in delta["resolve"]
    assert "git push --set-upstream origin foundation/v0.2.0" in delta["reason"]
    assert "manifest.json is unreadable" in rows["echo"]["reason"]
    assert "not a foundation repository" in rows["foxtrot"]["reason"]
    assert "cannot clone" in rows["missing"]["reason"] and "does not appear to be a git repository" in rows["missing"]["reason"]
    assert ".claude/foundation/update.py differs from release v0.1.0's" in rows["hotel"]["reason"]
    assert not rows["alpha"]["warnings"], rows["alpha"]["warnings"]  # checked against the template's tag, silently
    for slug in ("charlie", "delta", "echo", "foxtrot", "hotel"):
        assert set(heads(fleet["bare"][slug])) == {"refs/heads/main"}, slug
    for slug, bare in fleet["bare"].items():
        assert heads(bare)["refs/heads/main"] == fleet["mains"][slug], slug  # every remote's main untouched

    # The resolve command, as printed, brings the conflict into the work clone for a person to resolve.
    env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ["PATH"]}
    resolved = subprocess.run(["bash", "-c", delta["resolve"]], capture_output=True, text=True, timeout=120, env=env,
                              stdin=subprocess.DEVNULL)
    # Copier's update now fails on the conflict it leaves (the template's after stage), naming the file.
    assert resolved.returncode == 1 and f"{ORG_RULES_NEW}: conflict" in resolved.stderr, resolved.stderr
    clone = Path(delta["clone"])
    assert "<<<<<<<" in (clone / ORG_RULES_NEW).read_text()
    subprocess.run(["git", "reset", "--quiet", "--hard"], cwd=clone, check=True, timeout=30)
    subprocess.run(["git", "clean", "--quiet", "-fd"], cwd=clone, check=True, timeout=30)

    pushed = {slug: heads(bare) for slug, bare in fleet["bare"].items()}
    second = rollout(fleet["template"], RELEASE, str(fleet["sources"]), "--push", "--jobs", "2",
                     "--workdir", str(fleet["workdir"]), "--json", timeout=120)
    again = by_team(json.loads(second.stdout))
    assert {name: row["status"] for name, row in again.items()} == {
        "alpha": "branch-pushed", "bravo": "branch-pushed", "charlie": "current", "delta": "conflict",
        "echo": "failed", "foxtrot": "failed", "hotel": "failed", "missing": "failed",
    }
    assert again["alpha"]["commit"] == rows["alpha"]["commit"]
    assert "not retried" in " ".join(again["delta"]["warnings"])
    assert all(row["seconds"] < 3 for row in again.values()), "a resumed run must not run any update"
    assert {slug: heads(bare) for slug, bare in fleet["bare"].items()} == pushed  # nothing changed anywhere
    assert second.returncode == 1


def test_without_push_nothing_leaves_the_machine_and_a_later_push_keeps_the_commit(fleet, tmp_path):
    template, team = fleet["template"], None
    team = render_team(tmp_path / "golf", {"team_slug": "golf"}, template=template, vcs_ref="v0.1.0")
    bare = publish(team, tmp_path)
    workdir = tmp_path / "work"
    dry = rollout(template, RELEASE, str(bare), "--workdir", str(workdir), "--markdown")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "| updated | golf | 0.1.0 -> 0.2.0 |" in dry.stdout and "committed, not pushed" in dry.stdout
    assert set(heads(bare)) == {"refs/heads/main"}
    push = rollout(template, RELEASE, str(bare), "--workdir", str(workdir), "--push", "--json")
    assert push.returncode == 0, push.stderr
    row = json.loads(push.stdout)["repos"][0]
    assert row["status"] == "updated" and row["pushed"] and "kept the commit an earlier run made" in " ".join(row["warnings"])
    assert heads(bare)[f"refs/heads/{BRANCH}"] == row["commit"]
    assert CHANGELOG_LINE in git(bare, "log", "-1", "--format=%B", BRANCH)


def test_bad_arguments_exit_2(fleet):
    result = rollout(fleet["template"], "latest", str(fleet["sources"]), "--workdir", str(fleet["workdir"]))
    assert result.returncode == 2 and "not a release" in result.stderr


def test_template_override_reaches_a_repo_whose_recorded_source_is_gone(fleet, tmp_path):
    import shutil

    moved = tmp_path / "old-template-location"
    shutil.copytree(fleet["template"], moved, symlinks=True)
    team = render_team(tmp_path / "india", {"team_slug": "india"}, template=moved, vcs_ref="v0.1.0")
    bare = publish(team, tmp_path)
    shutil.rmtree(moved)  # the path recorded in _src_path no longer exists on this machine
    workdir = tmp_path / "work"
    unreachable = rollout(fleet["template"], RELEASE, str(bare), "--workdir", str(workdir), "--json")
    row = json.loads(unreachable.stdout)["repos"][0]
    assert unreachable.returncode == 1 and row["status"] == "failed"
    assert str(moved) in row["reason"] and "--template" in row["reason"]
    pinned = rollout(fleet["template"], RELEASE, str(bare), "--workdir", str(workdir), "--template", str(fleet["template"]),
                     "--push", "--json")
    row = json.loads(pinned.stdout)["repos"][0]
    assert pinned.returncode == 0 and row["status"] == "updated", row
    answers = git(bare, "show", f"{BRANCH}:.copier-answers.yml")
    assert f"_src_path: {moved}" in answers and "_commit: v0.2.0" in answers  # the team's recorded source is kept
    assert git(bare, "log", "--format=%s", BRANCH).splitlines()[0] == f"foundation: take release {RELEASE} (from 0.1.0)"
    assert "template source override" not in git(bare, "log", "--format=%s", BRANCH)  # the temporary commit is gone


def test_parallel_jobs_from_a_remote_template_do_not_collide(tmp_path):
    """Copier mirrors a remote template in its cache and refreshes the mirror on every use; parallel updates
    refreshing one mirror fail on git's ref locks. A git+file:// URL takes that remote path, offline. Two
    releases in a row: the second run finds every mirror in place, so each job refreshes one at the same time."""
    template = build_template_versions(tmp_path / "agent-foundation")
    url = f"git+file://{template}"
    teams = tmp_path / "teams"
    for index in range(6):
        render_team(teams / f"team-{index}", {"team_slug": f"team-{index}", "team_name": f"Team {index}"},
                    template=url, vcs_ref="v0.1.0")
    workdir = tmp_path / "work"
    for release in ("v0.2.0", "v0.3.0"):
        run = rollout(tmp_path, release, str(teams), "--jobs", "6", "--workdir", str(workdir), "--json", timeout=600)
        report = json.loads(run.stdout)
        assert report["totals"]["updated"] == 6, [(row["source"], row["reason"]) for row in report["repos"]]
    caches = sorted((workdir / "copier-cache").iterdir())
    assert [cache.name for cache in caches] == [f"job-{slot}" for slot in range(6)]
    assert all(len(list(cache.glob("*.git"))) == 1 for cache in caches)  # one mirror each, reused by the second run


def normalised(report: dict, workdir: Path) -> dict:
    """A report without what differs between two runs of the same rollout: timings and the work folder's path."""
    data = json.loads(json.dumps(report).replace(str(workdir), "WORKDIR"))
    for key in ("generated_at", "seconds"):
        data.pop(key)
    for row in data["repos"]:
        row.pop("seconds")
    return data


def test_shards_merged_give_exactly_the_report_of_one_run(fleet, tmp_path):
    single_dir, shard_dir = tmp_path / "single", tmp_path / "shards"
    single = rollout(fleet["template"], RELEASE, str(fleet["sources"]), "--jobs", "2", "--workdir", str(single_dir),
                     "--json", timeout=300)
    parts = []
    for index in (1, 2, 3):
        part = tmp_path / f"part-{index}.json"
        run = rollout(fleet["template"], RELEASE, str(fleet["sources"]), "--jobs", "2", "--workdir", str(shard_dir),
                      "--shard", f"{index}/3", "--json", str(part), timeout=300)
        shard = json.loads(part.read_text())
        assert shard["shard"] == {"index": index, "count": 3} and shard["complete"], run.stderr
        assert [row["index"] for row in shard["repos"]] == list(range(index - 1, 8, 3))
        parts.append(str(part))
    merged_file = tmp_path / "merged.json"
    merged = rollout(fleet["template"], "merge", *reversed(parts), "--json", str(merged_file))
    assert merged.returncode == single.returncode == 1, merged.stderr  # the same conflict and failures
    assert normalised(json.loads(merged_file.read_text()), shard_dir) == normalised(json.loads(single.stdout), single_dir)

    missing = rollout(fleet["template"], "merge", parts[0], parts[2], "--json")
    assert missing.returncode == 1 and json.loads(missing.stdout)["missing_shards"] == [2]
    twice = rollout(fleet["template"], "merge", parts[0], parts[0], "--json")
    assert twice.returncode == 2 and "both shard 1/3" in twice.stderr
    bad = rollout(fleet["template"], RELEASE, str(fleet["sources"]), "--shard", "4/3")
    assert bad.returncode == 2 and "--shard '4/3'" in bad.stderr


@pytest.fixture(scope="module")
def slow_fleet(tmp_path_factory):
    """Two teams whose edit of a registry skill sends them through the full path (each update takes seconds)."""
    base = tmp_path_factory.mktemp("killed")
    template = build_template_versions(base / "agent-foundation")
    remotes = base / "remotes"
    remotes.mkdir()
    for slug in ("kilo", "lima"):
        work = render_team(base / "teams" / slug, {"team_slug": slug}, template=template, vcs_ref="v0.1.0")
        with (work / ".claude/skills/security-review/SKILL.md").open("a") as handle:
            handle.write("\nPayments: also check idempotency keys.\n")  # kept by the update, and named
        commit_all(work, "the team tweaks a registry skill")
        publish(work, remotes)
    return {"template": template, "remotes": remotes}


def start_rollout(fleet: dict, workdir: Path, report: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ["PATH"]}
    return subprocess.Popen([str(Path(VENV_BIN) / "agent-foundation"), "--root", str(fleet["template"]), "rollout", RELEASE,
                             str(fleet["remotes"]), "--jobs", "1", "--workdir", str(workdir), "--json", str(report)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def wait_for_second_repository(report: Path, workdir: Path, run: subprocess.Popen[str]) -> None:
    """Until the first row is on disk and the second repository's update is under way."""
    import time

    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and run.poll() is None:
        try:
            rows = json.loads(report.read_text())["repos"]
        except (OSError, ValueError):
            rows = []
        logs_or_locks = list(workdir.glob("lima-*.lock"))
        if rows and logs_or_locks:
            time.sleep(1.5)  # into the update itself
            return
        time.sleep(0.1)
    pytest.fail(f"the rollout never reached its second repository: {run.poll()} {run.stderr.read() if run.stderr else ''}")


def test_a_killed_run_leaves_a_valid_report_and_the_next_run_recovers_its_clone(slow_fleet, tmp_path):
    workdir, report = tmp_path / "work", tmp_path / "rollout.json"
    run = start_rollout(slow_fleet, workdir, report)
    wait_for_second_repository(report, workdir, run)
    os.killpg(run.pid, 9)  # SIGKILL, the whole run: no handler, no cleanup (its update, in its own session, goes on)
    run.wait(timeout=30)
    killed = json.loads(report.read_text())  # valid JSON: every write of it was atomic
    assert not killed["complete"] and not killed["ok"]
    assert [(row["team"], row["status"]) for row in killed["repos"]] == [("kilo", "updated")]
    journal = report.with_name(report.name + ".journal.jsonl")
    from_journal = rollout(slow_fleet["template"], "merge", str(journal), "--json")
    assert [row["team"] for row in json.loads(from_journal.stdout)["repos"]] == ["kilo"]
    assert list(workdir.glob("lima-*.lock")), "the killed run's claim on its clone is what marks the clone stale"

    again = start_rollout(slow_fleet, workdir, report)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, report.read_text()
    rows = {row["team"]: row for row in json.loads(report.read_text())["repos"]}
    assert json.loads(report.read_text())["complete"] and not journal.exists()
    assert rows["kilo"]["status"] == rows["lima"]["status"] == "updated"
    assert any("kept the commit an earlier run made" in warning for warning in rows["kilo"]["warnings"])
    assert any("recovered the work clone" in warning for warning in rows["lima"]["warnings"]), rows["lima"]
    assert not list(workdir.glob("*.lock")) and not list((workdir / "copier-cache").glob("*.lock"))
    assert not processes_working_in(workdir), "the killed run's update and its Copier were ended by the recovery"


def processes_working_in(folder: Path) -> list[str]:
    """Command lines of live processes whose current folder is in `folder` (Linux /proc)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if str(folder) in os.readlink(proc / "cwd") and (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                found.append((proc / "cmdline").read_text().replace("\0", " "))
        except (OSError, IndexError):
            continue
    return found


def test_a_stopped_run_writes_what_it_did_and_ends_its_updates(slow_fleet, tmp_path):
    import time

    workdir, report = tmp_path / "work", tmp_path / "rollout.json"
    run = start_rollout(slow_fleet, workdir, report)
    wait_for_second_repository(report, workdir, run)
    run.terminate()  # SIGTERM to the rollout alone, as a CI runner cancelling a job does first
    _, err = run.communicate(timeout=60)
    assert run.returncode == 128 + 15 and "stopped by SIGTERM" in err
    stopped = json.loads(report.read_text())
    assert not stopped["complete"] and [row["team"] for row in stopped["repos"]] == ["kilo"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.killpg(run.pid, 0)  # anything left of the run: its updates, Copier, its render workers
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the stopped rollout left processes running")
