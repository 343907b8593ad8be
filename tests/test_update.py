"""What update.py adds around Copier's update: the dirty-tree refusal, restoring on failure, --json, the lock,
versions in a row. The kinds of team edit are in test_update_scenarios.py, the signals in test_update_signals.py.

One test per scenario, each on a team rendered at v0.1.0 of a throwaway, tagged template repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.claude_client.mock_messages_api import ToolCall

from tests.rendering import commit_all, git
from tests.template_versions import BETTER_ORG_RULE_V3, ORG_RULES_NEW, ORG_RULES_OLD, build_template_versions
from tests.update_support import (  # noqa: F401 - edited_team, team and template_repo are fixtures
    RUNNERS, edited_team, make_team_edits, render_at, snapshot, team, template_repo, tree, update_py as update,
)


def test_versions_in_a_row_equal_a_jump(template_repo, tmp_path):
    stepwise, jump = (render_at(template_repo, tmp_path / name) for name in ("stepwise", "jump"))
    for repo in (stepwise, jump):
        make_team_edits(repo)
    assert update(stepwise, "--vcs-ref", "v0.2.0").returncode == 0
    commit_all(stepwise, "take 0.2.0")
    run = update(stepwise, "--vcs-ref", "v0.3.0")
    assert run.returncode == 0, run.stdout + run.stderr
    run = update(jump, "--vcs-ref", "v0.3.0")
    assert run.returncode == 0, run.stdout + run.stderr
    assert BETTER_ORG_RULE_V3 in (jump / ORG_RULES_NEW).read_text()
    assert tree(stepwise) == tree(jump)


def test_dirty_tree_is_refused_and_nothing_changes(team):
    (team / "src/app.py").write_text("print('work in progress')\n")
    before = snapshot(team)
    run = update(team, "--vcs-ref", "v0.2.0")
    assert run.returncode == 1
    assert "uncommitted changes" in run.stderr and "src/app.py" in run.stderr and "commit or stash" in run.stderr
    assert snapshot(team) == before


def team_rewriting_the_last_org_rule(template: Path, dst: Path) -> Path:
    """The team rewrites the very line the next release appends after: a real conflict."""
    repo = render_at(template, dst)
    rules = repo / ORG_RULES_OLD
    lines = rules.read_text().rstrip("\n").split("\n")
    rules.write_text("\n".join(lines[:-1] + ["- Our own last rule, replacing the organisation's."]) + "\n")
    commit_all(repo, "team rewrites the last org rule")
    return repo


def test_conflict_is_reported_and_the_repo_is_restored(template_repo, tmp_path):
    repo = team_rewriting_the_last_org_rule(template_repo, tmp_path / "team")
    before = snapshot(repo)
    run = update(repo, "--vcs-ref", "v0.2.0")
    assert run.returncode == 1, run.stdout
    assert "conflict" in run.stderr and ORG_RULES_NEW in run.stderr
    assert "exactly as it was" in run.stderr and "What to do" in run.stderr
    assert snapshot(repo) == before


def test_a_conflict_under_renovate_fails_the_run_and_names_the_file(template_repo, tmp_path):
    """Copier alone exits 0 on a conflict; the template's after stage makes it fail, so Renovate reports an
    artifact error instead of opening a pull request with conflict markers, and every JSON file still parses."""
    repo = team_rewriting_the_last_org_rule(template_repo, tmp_path / "team")
    run = RUNNERS["renovate"](repo, "v0.2.0")
    assert run.returncode != 0
    assert f"{ORG_RULES_NEW}: conflict between your edit and the new foundation" in run.stderr
    assert "git reset --hard && git clean -fd" in run.stderr  # how to undo it, with plain Copier
    for path in (".claude/settings.json", ".mcp.json", ".claude/foundation/policy.json"):
        json.loads((repo / path).read_text())


def test_json_output_gives_the_outcome_and_the_conflicted_files(template_repo, tmp_path):
    repo = team_rewriting_the_last_org_rule(template_repo, tmp_path / "team")
    run = update(repo, "--json", "--vcs-ref", "v0.2.0")
    assert run.returncode == 1
    result = json.loads(run.stdout)
    assert result["outcome"] == "conflict" and result["conflicts"] == [ORG_RULES_NEW] and result["restored"] is True
    assert result["from_version"] == "0.1.0" and result["fix"]


def test_json_output_of_a_successful_update_lists_what_was_carried(team):
    run = update(team, "--json", "--vcs-ref", "v0.2.0")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["outcome"] == "updated" and (result["from_version"], result["to_version"]) == ("0.1.0", "0.2.0")
    assert any(note["kind"] == "carried" and "PreToolUse hook" in note["text"] for note in result["notes"])
    assert "prod-db-reset" in result["changelog"] and result["conflicts"] == []


def test_a_second_update_while_one_runs_is_refused(team):
    marker = team / ".git/agent-foundation/update-in-progress.json"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"pid": os.getpid(), "head": git(team, "rev-parse", "HEAD").strip(), "started": "now"}))
    before = snapshot(team)
    run = update(team, "--json", "--vcs-ref", "v0.2.0")
    assert run.returncode == 1 and json.loads(run.stdout)["outcome"] == "busy"
    assert f"pid {os.getpid()}" in json.loads(run.stdout)["problems"][0]
    assert snapshot(team) == before and marker.is_file()  # the running update's marker is not touched


def release_with_a_failing_migration(code: str):
    """A v0.2.0 whose own migration runs `code` (Python) and dies: Copier alone leaves a half-updated tree."""
    def release(root: Path) -> None:
        copier_yml = root / "copier.yml"
        copier_yml.write_text(copier_yml.read_text().replace("_migrations:\n", (
            "_migrations:\n"
            "  - version: v0.2.0\n"
            f"    command: [\"{{{{ _copier_python }}}}\", \"-c\", {json.dumps(code)}]\n"
        ), 1))
    return release


def test_a_restore_that_fails_says_so_and_gives_the_command_that_finishes_it(tmp_path):
    # The failing migration also leaves git's index locked (as a crashed git would): update.py cannot put the
    # tree back, and must not claim it did.
    code = "open('.git/index.lock', 'w'); raise SystemExit('failed on purpose')"
    template = build_template_versions(tmp_path / "template", {"v0.2.0": release_with_a_failing_migration(code)})
    repo = render_at(template, tmp_path / "team")
    make_team_edits(repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    run = update(repo, "--vcs-ref", "v0.2.0")
    assert run.returncode == 1
    assert "could NOT be put back" in run.stderr and "exactly as it was" not in run.stderr
    assert f"git reset --hard {head} && git clean -fd" in run.stderr
    (repo / ".git/index.lock").unlink()
    rerun = update(repo, "--vcs-ref", "v0.2.0")  # the marker was kept: the next run recovers first
    assert "was interrupted" in rerun.stderr and "git stash" in rerun.stderr
    assert git(repo, "rev-parse", "HEAD").strip() == head


def test_failing_migration_restores_the_repo(tmp_path):
    code = "raise SystemExit('migration failed on purpose')"
    template = build_template_versions(tmp_path / "template", {"v0.2.0": release_with_a_failing_migration(code)})
    repo = render_at(template, tmp_path / "team")
    make_team_edits(repo)
    before = snapshot(repo)
    run = update(repo, "--vcs-ref", "v0.2.0")
    assert run.returncode == 1
    assert "migration failed on purpose" in run.stderr
    assert "copier update failed" in run.stderr and "exactly as it was" in run.stderr
    assert snapshot(repo) == before


def test_a_broken_migration_entry_fails_before_anything_changes(tmp_path):
    def broken_release(root: Path) -> None:
        path = root / "foundation/migrations.yml"
        path.write_text(path.read_text().replace("migrations: []", "migrations:\n  - version: 0.2.0\n    renamed_answers: [{from: owner}]\n"))

    template = build_template_versions(tmp_path / "template", {"v0.2.0": broken_release})
    repo = render_at(template, tmp_path / "team")
    before = snapshot(repo)
    run = update(repo, "--vcs-ref", "v0.2.0")
    assert run.returncode == 1
    assert "foundation/migrations.yml" in run.stdout + run.stderr and "needs a from and a to" in run.stdout + run.stderr
    assert snapshot(repo) == before


def test_a_declined_recommended_skill_is_not_offered_again(team):
    assert update(team, "--vcs-ref", "v0.2.0").returncode == 0
    answers = yaml.safe_load((team / ".copier-answers.yml").read_text())
    commit_all(team, "take 0.2.0")
    declined = [skill for skill in answers["skills"] if skill != "api-design"]
    run = update(team, "--vcs-ref", "v0.2.0", "--data", f"skills={json.dumps(declined)}")
    assert run.returncode == 0, run.stdout + run.stderr
    commit_all(team, "decline api-design")
    run = update(team, "--vcs-ref", "v0.3.0")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "api-design" not in yaml.safe_load((team / ".copier-answers.yml").read_text())["skills"]
    assert not (team / ".claude/skills/api-design").exists()


def test_hand_edited_registry_skill_is_kept_and_named(template_repo, tmp_path):
    repo = render_at(template_repo, tmp_path / "team")
    skill = repo / ".claude/skills/code-review/SKILL.md"
    text = skill.read_text()
    heading_end = text.index("\n", text.index("\n# ") + 1) + 1  # just after the first heading of the body
    skill.write_text(text[:heading_end] + "\nPayments: also check idempotency keys.\n" + text[heading_end:])
    commit_all(repo, "team tweaks the review skill")
    run = update(repo, "--vcs-ref", "v0.2.0")
    assert run.returncode == 0, run.stdout + run.stderr
    merged = skill.read_text()
    assert "also check idempotency keys" in merged and "authorisation test" in merged
    assert "flagged by the posture check: .claude/skills/code-review/SKILL.md" in run.stdout


def test_the_real_client_enforces_the_foundation_after_an_update(team, run_claude):
    assert update(team, "--vcs-ref", "v0.2.0").returncode == 0
    commit_all(team, "take 0.2.0")
    run = run_claude(team, [ToolCall("Bash", {"command": "prod-db-reset --all", "description": "x"}),
                            ToolCall("Bash", {"command": "sh -c 'git push --force origin main'", "description": "x"})],
                     trusted=True)
    new_rule, old_rule = run.result(0), run.result(1)
    assert new_rule.is_error and "prod-db-reset" in new_rule.content, run.describe()  # the guard knows the new rule
    assert old_rule.is_error and "git-force-push" in old_rule.content, run.describe()
    log = json.loads((team / ".claude/foundation/policy.json").read_text())["audit"]["path"]
    events = [json.loads(line)["event"] for line in (team / log).read_text().splitlines()]
    assert events.count("PreToolUse") == 2  # the audit hook still records every call


def test_an_edit_of_the_foundations_code_fails_the_update(template_repo, tmp_path):
    repo = render_at(template_repo, tmp_path / "team")
    check = repo / ".claude/foundation/check.py"
    check.write_text(check.read_text().replace('"""', '"""Weakened by hand.\n', 1))
    commit_all(repo, "team edits the posture check")
    before = snapshot(repo)
    run = update(repo, "--vcs-ref", "v0.2.0")
    assert run.returncode == 1
    assert ".claude/foundation/check.py" in run.stderr and "exactly as it was" in run.stderr
    assert snapshot(repo) == before


def test_a_windows_checkout_updates_like_any_other(template_repo, tmp_path):
    """A teammate on Git for Windows (core.autocrlf=true, every text file checked out with CRLF) takes the
    release: nothing is mistaken for an edit of the foundation, and the posture holds afterwards."""
    rendered = render_at(template_repo, tmp_path / "payments-api")
    clone = tmp_path / "windows"
    subprocess.run(["git", "clone", "-q", "-c", "core.autocrlf=true", str(rendered), str(clone)], check=True, timeout=60)
    assert b"\r\n" in (clone / ".claude/foundation/hooks/guard.py").read_bytes()
    run = update(clone, "--vcs-ref", "v0.2.0")
    assert run.returncode == 0, run.stdout + run.stderr
    warnings = [line for line in run.stdout.splitlines() if line.startswith("warning:")]
    assert not [w for w in warnings if any(word in w for word in ("carried", "restored", "kept"))], warnings
    assert "Bash(prod-db-reset:*)" in json.loads((clone / ".claude/settings.json").read_text())["permissions"]["deny"]
    check = subprocess.run(["python3", ".claude/foundation/check.py"], cwd=clone, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout


TEAM_CURSOR_RULE = "---\ndescription: our review rule\nalwaysApply: false\n---\nReview money code twice.\n"
TEAM_COPILOT_INSTRUCTIONS = "# Payments\nUse integer cents.\n"


def test_every_agents_files_update_and_the_teams_own_are_kept(template_repo, tmp_path):
    """A Codex, Copilot and Cursor team: the release's new deny rule reaches each agent's files; the team's own
    Cursor rule, Copilot instructions and Codex keys (extra_codex_config) are kept byte for byte."""
    repo = render_at(template_repo, tmp_path / "team", agents=["claude-code", "codex", "copilot", "cursor"],
                     extra_codex_config={"model": "gpt-5.2"})
    (repo / ".cursor/rules/team-review.mdc").write_text(TEAM_CURSOR_RULE)
    (repo / ".github/copilot-instructions.md").write_text(TEAM_COPILOT_INSTRUCTIONS)
    commit_all(repo, "team files for other agents")
    run = update(repo, "--vcs-ref", "v0.2.0")
    assert run.returncode == 0, run.stdout + run.stderr
    assert (repo / ".cursor/rules/team-review.mdc").read_text() == TEAM_CURSOR_RULE
    assert (repo / ".github/copilot-instructions.md").read_text() == TEAM_COPILOT_INSTRUCTIONS
    assert 'model = "gpt-5.2"' in (repo / ".codex/config.toml").read_text()
    assert 'prefix_rule(pattern=["prod-db-reset"], decision="forbidden"' in (repo / ".codex/rules/agent-foundation.rules").read_text()
    assert "Shell(prod-db-reset)" in json.loads((repo / ".cursor/cli.json").read_text())["permissions"]["deny"]
    assert (repo / ".agents/skills").is_symlink()
    check = subprocess.run([sys.executable, ".claude/foundation/check.py"], cwd=repo, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
