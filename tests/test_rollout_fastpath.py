"""The rollout's fast path gives exactly what `copier update` gives, and declines wherever a team edit exists.

Every scenario of tests/test_update.py whose foundation files carry no team edit is rolled out (one rollout per
release, every scenario a bare remote) and compared, file by file with modes, with a plain
`copier update --trust --defaults` of the same commit: the whole tree, `.copier-answers.yml` included. The
scenarios with a team edit of a foundation file must decline, naming the edit, and take the full path.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.rendering import commit_all, git
from tests.template_versions import ORG_RULES_NEW, ORG_RULES_OLD, build_template_versions
from tests.test_rollout import heads, rollout
from tests.update_support import (
    LOCAL_SETTINGS, TEAM_AGENTS_MD, TEAM_CLAUDE_MD, TEAM_SKILL, TEAM_HOOK, render_at,
)

from agent_foundation.rollout import fastpath

VENV_BIN = str(Path(sys.executable).parent)


def team_owned_edits(repo: Path) -> None:
    """test_update's team edits that touch only the team's own files (CLAUDE.md, its part of AGENTS.md, its own
    skill, local settings, its code): no foundation file changes, so the fast path applies."""
    with (repo / "CLAUDE.md").open("a") as handle:
        handle.write(TEAM_CLAUDE_MD)
    agents = (repo / "AGENTS.md").read_text()
    (repo / "AGENTS.md").write_text(agents.replace("# Instructions for coding agents\n",
                                                   "# Instructions for coding agents\n\n" + TEAM_AGENTS_MD))
    (repo / ".claude/skills/team-runbook").mkdir(parents=True)
    (repo / ".claude/skills/team-runbook/SKILL.md").write_text(TEAM_SKILL)
    (repo / ".claude/settings.local.json").write_text(LOCAL_SETTINGS)
    (repo / "src").mkdir()
    (repo / "src/app.py").write_text("print('payments')\n")
    commit_all(repo, "team edits its own files")


def files_with_modes(repo: Path) -> dict[str, tuple[bytes, bool]]:
    return {str(path.relative_to(repo)): (path.read_bytes(), bool(path.stat().st_mode & stat.S_IXUSR))
            for path in sorted(repo.rglob("*")) if path.is_file() and ".git" not in path.relative_to(repo).parts}


def copier_update(remote: Path, dst: Path, version: str) -> Path:
    subprocess.run(["git", "clone", "-q", str(remote), str(dst)], check=True, timeout=60)
    env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ["PATH"]}
    run = subprocess.run(["copier", "update", "--trust", "--defaults", "--quiet", "--vcs-ref", version], cwd=dst, env=env,
                         capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr
    return dst


def publish_bare(repo: Path, remotes: Path) -> Path:
    bare = remotes / f"{repo.name}.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True, timeout=60)
    return bare


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return build_template_versions(tmp_path_factory.mktemp("fastpath") / "agent-foundation")


def take(repo: Path, version: str) -> None:
    env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ["PATH"]}
    run = subprocess.run(["copier", "update", "--trust", "--defaults", "--quiet", "--vcs-ref", version], cwd=repo, env=env,
                         capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr
    commit_all(repo, f"take {version}")


def test_the_fast_path_is_byte_identical_to_copier_update_on_every_scenario_it_takes(template, tmp_path):
    teams, remotes = tmp_path / "teams", tmp_path / "remotes"
    remotes.mkdir()
    scenarios: dict[str, tuple[Path, str]] = {}
    # test_plain_copier_update_still_works: a team as rendered, one release (a renamed file, a renamed answer,
    # a retired skill, a newly offered skill: every migration kind) ...
    plain = render_at(template, teams / "plain")
    scenarios["plain"] = (plain, "v0.2.0")
    # ... and two releases at once (test_versions_in_a_row_equal_a_jump, the jump)
    scenarios["jump"] = (render_at(template, teams / "jump"), "v0.3.0")
    # test_versions_in_a_row_equal_a_jump, the second step
    stepwise = render_at(template, teams / "stepwise")
    take(stepwise, "v0.2.0")
    scenarios["stepwise"] = (stepwise, "v0.3.0")
    # test_a_declined_recommended_skill_is_not_offered_again: declined at 0.2.0, not offered again at 0.3.0
    declined = render_at(template, teams / "declined")
    take(declined, "v0.2.0")
    env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ["PATH"]}
    subprocess.run(["copier", "update", "--trust", "--defaults", "--quiet", "--vcs-ref", "v0.2.0", "--data",
                    'skills=["code-review", "security-review"]'], cwd=declined, env=env, check=True, timeout=300,
                   capture_output=True, stdin=subprocess.DEVNULL)
    commit_all(declined, "decline api-design")
    scenarios["declined"] = (declined, "v0.3.0")
    # test_release_reaches_the_team_and_keeps_every_edit, the edits of the team's own files
    owned = render_at(template, teams / "owned")
    team_owned_edits(owned)
    scenarios["owned"] = (owned, "v0.2.0")

    bares = {name: publish_bare(repo, remotes) for name, (repo, _) in scenarios.items()}
    workdir = tmp_path / "work"
    rows = {}
    for version in ("v0.2.0", "v0.3.0"):
        names = [name for name, (_, target) in scenarios.items() if target == version]
        run = rollout(template, version, *(str(bares[name]) for name in names), "--jobs", "2", "--workdir", str(workdir),
                      "--json", timeout=600)
        assert run.returncode == 0, run.stderr + run.stdout
        for row in json.loads(run.stdout)["repos"]:
            rows[Path(row["source"]).name.removesuffix(".git")] = row
    for name, (_, version) in scenarios.items():
        row = rows[name]
        assert row["status"] == "updated" and row["path"] == "fast", (name, row)
        expected = files_with_modes(copier_update(bares[name], tmp_path / "copier" / name, version))
        got = files_with_modes(Path(row["clone"]))
        assert got.keys() == expected.keys(), (name, sorted(got.keys() ^ expected.keys()))
        for path in expected:
            assert got[path] == expected[path], (name, path)
        assert ".copier-answers.yml" in got and "AGENTS.md" in got
    assert TEAM_AGENTS_MD in (Path(rows["owned"]["clone"]) / "AGENTS.md").read_text()  # the team's text, refreshed section
    assert not (Path(rows["plain"]["clone"]) / ORG_RULES_OLD).exists() and (Path(rows["plain"]["clone"]) / ORG_RULES_NEW).is_file()
    message = git(Path(rows["plain"]["clone"]), "log", "-1", "--format=%B")
    assert "New deny rule prod-db-reset." in message and "rendered directly" in message


@pytest.fixture(scope="module")
def rendered(template, tmp_path_factory) -> dict:
    """One team at v0.1.0 and the release v0.2.0 rendered for it, to try each kind of team edit against."""
    base = tmp_path_factory.mktemp("declines")
    team = render_at(template, base / "team")
    manifest_text = (team / fastpath.MANIFEST).read_text()
    answers_text = (team / fastpath.ANSWERS).read_text()
    files = sorted(json.loads(manifest_text)["files"])
    render = fastpath.render_release(str(template), "v0.2.0", answers_text, manifest_text, "v0.1.0", str(base / "render"),
                                     str(team), files)
    return {"base": base, "team": team, "render": render, "manifest": json.loads(manifest_text), "answers": answers_text}


def _edit_org_rules(repo: Path) -> None:
    rules = repo / ORG_RULES_OLD
    rules.write_text(rules.read_text().replace("# Organisation rules\n", "# Organisation rules\n<!-- ours -->\n", 1))


def _add_team_hook(repo: Path) -> None:
    settings = json.loads((repo / ".claude/settings.json").read_text())
    settings["hooks"]["PreToolUse"].append(TEAM_HOOK)
    (repo / ".claude/settings.json").write_text(json.dumps(settings, indent=2) + "\n")


def _add_mcp_server(repo: Path) -> None:
    mcp = json.loads((repo / ".mcp.json").read_text())
    mcp["mcpServers"]["team-tickets"] = {"command": "node", "args": ["tools/tickets-mcp.js"]}
    (repo / ".mcp.json").write_text(json.dumps(mcp, indent=2))


def _crlf_checkout(repo: Path) -> None:
    guard = repo / ".claude/foundation/hooks/guard.py"
    guard.write_bytes(guard.read_bytes().replace(b"\n", b"\r\n"))


TEAM_EDITS = {
    # test_release_reaches_the_team_and_keeps_every_edit / test_conflict_is_reported_and_the_repo_is_restored
    "an edited org rule": (_edit_org_rules, ORG_RULES_OLD),
    "a hand-added hook": (_add_team_hook, ".claude/settings.json"),
    # test_hand_edits_of_foundation_json_stay_valid_and_are_carried
    "a hand-added MCP server": (_add_mcp_server, ".mcp.json"),
    # test_hand_edited_registry_skill_is_kept_and_named
    "an edited registry skill": (lambda repo: (repo / ".claude/skills/code-review/SKILL.md").open("a").write("\nPayments: idempotency.\n"),
                                 ".claude/skills/code-review/SKILL.md"),
    # test_an_edit_of_the_foundations_code_fails_the_update
    "an edited posture check": (lambda repo: (repo / ".claude/foundation/check.py").open("a").write("\n# weakened\n"),
                                ".claude/foundation/check.py"),
    # test_a_windows_checkout_updates_like_any_other: the same to the manifest, not to a byte copy
    "a CRLF checkout": (_crlf_checkout, ".claude/foundation/hooks/guard.py"),
    "a deleted foundation file": (lambda repo: (repo / ".claude/foundation/hooks/audit.py").unlink(), ".claude/foundation/hooks/audit.py"),
    "a deleted CLAUDE.md": (lambda repo: (repo / "CLAUDE.md").unlink(), "CLAUDE.md"),
    "a hand-edited answer": (lambda repo: (repo / ".copier-answers.yml").write_text(
        (repo / ".copier-answers.yml").read_text().replace("team_name:", "team_name: Renamed\nold_team_name:")), ".copier-answers.yml"),
}


@pytest.mark.parametrize("edit", sorted(TEAM_EDITS))
def test_every_team_edit_of_a_foundation_file_declines(rendered, tmp_path, edit):
    change, named = TEAM_EDITS[edit]
    repo = tmp_path / "team"
    subprocess.run(["git", "clone", "-q", str(rendered["team"]), str(repo)], check=True, timeout=60)
    change(repo)
    with pytest.raises(fastpath.Declined) as declined:
        fastpath.check_unedited(repo, (repo / fastpath.ANSWERS).read_text(), rendered["manifest"])
    assert named in str(declined.value)


def test_a_team_file_where_the_release_adds_one_declines(rendered, tmp_path):
    repo = tmp_path / "team"
    subprocess.run(["git", "clone", "-q", str(rendered["team"]), str(repo)], check=True, timeout=60)
    (repo / ".claude/skills/api-design").mkdir(parents=True)
    (repo / ".claude/skills/api-design/SKILL.md").write_text("---\nname: api-design\ndescription: ours\n---\n")
    commit_all(repo, "our own api-design skill")
    old_files = fastpath.check_unedited(repo, (repo / fastpath.ANSWERS).read_text(), rendered["manifest"])
    base = git(repo, "rev-parse", "HEAD").strip()
    with pytest.raises(fastpath.Declined, match=".claude/skills/api-design/SKILL.md"):
        fastpath.apply_release(rendered["render"], str(repo), base, old_files, "0.1.0", None)


def test_a_declined_repository_takes_the_full_path_and_says_why(template, tmp_path):
    team = render_at(template, tmp_path / "teams" / "edited")
    _add_team_hook(team)
    commit_all(team, "a hand-added hook")
    bare = publish_bare(team, tmp_path)
    run = rollout(template, "v0.2.0", str(bare), "--workdir", str(tmp_path / "work"), "--json", timeout=300)
    row = json.loads(run.stdout)["repos"][0]
    assert run.returncode == 0 and row["status"] == "updated", row
    assert row["path"] == "full" and "edited the foundation file .claude/settings.json" in row["path_reason"]
    assert any("your PreToolUse hook" in w and "carried into the answer" in w for w in row["warnings"])  # the carry
    assert set(heads(bare)) == {"refs/heads/main"}  # no --push: nothing left the machine
