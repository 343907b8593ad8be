"""One test per kind of team edit, each run through update.py and through Renovate's exact command line
(`copier update --skip-answered --defaults --trust --answers-file .copier-answers.yml --vcs-ref v0.2.0`):
the safety lives in the template's own migrations, so both give the same result. Every test starts from the
same named state (a team rendered at v0.1.0 of a throwaway tagged template, with everyday edits committed).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.claude_client.mock_messages_api import ToolCall
from tests.rendering import commit_all, git
from tests.template_versions import (
    HOOK_FIX, NEW_ORG_RULE, ORG_RULES_NEW, ORG_RULES_OLD, add_migration, build_template_versions,
)
from tests.update_support import (  # noqa: F401 - edited_team, team and template_repo are fixtures
    RUNNERS, edited_team, team, template_repo, SETTINGS, TEAM_AGENTS_MD, TEAM_HOOK, TEAM_ORG_RULES_EDIT, answers, assert_safe_after_update,
    clone_state, edit_settings, render_at, settings, snapshot, team_bytes,
)

V2 = "v0.2.0"
GUARD = ".claude/foundation/hooks/guard.py"


@pytest.fixture(params=sorted(RUNNERS))
def take_release(request):
    """Takes a release the way update.py or Renovate does."""
    return RUNNERS[request.param]


def taken(run) -> str:
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout + run.stderr


# ---------------------------------------------------------------- everyday edits


def test_a_release_arrives_and_every_team_byte_stays(team, take_release):
    before = team_bytes(team)
    output = taken(take_release(team, V2))
    assert_safe_after_update(team, V2)
    assert team_bytes(team) == before
    assert "Bash(prod-db-reset:*)" in settings(team)["permissions"]["deny"]
    assert HOOK_FIX in (team / GUARD).read_text()
    moved = (team / ORG_RULES_NEW).read_text()
    assert NEW_ORG_RULE in moved and TEAM_ORG_RULES_EDIT.strip() in moved and not (team / ORG_RULES_OLD).exists()
    agents = (team / "AGENTS.md").read_text()
    assert TEAM_AGENTS_MD in agents and NEW_ORG_RULE in agents
    recorded = answers(team)
    assert recorded["extra_settings"]["hooks"]["PreToolUse"] == [TEAM_HOOK]  # the hand-added hook, carried
    assert TEAM_HOOK in settings(team)["hooks"]["PreToolUse"]
    assert recorded["audit_log_file"] == ".claude/audit/payments.jsonl" and "audit_log" not in recorded
    assert "writing-tests" not in recorded["skills"] and "api-design" in recorded["skills"]
    assert "your PreToolUse hook" in output and "new recommended skill api-design" in output


# ---------------------------------------------------------------- hand edits of settings.json


def test_a_hand_added_allow_rule_is_carried_into_the_answers(team, take_release):
    edit_settings(team, lambda s: s["permissions"]["allow"].append("Bash(make lint:*)"))
    output = taken(take_release(team, V2))
    assert_safe_after_update(team, V2)
    assert "Bash(make lint:*)" in answers(team)["extra_allow"]
    assert "Bash(make lint:*)" in settings(team)["permissions"]["allow"]
    assert "Bash(prod-db-reset:*)" in settings(team)["permissions"]["deny"]
    assert "your allow rule Bash(make lint:*)" in output


def test_a_reindented_settings_file_is_rendered_again_without_conflict(team, take_release):
    data = settings(team)
    edit_settings(team, lambda s: None, raw=json.dumps(data, indent=4, sort_keys=True) + "\n")
    taken(take_release(team, V2))
    assert_safe_after_update(team, V2)
    assert "Bash(prod-db-reset:*)" in settings(team)["permissions"]["deny"]
    assert TEAM_HOOK in settings(team)["hooks"]["PreToolUse"]


def test_a_settings_file_committed_with_crlf_updates_cleanly(team, take_release):
    raw = (team / SETTINGS).read_text().replace("\n", "\r\n")
    git(team, "config", "core.autocrlf", "false")
    (team / SETTINGS).write_bytes(raw.encode())
    commit_all(team, "settings.json with CRLF")
    taken(take_release(team, V2))
    assert_safe_after_update(team, V2)
    assert "Bash(prod-db-reset:*)" in settings(team)["permissions"]["deny"]


def test_a_removed_deny_rule_comes_back_when_the_release_changes_the_deny_list(team, take_release):
    edit_settings(team, lambda s: s["permissions"]["deny"].remove("Bash(sudo:*)"))
    output = taken(take_release(team, V2))
    assert_safe_after_update(team, V2)
    deny = settings(team)["permissions"]["deny"]
    assert "Bash(sudo:*)" in deny and "Bash(prod-db-reset:*)" in deny
    assert "the foundation's deny rule Bash(sudo:*) was removed" in output and "restored" in output


def test_a_removed_guard_hook_comes_back(team, take_release):
    edit_settings(team, lambda s: s["hooks"].pop("PreToolUse"))
    output = taken(take_release(team, V2))
    assert_safe_after_update(team, V2)
    commands = [h["command"] for entry in settings(team)["hooks"]["PreToolUse"] for h in entry["hooks"]]
    assert any("guard.py" in command for command in commands)
    assert "the foundation's PreToolUse hook was removed" in output
    assert "PreToolUse" not in (answers(team).get("extra_settings") or {}).get("hooks", {})  # its removal too


def test_switched_off_bypass_protection_comes_back(team, take_release):
    def switch_off(s):
        s["permissions"].pop("disableBypassPermissionsMode")
        s["disableAutoMode"] = None
    edit_settings(team, switch_off)
    output = taken(take_release(team, V2))
    assert_safe_after_update(team, V2)
    assert settings(team)["permissions"]["disableBypassPermissionsMode"] == "disable"
    assert settings(team)["disableAutoMode"] == "disable"
    assert "permissions.disableBypassPermissionsMode" in output and "disableAutoMode" in output


def test_settings_the_foundation_does_not_own_are_carried_whatever_they_are(team, take_release):
    def team_settings(s):
        s["permissions"]["additionalDirectories"] = ["../shared-fixtures"]
        s["statusLine"] = {"type": "command", "command": "echo payments"}
        s["env"]["PAYMENTS_REGION"] = "eu-west-1"
        s["someFutureSetting"] = {"on": True}
    edit_settings(team, team_settings)
    output = taken(take_release(team, V2))
    assert_safe_after_update(team, V2)
    after = settings(team)
    assert after["permissions"]["additionalDirectories"] == ["../shared-fixtures"]
    assert after["statusLine"]["command"] == "echo payments" and after["someFutureSetting"] == {"on": True}
    assert after["env"]["PAYMENTS_REGION"] == "eu-west-1" and after["env"]["AGENT_FOUNDATION_TEAM"] == "payments-api"
    extra = answers(team)["extra_settings"]
    assert extra["permissions"] == {"additionalDirectories": ["../shared-fixtures"]} and "someFutureSetting" in extra
    assert "your setting permissions.additionalDirectories in .claude/settings.json is carried into the answer extra_settings" in output
    assert "restored the foundation's setting" not in output


def test_a_hand_added_sandbox_host_is_carried_and_the_sandbox_switched_back_on(team, take_release):
    def loosen(s):
        s["sandbox"]["network"]["allowedDomains"].append("tickets.internal.example.com")
        s["sandbox"]["enabled"] = False
    edit_settings(team, loosen)
    output = taken(take_release(team, V2))
    assert_safe_after_update(team, V2)
    sandbox = settings(team)["sandbox"]
    assert sandbox["enabled"] is True and "tickets.internal.example.com" in sandbox["network"]["allowedDomains"]
    assert answers(team)["extra_network_hosts"] == ["tickets.internal.example.com"]
    assert "your sandbox host tickets.internal.example.com" in output and "the foundation's setting sandbox" in output


def test_a_removed_foundation_allow_rule_stays_removed_as_the_teams_ask_rule(team, take_release):
    removed = "Bash(git status:*)"
    assert removed in settings(team)["permissions"]["allow"], "the profile's allow rules changed: pick another"
    edit_settings(team, lambda s: s["permissions"]["allow"].remove(removed))
    output = taken(take_release(team, V2))
    assert_safe_after_update(team, V2)
    assert removed in answers(team)["extra_ask"] and removed in settings(team)["permissions"]["ask"]
    assert f"you removed the foundation's allow rule {removed}" in output


def test_a_hand_added_mcp_server_is_carried_and_flagged(team, take_release):
    mcp = json.loads((team / ".mcp.json").read_text())
    mcp["mcpServers"]["team-tickets"] = {"command": "node", "args": ["tools/tickets-mcp.js"]}
    (team / ".mcp.json").write_text(json.dumps(mcp, indent=2))
    commit_all(team, "hand-added server")
    output = taken(take_release(team, V2))
    assert_safe_after_update(team, V2, flagged=("mcp-server-unvetted",))
    assert json.loads((team / ".mcp.json").read_text())["mcpServers"]["team-tickets"]["command"] == "node"
    assert "team-tickets" in answers(team)["extra_mcp_servers"] and "not vetted" in output


def test_a_dangerous_hand_added_allow_rule_refuses_the_update_and_changes_nothing(team, take_release):
    edit_settings(team, lambda s: s["permissions"]["allow"].append("Bash(*)"))
    before = snapshot(team)
    run = take_release(team, V2)
    assert run.returncode != 0
    assert "Bash(*)" in run.stderr and "extra_allow" in run.stderr
    assert snapshot(team) == before


# ---------------------------------------------------------------- files that move, and AGENTS.md


def test_an_edit_of_a_renamed_file_moves_with_it_when_history_lacks_the_old_render(team, take_release):
    """History squashed into one commit (an imported repository): the foundation's render of the edited file is
    nowhere in git, so the migration renders the old version again to find the team's edit."""
    git(team, "checkout", "-q", "--orphan", "squashed")
    commit_all(team, "one squashed commit")
    git(team, "branch", "-q", "-D", "main")
    output = taken(take_release(team, V2))
    assert_safe_after_update(team, V2)
    moved = (team / ORG_RULES_NEW).read_text()
    assert TEAM_ORG_RULES_EDIT.strip() in moved and NEW_ORG_RULE in moved
    assert "your edit moved with the file" in output


def test_agents_md_without_its_end_marker_is_left_alone_and_named(team, take_release):
    agents = team / "AGENTS.md"
    agents.write_text(agents.read_text().replace("<!-- agent-foundation:end -->", "") + "\nOur footer.\n")
    commit_all(team, "end marker deleted")
    before = agents.read_bytes()
    output = taken(take_release(team, V2))
    assert agents.read_bytes() == before
    assert "AGENTS.md has 1 begin and 0 end marker(s)" in output


def test_agents_md_with_the_section_twice_is_left_alone_and_named(team, take_release):
    agents = team / "AGENTS.md"
    text = agents.read_text()
    begin = text.index("<!-- agent-foundation:begin")
    agents.write_text(text + "\nOur notes.\n\n" + text[begin:])
    commit_all(team, "section pasted twice")
    before = agents.read_bytes()
    output = taken(take_release(team, V2))
    assert agents.read_bytes() == before
    assert "AGENTS.md has 2 begin and 2 end marker(s)" in output


def test_lines_written_inside_the_agents_md_section_are_kept_below_it(team, take_release):
    agents = team / "AGENTS.md"
    ours = "- Payments: every refund needs a second reviewer."
    agents.write_text(agents.read_text().replace("## Guardrails in this repository", ours + "\n\n## Guardrails in this repository"))
    commit_all(team, "edit inside the section")
    output = taken(take_release(team, V2))
    text = agents.read_text()
    end = text.index("<!-- agent-foundation:end -->")
    assert ours in text[end:] and ours not in text[:end]
    assert NEW_ORG_RULE in text[:end] and TEAM_AGENTS_MD in text
    assert "line(s) you wrote inside the foundation's section are kept" in output


# ---------------------------------------------------------------- the registry drops what a team uses


def release_dropping_a_skill_and_retiring_a_server(root: Path) -> None:
    shutil.rmtree(root / "foundation/skills/writing-tests")  # removed from the registry, with no migration entry
    servers = root / "foundation/mcp-servers.yml"
    text = servers.read_text()
    start = text.index("\n  memory:\n")
    servers.write_text(text[:start] + text[text.index("\n  context7:\n"):])
    add_migration(root, "  - version: 0.2.0\n    retired_servers: [memory]\n")


@pytest.fixture(scope="module")
def team_of_a_shrinking_registry(tmp_path_factory) -> Path:
    template = build_template_versions(tmp_path_factory.mktemp("template") / "agent-foundation",
                                       {V2: release_dropping_a_skill_and_retiring_a_server})
    repo = render_at(template, tmp_path_factory.mktemp("state") / "payments-api")
    skill = repo / ".claude/skills/writing-tests/SKILL.md"
    skill.write_text(skill.read_text() + "\nPayments: property tests for every money type.\n")
    commit_all(repo, "team tunes writing-tests")
    return repo


def test_a_skill_and_a_server_the_registry_drops_are_named_and_an_edited_copy_kept(team_of_a_shrinking_registry,
                                                                                  tmp_path, take_release):
    team = clone_state(team_of_a_shrinking_registry, tmp_path / "payments-api")
    assert "memory" in answers(team)["mcp_servers"] and "writing-tests" in answers(team)["skills"]
    output = taken(take_release(team, V2))
    assert_safe_after_update(team, V2)
    recorded = answers(team)
    assert "writing-tests" not in recorded["skills"] and "code-review" in recorded["skills"]
    assert recorded["mcp_servers"] == ["sequential-thinking"]  # the rest of the choice stays as it was
    assert "memory" not in json.loads((team / ".mcp.json").read_text())["mcpServers"]
    assert "the skill writing-tests was removed from the registry" in output
    assert "the MCP server memory is retired by this release" in output
    kept = team / ".claude/retired-skills/writing-tests/SKILL.md"
    assert "property tests for every money type" in kept.read_text()


# ---------------------------------------------------------------- the answers file


def test_a_hand_edited_answers_file_is_refused_with_the_command_that_does_it_right(team, take_release):
    path = team / ".copier-answers.yml"
    path.write_text(path.read_text().replace("permission_profile: standard", "permission_profile: restricted"))
    commit_all(team, "edit the answers by hand")
    before = snapshot(team)
    run = take_release(team, V2)
    assert run.returncode != 0
    assert "was edited by hand" in run.stderr and "permission_profile" in run.stderr
    assert "update.py --data 'permission_profile=\"restricted\"'" in run.stderr
    assert snapshot(team) == before


def test_an_answers_file_that_is_not_yaml_is_named_with_its_line(team, take_release):
    path = team / ".copier-answers.yml"
    lines = path.read_text().splitlines()
    lines.insert(3, "owner: [unclosed")
    path.write_text("\n".join(lines) + "\n")
    commit_all(team, "broken answers")
    before = snapshot(team)
    run = take_release(team, V2)
    assert run.returncode != 0
    assert ".copier-answers.yml" in run.stderr and "line" in run.stderr
    assert snapshot(team) == before


def test_a_deleted_registry_skill_folder_gets_the_hint_to_decline_it(team, take_release):
    git(team, "rm", "-rq", ".claude/skills/code-review")
    commit_all(team, "we do not want code-review")
    run = take_release(team, V2)
    assert run.returncode != 0
    assert "update.py --data 'skills=" in run.stderr and "code-review" in run.stderr


# ---------------------------------------------------------------- the real client after a plain copier update


@pytest.mark.client
def test_the_client_still_enforces_the_deny_rules_and_the_guard_after_a_plain_copier_update(team, run_claude):
    edit_settings(team, lambda s: s["permissions"]["deny"].remove("Bash(sudo:*)"))
    taken(RUNNERS["renovate"](team, V2))
    commit_all(team, "take 0.2.0")
    run = run_claude(team, [ToolCall("Bash", {"command": "sudo true", "description": "x"}),
                            ToolCall("Bash", {"command": "prod-db-reset --all", "description": "x"}),
                            ToolCall("Bash", {"command": "sh -c 'git push --force origin main'", "description": "x"})],
                     trusted=True)
    assert run.result(0).is_error, run.describe()  # the deny rule the team removed is back
    assert run.result(1).is_error and "prod-db-reset" in run.result(1).content, run.describe()
    assert run.result(2).is_error and "git-force-push" in run.result(2).content, run.describe()
    subprocess.run(["git", "status"], cwd=team, check=True, capture_output=True)


# ---------------------------------------------------------------- hand edits of the other agents' files

ALL_AGENTS = ["claude-code", "codex", "copilot", "cursor"]
TEAM_CURSOR_HOOK = {"command": "npx prettier --write", "timeout": 30}
TEAM_INPUTS = [{"type": "promptString", "id": "tickets-token", "description": "Tickets API token", "password": True}]


@pytest.fixture(scope="module")
def agents_state(template_repo, tmp_path_factory) -> Path:
    """A team wiring every agent, rendered at v0.1.0 with a Codex key of its own in its answers."""
    return render_at(template_repo, tmp_path_factory.mktemp("agents-state") / "payments-api", agents=ALL_AGENTS,
                     extra_codex_config={"model": "gpt-5.2"})


@pytest.fixture
def agents_team(agents_state, tmp_path) -> Path:
    return clone_state(agents_state, tmp_path / "payments-api")


def edit_json(repo: Path, path: str, change) -> None:
    data = json.loads((repo / path).read_text())
    change(data)
    (repo / path).write_text(json.dumps(data, indent=2) + "\n")


def test_hand_edits_of_codex_config_keep_the_teams_keys_and_restore_the_posture(agents_team, take_release):
    import tomllib

    config = agents_team / ".codex/config.toml"
    text = config.read_text().replace('approval_policy = "on-request"', 'approval_policy = "never"')
    config.write_text('model_reasoning_effort = "high"\n' + text + '\n[tui]\nnotifications = true\n\n'
                      '[mcp_servers.tickets]\ncommand = "node"\nargs = ["tools/tickets-mcp.js"]\n')
    commit_all(agents_team, "hand edits of .codex/config.toml")
    output = taken(take_release(agents_team, V2))
    assert_safe_after_update(agents_team, V2, flagged=("mcp-server-unvetted",))
    rendered = tomllib.loads(config.read_text())
    assert rendered["model"] == "gpt-5.2" and rendered["model_reasoning_effort"] == "high" and rendered["tui"] == {"notifications": True}
    assert rendered["approval_policy"] == "on-request", "the foundation's approval policy must come back"
    assert rendered["mcp_servers"]["tickets"] == {"command": "node", "args": ["tools/tickets-mcp.js"]}
    recorded = answers(agents_team)
    assert recorded["extra_codex_config"] == {"model": "gpt-5.2", "model_reasoning_effort": "high", "tui": {"notifications": True}}
    assert recorded["extra_mcp_servers"]["tickets"]["command"] == "node"
    assert json.loads((agents_team / ".mcp.json").read_text())["mcpServers"]["tickets"]["command"] == "node"
    assert 'prefix_rule(pattern=["prod-db-reset"]' in (agents_team / ".codex/rules/agent-foundation.rules").read_text()
    assert "approval_policy is the foundation's posture setting: it is restored" in output


def test_hand_edits_of_cursor_and_copilot_files_keep_the_teams_part(agents_team, take_release):
    edit_json(agents_team, ".cursor/cli.json", lambda d: (d["permissions"]["allow"].append("Shell(make)"),
                                                          d.update(editor={"vimMode": True})))
    def cursor_hooks(d):
        d["hooks"]["afterFileEdit"] = [TEAM_CURSOR_HOOK]
        d["hooks"]["beforeShellExecution"][0]["failClosed"] = False
    edit_json(agents_team, ".cursor/hooks.json", cursor_hooks)
    edit_json(agents_team, ".github/copilot/settings.json", lambda d: d.update(disableAllHooks=True, deniedUrls=["paste.example.com"]))
    edit_json(agents_team, ".vscode/mcp.json", lambda d: d.update(inputs=TEAM_INPUTS))
    commit_all(agents_team, "hand edits of the other agents' files")
    output = taken(take_release(agents_team, V2))
    assert_safe_after_update(agents_team, V2)
    cli = json.loads((agents_team / ".cursor/cli.json").read_text())
    assert "Shell(make)" in cli["permissions"]["allow"] and cli["editor"] == {"vimMode": True}
    assert "Shell(prod-db-reset)" in cli["permissions"]["deny"], "the release's new deny rule reaches Cursor"
    hooks = json.loads((agents_team / ".cursor/hooks.json").read_text())["hooks"]
    assert hooks["afterFileEdit"] == [TEAM_CURSOR_HOOK]
    assert all(entry["failClosed"] is True for entry in hooks["beforeShellExecution"] if "agent_hook.py" in entry["command"])
    copilot = json.loads((agents_team / ".github/copilot/settings.json").read_text())
    assert copilot["disableAllHooks"] is False and copilot["deniedUrls"] == ["paste.example.com"]
    editor = json.loads((agents_team / ".vscode/mcp.json").read_text())
    assert editor["inputs"] == TEAM_INPUTS and "memory" in editor["servers"]
    recorded = answers(agents_team)["extra_agent_config"]
    assert recorded[".cursor/cli.json"] == {"permissions": {"allow": ["Shell(make)"]}, "editor": {"vimMode": True}}
    assert recorded[".cursor/hooks.json"] == {"hooks": {"afterFileEdit": [TEAM_CURSOR_HOOK]}}
    assert recorded[".github/copilot/settings.json"] == {"deniedUrls": ["paste.example.com"]}
    assert recorded[".vscode/mcp.json"] == {"inputs": TEAM_INPUTS}
    assert "disableAllHooks is the foundation's posture setting: it is restored" in output


def test_a_dangerous_hand_added_cursor_allow_rule_refuses_the_update_and_changes_nothing(agents_team, take_release):
    edit_json(agents_team, ".cursor/cli.json", lambda d: d["permissions"]["allow"].append("Shell(curl)"))
    commit_all(agents_team, "allow curl in Cursor")
    before = snapshot(agents_team)
    run = take_release(agents_team, V2)
    assert run.returncode != 0
    assert "Shell(curl)" in run.stderr and "extra_agent_config" in run.stderr
    assert snapshot(agents_team) == before
