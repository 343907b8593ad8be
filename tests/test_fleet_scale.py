"""The fleet beyond one machine and one snapshot: shards that merge into exactly the report of one run, the CI
matrix workflow of docs/fleet-workflow.yml run step by step, an incremental run that rescans only what changed;
and what the org asks first: who can do what, and how fast releases and onboarding go (from git history)."""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agent_foundation.cli import main
from agent_foundation.fleet.command import build_report, collect, merge_parts, part
from tests.fleet_support import add_skill, copy_repo, edit_json, settings_edit, template_root, validate
from tests.fleet_skill_pairs import SKILLS
from tests.rendering import TEMPLATE_ROOT, git

WORKFLOW = TEMPLATE_ROOT / "docs" / "fleet-workflow.yml"
DAY = 86400
TAGGED = {"v0.1.0": 1_700_000_000, "v0.2.0": 1_700_000_000 + 30 * DAY, "v0.3.0": 1_700_000_000 + 60 * DAY}


def _comparable(report: dict) -> dict:
    data = json.loads(json.dumps(report))
    for key in ("generated_at", "scan", "trends"):
        data.pop(key, None)
    return data


@pytest.fixture(scope="module")
def fleet(rendered_team: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("scale")
    root = template_root(tmp, [])
    for tag, when in TAGGED.items():  # release tags made on known days
        env = {**os.environ, "GIT_COMMITTER_DATE": f"@{when} +0000", "GIT_AUTHOR_DATE": f"@{when} +0000"}
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", tag],
                       cwd=root, check=True, env=env)
        git(root, "tag", tag)
    repos = tmp / "repos"
    for index in range(24):
        version = ("v0.3.0", "v0.2.0", "v0.1.0")[index % 3]
        repo = copy_repo(rendered_team, repos / f"team-{index:02d}", f"team-{index:02d}", version)
        if index % 4 == 0:
            team, name, _, text = SKILLS[index % len(SKILLS)]
            add_skill(repo, name, text)
        if index % 5 == 0:
            settings_edit(repo, lambda s: s["hooks"].pop("PreToolUse"))
    copy_repo(rendered_team, repos / "team-03-second", "team-03")  # a team's second repository
    (repos / "not-a-repo").mkdir()
    return {"root": root, "repos": repos, "tmp": tmp}


# ---------------------------------------------------------------- shards and merge


def test_merged_shards_give_exactly_the_report_of_one_run(fleet: dict) -> None:
    whole = build_report(fleet["root"], [str(fleet["repos"])], jobs=1)
    parts = [part(collect(fleet["root"], [str(fleet["repos"])], jobs=1, shard=(i, 3))) for i in (1, 2, 3)]
    assert [len(p["rows"]) for p in parts] != [len(whole["repos"]), 0, 0], "the shards split the fleet"
    assert sum(len(p["rows"]) for p in parts) == len(whole["repos"])
    merged = merge_parts([(f"part-{i}.json", json.loads(json.dumps(p))) for i, p in enumerate(reversed(parts))])
    assert _comparable(merged) == _comparable(whole)
    assert merged["org"] == whole["org"] and validate(merged) == []


def test_merge_refuses_missing_duplicate_and_mismatched_shards(fleet: dict, tmp_path: Path) -> None:
    parts = [part(collect(fleet["root"], [str(fleet["repos"] / "team-00")], jobs=1, shard=(i, 2))) for i in (1, 2)]
    with pytest.raises(ValueError, match=r"shard\(s\) 2/2 missing"):
        merge_parts([("a.json", parts[0])])
    with pytest.raises(ValueError, match="are both shard 1/2"):
        merge_parts([("a.json", parts[0]), ("b.json", parts[0])])
    other = json.loads(json.dumps(parts[1]))
    other["context"]["latest"] = "9.9.9"
    with pytest.raises(ValueError, match="another template .*latest"):
        merge_parts([("a.json", parts[0]), ("b.json", other)])
    (tmp_path / "report.json").write_text(json.dumps({"schema": "agent-foundation.fleet-report"}), encoding="utf-8")
    assert main(["--root", str(fleet["root"]), "fleet", "merge", str(tmp_path / "report.json"), "--json", str(tmp_path / "o.json")]) == 2
    assert not (tmp_path / "o.json").exists(), "nothing half-written"
    assert main(["--root", str(fleet["root"]), "fleet", str(fleet["repos"]), "--shard", "3/2", "--json", str(tmp_path / "p.json")]) == 2


def _run_step(command: str, cwd: Path, env: dict[str, str], matrix: dict[str, object]) -> None:
    def expand(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        scope, _, name = expression.partition(".")
        value = matrix[name] if scope == "matrix" else env[name]
        return str(value)

    script = re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", expand, command)
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (script, result.stdout[-2000:], result.stderr[-2000:])


def _action(step: dict, workspace: Path, artifacts: Path, matrix: dict[str, object]) -> None:
    """The few actions the workflow uses, done locally: checkout (the workspace is the checkout), setup-python
    (this interpreter), upload-artifact and download-artifact (a folder per artifact)."""
    uses = step["uses"].split("@")[0]
    given = {k: re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", lambda m: str(matrix[m.group(1)]), str(v)) for k, v in (step.get("with") or {}).items()}
    if uses in ("actions/checkout", "actions/setup-python"):
        return
    if uses == "actions/upload-artifact":
        target = artifacts / given["name"]
        target.mkdir(parents=True, exist_ok=True)
        for path in workspace.glob(given["path"]):
            shutil.copy(path, target / path.name)
        return
    if uses == "actions/download-artifact":
        assert given.get("merge-multiple") == "True"
        destination = workspace / given["path"]
        destination.mkdir(parents=True, exist_ok=True)
        for folder in artifacts.glob(given["pattern"]):
            for path in folder.iterdir():
                shutil.copy(path, destination / path.name)
        return
    raise AssertionError(f"the workflow uses {uses}, which this test does not know how to run locally")


def test_the_documented_ci_matrix_workflow_runs_and_merges_to_one_run(fleet: dict, tmp_path: Path) -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    jobs = workflow["jobs"]
    assert jobs["merge"]["needs"] == "shard"
    shards = jobs["shard"]["strategy"]["matrix"]["shard"]
    assert int(workflow["env"]["SHARDS"]) == len(shards) >= 2
    workspace = tmp_path / "checkout"
    shutil.copytree(fleet["root"], workspace, symlinks=True)
    (workspace / "fleet-repos.txt").write_text("".join(f"{p}\n" for p in sorted(fleet["repos"].iterdir())), encoding="utf-8")
    env = {**os.environ, **{k: str(v) for k, v in workflow["env"].items()},
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    artifacts = tmp_path / "artifacts"
    ran = []
    for job_name in ("shard", "merge"):
        job = jobs[job_name]
        for matrix in ([{"shard": s} for s in shards] if job_name == "shard" else [{}]):
            for step in job["steps"]:
                if "uses" in step:
                    _action(step, workspace, artifacts, matrix)
                elif "pip install" in step["run"]:
                    continue  # this interpreter has agent-foundation installed already
                else:
                    _run_step(step["run"], workspace, env, matrix)
                    ran.append(step["name"])
    assert ran.count("Merge the shards into one report") == 1 and len(ran) == len(shards) + 1
    merged = json.loads((workspace / "fleet-report.json").read_text(encoding="utf-8"))
    single = build_report(workspace, [str(workspace / "fleet-repos.txt")], jobs=1)
    assert _comparable(merged)["org"] == _comparable(single)["org"]
    assert [r["source"] for r in merged["repos"]] == [r["source"] for r in single["repos"]]
    assert (workspace / "fleet-report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# ---------------------------------------------------------------- incremental


def scanned(report: dict) -> dict:
    return {key: report["scan"][key] for key in ("scanned", "reused")}


def test_incremental_run_rescans_only_what_changed(fleet: dict, tmp_path: Path) -> None:
    repos = tmp_path / "repos"
    shutil.copytree(fleet["repos"], repos, symlinks=True)
    history = repos / "team-01"
    git(history, "init", "-q", "-b", "main")
    git(history, "add", "-A")
    git(history, "commit", "-q", "-m", "render")
    state = tmp_path / "state" / "fleet-state.json"
    first = build_report(fleet["root"], [str(repos)], jobs=1, incremental=state)
    assert scanned(first) == {"scanned": len(first["repos"]), "reused": 0}
    skills = sum(len(r["skills"]["local"]) for r in first["repos"])
    texts = first["scan"]["similarity"]["texts_computed"]  # the team skills' and the registry's
    assert skills >= 6 and texts > skills and first["scan"]["similarity"] == {"result_reused": False, "texts_reused": 0, "texts_computed": texts}
    written = [(path, path.stat().st_mtime_ns) for path in (state, state.with_name(state.name + ".similarity.json"))]
    second = build_report(fleet["root"], [str(repos)], jobs=1, incremental=state)
    assert scanned(second) == {"scanned": 0, "reused": len(first["repos"])}
    assert [(path, path.stat().st_mtime_ns) for path, _ in written] == written, "nothing changed: nothing rewritten"
    assert second["scan"]["similarity"]["result_reused"], "no skill changed: the promotion candidates are reused whole"
    assert _comparable(second) == _comparable(first)

    # a new commit in the git repository, and an edit in a folder without git: those two are rescanned
    settings_edit(history, lambda s: s["permissions"]["allow"].append("Bash(*)"))
    git(history, "commit", "-q", "-am", "allow everything")
    settings_edit(repos / "team-02", lambda s: s["permissions"].update(deny=[]))
    third = build_report(fleet["root"], [str(repos)], jobs=1, incremental=state)
    assert scanned(third) == {"scanned": 2, "reused": len(first["repos"]) - 2}
    assert third["scan"]["similarity"]["result_reused"]
    rows = {r["repo"]: r for r in third["repos"]}
    assert "broad-allow" in {f["code"] for f in rows["team-01"]["flags"]}
    assert "deny-rules-removed" in {f["code"] for f in rows["team-02"]["flags"]}
    assert _comparable(third) == _comparable(build_report(fleet["root"], [str(repos)], jobs=1))

    # a team writes a new skill: the candidates are computed again, from the other skills' cached features
    add_skill(repos / "team-05", SKILLS[0][1] + "-ours", SKILLS[0][3].replace("production", "production and staging"))
    fourth = build_report(fleet["root"], [str(repos)], jobs=1, incremental=state)
    assert fourth["scan"]["similarity"] == {"result_reused": False, "texts_reused": texts, "texts_computed": 1}
    assert _comparable(fourth) == _comparable(build_report(fleet["root"], [str(repos)], jobs=1))
    assert any("team-05" in c["teams"] for c in fourth["org"]["promotion_candidates"] + fourth["org"]["registry_duplicates"])

    # an uncommitted edit in a git repository is not seen: HEAD did not change (documented)
    settings_edit(history, lambda s: s["permissions"].update(deny=[]))
    assert build_report(fleet["root"], [str(repos)], jobs=1, incremental=state)["scan"]["scanned"] == 0
    state.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot be read"):
        build_report(fleet["root"], [str(repos)], jobs=1, incremental=state)


# ---------------------------------------------------------------- who can do what


def test_who_can_do_what_per_repository_and_team(fleet: dict, tmp_path: Path, rendered_team: Path) -> None:
    repos = tmp_path / "repos"
    copy_repo(rendered_team, repos / "plain", "plain")
    strict = copy_repo(rendered_team, repos / "strict", "strict")
    settings_edit(strict, lambda s: s["permissions"]["deny"].append("Bash(git push:*)"))
    loose = copy_repo(rendered_team, repos / "loose", "loose")
    settings_edit(loose, lambda s: (s["hooks"].pop("PreToolUse"), s["permissions"]["allow"].extend(
        ["Bash(npm publish:*)", "WebFetch(domain:example.org)", "mcp__memory__create_entities"]),
        s["permissions"].update(ask=[r for r in s["permissions"]["ask"] if "publish" not in r]),
        s.update(sandbox={"enabled": True, "network": {"allowedDomains": ["registry.example"]}})))
    answers = loose / ".copier-answers.yml"
    answers.write_text(answers.read_text(encoding="utf-8") + "agents: [claude-code, codex]\n", encoding="utf-8")
    second = copy_repo(rendered_team, repos / "loose-infra", "loose")
    settings_edit(second, lambda s: (s["hooks"].pop("PreToolUse"), s["permissions"]["allow"].append("Bash(terraform:*)"),
                                     s["permissions"].update(ask=[r for r in s["permissions"]["ask"] if "terraform" not in r])))
    unsandboxed = copy_repo(rendered_team, repos / "unsandboxed", "unsandboxed")
    settings_edit(unsandboxed, lambda s: s["sandbox"].update(enabled=False))
    still_asks = copy_repo(rendered_team, repos / "guarded", "guarded")  # an allow rule, but the guard hook still asks
    settings_edit(still_asks, lambda s: (s["permissions"]["allow"].append("Bash(npm publish:*)"),
                                         s["permissions"].update(ask=[r for r in s["permissions"]["ask"] if "publish" not in r])))

    data = build_report(fleet["root"], [str(repos)], jobs=1)
    caps = {r["repo"]: r["capabilities"] for r in data["repos"]}
    assert (caps["plain"]["push"], caps["plain"]["publish"], caps["plain"]["infrastructure"]) == ("allow", "ask", "ask")
    rendered = json.loads((rendered_team / ".claude/settings.json").read_text(encoding="utf-8"))["sandbox"]
    assert caps["plain"]["agents"] == ["claude-code"] and caps["plain"]["network_hosts"] == sorted(rendered["network"]["allowedDomains"])
    assert {t["tool"]: t["decision"] for t in caps["plain"]["mcp_write_tools"]}["mcp__memory__create_entities"] == "ask"
    assert caps["strict"]["push"] == "deny"
    assert caps["loose"]["publish"] == "allow", "no guard hook to ask, no ask rule, and an allow rule"
    assert caps["guarded"]["publish"] == "ask", "the guard hook's policy asks whatever the settings allow"
    assert caps["loose"]["network_hosts"] == ["example.org", "registry.example"]
    assert caps["loose"]["sandbox"] is True and caps["plain"]["sandbox"] is True and caps["unsandboxed"]["sandbox"] is False
    assert "sandbox-off" in {f["code"] for r in data["repos"] if r["repo"] == "unsandboxed" for f in r["flags"]}
    assert caps["loose"]["agents"] == ["claude-code", "codex"]
    assert {t["tool"]: t["decision"] for t in caps["loose"]["mcp_write_tools"]}["mcp__memory__create_entities"] == "allow"
    assert caps["loose-infra"]["infrastructure"] == "allow" and caps["loose"]["infrastructure"] == "ask"
    by_team = {t["team"]: t for t in data["org"]["capabilities"]["by_team"]}
    assert by_team["loose"]["repos"] == ["loose", "loose-infra"], "a team's second repository, named"
    assert (by_team["loose"]["publish"], by_team["loose"]["infrastructure"]) == ("allow", "allow")
    assert data["org"]["capabilities"]["summary"]["push"] == {"allow": 5, "ask": 0, "deny": 1}
    labels = {r["repo"]: r["team"] for r in data["repos"]}
    assert labels["loose-infra"] == labels["loose"] == "loose"
    markdown = subprocess.run([str(Path(sys.executable).parent / "agent-foundation"), "--root", str(fleet["root"]), "fleet",
                               str(repos), "--markdown"], capture_output=True, text=True, timeout=120).stdout
    assert "| loose / loose-infra | allow | ask | allow |" in markdown.replace("  ", " ")


# ---------------------------------------------------------------- adoption lag and onboarding, from git history


def _commit(repo: Path, when: int, message: str) -> None:
    env = {**os.environ, "GIT_COMMITTER_DATE": f"@{when} +0000", "GIT_AUTHOR_DATE": f"@{when} +0000"}
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", message],
                   cwd=repo, check=True, env=env)


def test_adoption_lag_and_onboarding_from_git_history(fleet: dict, tmp_path: Path, rendered_team: Path) -> None:
    repos = tmp_path / "repos"
    start = TAGGED["v0.1.0"]
    plan = {  # repo: (days before its render that it started, [(release, days after that release's tag)])
        "early": (0, [("v0.1.0", 1), ("v0.2.0", 2), ("v0.3.0", 4)]),
        "late": (10, [("v0.1.0", 20), ("v0.3.0", 30)]),
        "slow": (3, [("v0.2.0", 8)]),
    }
    for name, (started_before, steps) in plan.items():
        repo = repos / name
        repo.mkdir(parents=True)
        git(repo, "init", "-q", "-b", "main")
        (repo / "README.md").write_text("a service\n", encoding="utf-8")
        first_release, first_delay = steps[0]
        render_at = TAGGED[first_release] + first_delay * DAY
        _commit(repo, render_at - started_before * DAY, "start")
        for release, delay in steps:
            tmp_copy = tmp_path / "render" / name
            copy_repo(rendered_team, tmp_copy, name, release)
            for item in tmp_copy.iterdir():
                target = repo / item.name
                if target.is_dir():
                    shutil.rmtree(target)
                shutil.move(str(item), target)
            _commit(repo, TAGGED[release] + delay * DAY, f"take {release}")
            shutil.rmtree(tmp_copy)
    data = build_report(fleet["root"], [str(repos)], jobs=1)
    rows = {r["repo"]: r for r in data["repos"]}
    assert rows["late"]["dates"]["onboarding_days"] == 10 and rows["early"]["dates"]["onboarding_days"] == 0
    assert set(rows["late"]["dates"]["took"]) == {"0.1.0", "0.3.0"}
    lag = {item["release"]: item for item in data["org"]["adoption_lag"]}
    assert lag["0.1.0"]["took"] == 2 and lag["0.1.0"]["median_days"] == 20 and lag["0.1.0"]["max_days"] == 20
    assert lag["0.2.0"]["took"] == 2 and sorted([2, 8])[1] == lag["0.2.0"]["median_days"] and lag["0.2.0"]["max_days"] == 8
    assert lag["0.3.0"]["took"] == 2 and lag["0.3.0"]["pending"] == 1 and lag["0.3.0"]["max_days"] == 30
    assert lag["0.3.0"]["tagged_at"] == datetime.datetime.fromtimestamp(TAGGED["v0.3.0"], datetime.timezone.utc).isoformat()
    onboarding = data["org"]["onboarding"]
    assert onboarding == {"repos_with_history": 3, "rendered_in_first_commit": 1, "median_days": 3, "p90_days": 10, "max_days": 10}
    db = tmp_path / "history.sqlite"
    assert main(["--root", str(fleet["root"]), "fleet", str(repos), "--record", str(db), "--json", str(tmp_path / "r.json")]) == 0
    run = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["trends"]["runs"][-1]
    assert run["latest_lag_days"] == 30 and run["onboarding_days"] == 3
    no_history = build_report(fleet["root"], [str(repos)], jobs=1, git_history=False)
    assert all(r["dates"] is None for r in no_history["repos"]) and no_history["org"]["onboarding"]["repos_with_history"] == 0


def test_skill_adoption_by_team(fleet: dict, tmp_path: Path, rendered_team: Path) -> None:
    repos = tmp_path / "repos"
    copy_repo(rendered_team, repos / "registry-only", "registry-only")
    both = copy_repo(rendered_team, repos / "both", "both")
    add_skill(both, "our-own", SKILLS[0][3])
    own = copy_repo(rendered_team, repos / "own-only", "own-only")
    edit_json(own / ".claude/foundation/manifest.json", lambda m: m.update(skills=[]))
    shutil.rmtree(own / ".claude/skills")
    add_skill(own, "ours", SKILLS[4][3])
    chooser = copy_repo(rendered_team, repos / "chooser", "chooser")
    release_notes = (TEMPLATE_ROOT / "foundation/skills/release-notes/SKILL.md").read_text(encoding="utf-8")
    add_skill(chooser, "release-notes", release_notes)
    data = build_report(fleet["root"], [str(repos)], jobs=1)
    adoption = data["org"]["skill_adoption"]
    assert (adoption["registry_only"], adoption["both"], adoption["own_only"], adoption["none"]) == (2, 1, 1, 0)
    assert adoption["registry_share"] == 0.75 and adoption["own_only_share"] == 0.25
    assert adoption["beyond_defaults_share"] == 0.25, "only the team that added release-notes chose beyond the defaults"
