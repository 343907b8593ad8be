"""copier update through update.py: every foundation change arrives, nothing of the team's is lost.

One test per scenario, each on a team rendered at v0.1.0 of a throwaway, tagged template repository.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.claude_client.mock_messages_api import ToolCall

from tests.rendering import commit_all, git, render_team
from tests.template_versions import (
    BETTER_ORG_RULE_V3, HOOK_FIX, NEW_ORG_RULE, ORG_RULES_NEW, ORG_RULES_OLD, build_template_versions,
)

VENV_BIN = str(Path(sys.executable).parent)
TEAM_CLAUDE_MD = "\n## Our conventions\nMoney is in integer cents.\n"
TEAM_AGENTS_MD = "Ledger rules: never touch migrations/ by hand.\n"
TEAM_SKILL = "---\nname: team-runbook\ndescription: Our on-call runbook. Use when paging.\n---\n\n# Runbook\n"
TEAM_ORG_RULES_EDIT = "\n<!-- payments: we also follow the PCI checklist in docs/pci.md -->\n"
TEAM_HOOK = {"matcher": "Bash", "hooks": [{"type": "command", "command": "echo team-hook"}]}
LOCAL_SETTINGS = '{"permissions": {"allow": ["Bash(ls:*)"]}}\n'
CUSTOM_AUDIT = ".claude/audit/payments.jsonl"


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory) -> Path:
    return build_template_versions(tmp_path_factory.mktemp("template") / "agent-foundation")


def render_at(template: Path, dst: Path, version: str = "v0.1.0", **answers) -> Path:
    return render_team(dst, {"skills": ["code-review", "writing-tests"], "audit_log": CUSTOM_AUDIT, **answers},
                       template=template, vcs_ref=version)


def make_team_edits(repo: Path) -> None:
    """What a real team does after rendering, committed."""
    with (repo / "CLAUDE.md").open("a") as f:
        f.write(TEAM_CLAUDE_MD)
    agents = (repo / "AGENTS.md").read_text()
    (repo / "AGENTS.md").write_text(agents.replace("# Instructions for coding agents\n", "# Instructions for coding agents\n\n" + TEAM_AGENTS_MD))
    (repo / ".claude/skills/team-runbook").mkdir(parents=True)
    (repo / ".claude/skills/team-runbook/SKILL.md").write_text(TEAM_SKILL)
    (repo / ".claude/settings.local.json").write_text(LOCAL_SETTINGS)
    settings = json.loads((repo / ".claude/settings.json").read_text())
    settings["hooks"]["PreToolUse"].append(TEAM_HOOK)
    (repo / ".claude/settings.json").write_text(json.dumps(settings, indent=2) + "\n")
    (repo / "src").mkdir()
    (repo / "src/app.py").write_text("print('payments')\n")
    rules = (repo / ORG_RULES_OLD).read_text()  # an edit near the top, far from the release's change
    (repo / ORG_RULES_OLD).write_text(rules.replace("# Organisation rules\n", "# Organisation rules\n" + TEAM_ORG_RULES_EDIT, 1))
    commit_all(repo, "team edits")


def update(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ["PATH"]}
    return subprocess.run(["python3", ".claude/foundation/update.py", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def snapshot(repo: Path) -> dict[str, str]:
    """Every file's hash (ignored ones included, .git excluded) plus git's own view."""
    files = {str(p.relative_to(repo)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(repo.rglob("*")) if p.is_file() and ".git" not in p.relative_to(repo).parts}
    files["<git status>"] = git(repo, "status", "--porcelain", "--ignored")
    files["<HEAD>"] = git(repo, "rev-parse", "HEAD")
    return files


def tree(repo: Path) -> dict[str, str]:
    return {k: v for k, v in snapshot(repo).items() if not k.startswith("<")}


@pytest.fixture
def team(template_repo, tmp_path) -> Path:
    repo = render_at(template_repo, tmp_path / "payments-api")
    make_team_edits(repo)
    return repo


def test_release_reaches_the_team_and_keeps_every_edit(team, template_repo):
    before = {p: (team / p).read_bytes() for p in ("CLAUDE.md", ".claude/skills/team-runbook/SKILL.md",
                                                   ".claude/settings.local.json", "src/app.py")}
    run = update(team, "--vcs-ref", "v0.2.0")
    assert run.returncode == 0, run.stdout + run.stderr
    # Every foundation change arrived.
    settings = json.loads((team / ".claude/settings.json").read_text())
    policy = json.loads((team / ".claude/foundation/policy.json").read_text())
    assert "Bash(prod-db-reset:*)" in settings["permissions"]["deny"]
    assert "prod-db-reset" in {rule["id"] for rule in policy["commands"]}
    assert HOOK_FIX in (team / ".claude/foundation/hooks/guard.py").read_text()
    manifest = json.loads((team / ".claude/foundation/manifest.json").read_text())
    assert manifest["template_version"] == "0.2.0"
    review = (team / ".claude/skills/code-review/SKILL.md").read_bytes()
    assert b"authorisation test" in review
    assert {"name": "code-review", "version": "1.1.0", "sha256": hashlib.sha256(review).hexdigest(), "delivery": "copy"} in manifest["skills"]
    for path, digest in manifest["files"].items():
        if path != ORG_RULES_NEW:  # carries the team's edit, reported as such
            assert hashlib.sha256((team / path).read_bytes()).hexdigest() == digest, path
    # The renamed file: in its new place, with the new org rule and the team's edit; the old one gone.
    moved = (team / ORG_RULES_NEW).read_text()
    assert NEW_ORG_RULE in moved and TEAM_ORG_RULES_EDIT.strip() in moved
    assert not (team / ORG_RULES_OLD).exists()
    # The renamed answer kept its value; the retired skill is gone, from disk and answers.
    answers = yaml.safe_load((team / ".copier-answers.yml").read_text())
    assert answers["audit_log_file"] == CUSTOM_AUDIT and "audit_log" not in answers
    assert policy["audit"]["path"] == CUSTOM_AUDIT
    assert not (team / ".claude/skills/writing-tests").exists() and "writing-tests" not in answers["skills"]
    # The recommended skill new to the registry is offered: added, and named so the team can decline it.
    assert "api-design" in answers["skills"] and (team / ".claude/skills/api-design/SKILL.md").is_file()
    assert "new recommended skill api-design" in run.stderr
    # Every team edit is there byte for byte.
    for path, content in before.items():
        assert (team / path).read_bytes() == content, path
    assert TEAM_AGENTS_MD in (team / "AGENTS.md").read_text()
    assert NEW_ORG_RULE in (team / "AGENTS.md").read_text()  # the marked section was refreshed
    assert TEAM_HOOK in settings["hooks"]["PreToolUse"]  # the hand-added hook, now carried in the answers
    assert answers["extra_settings"]["hooks"]["PreToolUse"] == [TEAM_HOOK]
    # No conflict markers, no .rej files, every JSON parses.
    for path in team.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert not path.name.endswith(".rej"), path
            content = path.read_bytes()
            assert b"<<<<<<< " not in content and b">>>>>>> " not in content, path
            if path.suffix == ".json":
                json.loads(content)
    assert "What changed" in run.stdout and "0.2.0" in run.stdout and "prod-db-reset" in run.stdout
    assert "carried your PreToolUse hook" in run.stdout


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


def test_conflict_is_reported_and_the_repo_is_restored(template_repo, tmp_path):
    repo = render_at(template_repo, tmp_path / "team")
    # The team rewrites the very line the next release appends after: a real conflict.
    rules = repo / ORG_RULES_OLD
    lines = rules.read_text().rstrip("\n").split("\n")
    rules.write_text("\n".join(lines[:-1] + ["- Our own last rule, replacing the organisation's."]) + "\n")
    commit_all(repo, "team rewrites the last org rule")
    before = snapshot(repo)
    run = update(repo, "--vcs-ref", "v0.2.0")
    assert run.returncode == 1, run.stdout
    assert "conflict" in run.stderr and ORG_RULES_NEW in run.stderr
    assert "exactly as it was" in run.stderr and "What to do" in run.stderr
    assert snapshot(repo) == before


def test_failing_migration_restores_the_repo(tmp_path):
    def release_with_a_failing_migration(root: Path) -> None:
        # An after-migration that dies: Copier itself would leave a half-updated tree behind.
        copier_yml = root / "copier.yml"
        copier_yml.write_text(copier_yml.read_text().replace("_migrations:\n", (
            "_migrations:\n"
            "  - version: v0.2.0\n"
            "    command: [\"{{ _copier_python }}\", \"-c\", \"raise SystemExit('migration failed on purpose')\"]\n"
        ), 1))

    template = build_template_versions(tmp_path / "template", {"v0.2.0": release_with_a_failing_migration})
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


def test_hand_edits_of_foundation_json_stay_valid_and_are_carried(team):
    settings = json.loads((team / ".claude/settings.json").read_text())
    settings["permissions"]["allow"].append("Bash(make lint:*)")
    settings["permissions"]["deny"].remove("Bash(sudo:*)")
    settings["disableAutoMode"] = None
    settings["sandbox"]["network"]["allowedDomains"].append("tickets.internal.example.com")
    settings["sandbox"]["enabled"] = False
    (team / ".claude/settings.json").write_text(json.dumps(settings, indent=2))
    mcp = json.loads((team / ".mcp.json").read_text())
    mcp["mcpServers"]["team-tickets"] = {"command": "node", "args": ["tools/tickets-mcp.js"]}
    (team / ".mcp.json").write_text(json.dumps(mcp, indent=2))
    commit_all(team, "hand edits")
    run = update(team, "--vcs-ref", "v0.2.0")
    assert run.returncode == 0, run.stdout + run.stderr
    settings = json.loads((team / ".claude/settings.json").read_text())
    assert "Bash(make lint:*)" in settings["permissions"]["allow"]
    assert "Bash(sudo:*)" in settings["permissions"]["deny"]
    assert settings["disableAutoMode"] == "disable"
    assert "restored the foundation's deny rule Bash(sudo:*)" in run.stdout
    assert "restored the foundation's setting disableAutoMode" in run.stdout
    assert settings["sandbox"]["enabled"] is True and "restored the foundation's setting sandbox" in run.stdout
    assert "tickets.internal.example.com" in settings["sandbox"]["network"]["allowedDomains"]
    mcp = json.loads((team / ".mcp.json").read_text())
    assert mcp["mcpServers"]["team-tickets"] == {"command": "node", "args": ["tools/tickets-mcp.js"]}
    assert "not vetted" in run.stdout
    answers = yaml.safe_load((team / ".copier-answers.yml").read_text())
    assert "Bash(make lint:*)" in answers["extra_allow"] and "team-tickets" in answers["extra_mcp_servers"]
    assert answers["extra_network_hosts"] == ["tickets.internal.example.com"]


def test_a_dangerous_hand_added_allow_rule_is_refused_and_restored(team):
    settings = json.loads((team / ".claude/settings.json").read_text())
    settings["permissions"]["allow"].append("Bash(*)")
    (team / ".claude/settings.json").write_text(json.dumps(settings, indent=2))
    commit_all(team, "too broad")
    before = snapshot(team)
    run = update(team, "--vcs-ref", "v0.2.0")
    assert run.returncode == 1
    assert "extra_allow" in run.stdout + run.stderr and "Bash(*)" in run.stdout + run.stderr
    assert snapshot(team) == before


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


def test_plain_copier_update_still_works(template_repo, tmp_path):
    repo = render_at(template_repo, tmp_path / "team")
    env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ["PATH"]}
    run = subprocess.run(["copier", "update", "--trust", "--defaults", "--vcs-ref", "v0.2.0"], cwd=repo, env=env,
                         capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr
    assert json.loads((repo / ".claude/foundation/manifest.json").read_text())["template_version"] == "0.2.0"
    assert (repo / ORG_RULES_NEW).is_file() and not (repo / ORG_RULES_OLD).exists()


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
    assert "warning:" not in run.stdout, run.stdout  # nothing carried, restored or kept as an edit
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
