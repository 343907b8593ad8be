"""Rendering a team repository (copier copy): every choice renders, and the result is well-formed."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.rendering import TEMPLATE_ROOT, canonical_answers

sys.path.insert(0, str(TEMPLATE_ROOT / "src"))
from agent_foundation import render  # noqa: E402
from agent_foundation.foundation import load_foundation, skill_frontmatter_problems, split_frontmatter  # noqa: E402

FOUNDATION = load_foundation(TEMPLATE_ROOT / "foundation")


@pytest.fixture
def copie_template(copie):
    def copy(**answers):
        result = copie.copy(extra_answers={**canonical_answers(), **answers}, template_dir=TEMPLATE_ROOT)
        assert result.exit_code == 0, result.exception
        return result.project_dir

    return copy


def test_copier_yml_questions_have_help_and_defaults():
    questions = {k: v for k, v in yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text()).items() if not k.startswith("_")}
    expected = {"team_name", "team_slug", "owner", "permission_profile", "stacks", "skills", "mcp_servers",
                "extra_allow", "extra_ask", "audit_log"}
    assert expected <= set(questions)
    known_keys = {"type", "help", "default", "choices", "multiselect", "validator", "when", "secret", "placeholder"}
    for name, question in questions.items():
        assert set(question) <= known_keys, f"{name}: unknown keys {set(question) - known_keys} (Copier ignores typos)"
        assert question.get("help"), f"{name} has no help text"
        assert "default" in question, f"{name} has no default: copier copy --defaults must work"


@pytest.mark.parametrize("profile", sorted(FOUNDATION.profiles))
def test_every_choice_renders(copie_template, profile):
    repo = copie_template(
        permission_profile=profile,
        stacks=sorted(FOUNDATION.stacks),
        skills=sorted(FOUNDATION.skills),
        mcp_servers=sorted(FOUNDATION.mcp_servers),
    )
    for path in repo.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))  # every rendered JSON parses
    settings = json.loads((repo / ".claude/settings.json").read_text())
    assert settings["permissions"]["disableBypassPermissionsMode"] == "disable"
    for stack in FOUNDATION.stacks.values():
        for group in FOUNDATION.profiles[profile]["stack_commands"]:
            assert set(stack[group]) <= set(settings["permissions"]["allow"])
    assert set(json.loads((repo / ".mcp.json").read_text())["mcpServers"]) == set(FOUNDATION.mcp_servers)
    assert set(settings["enabledMcpjsonServers"]) == set(FOUNDATION.mcp_servers)
    for name in FOUNDATION.skills:
        assert (repo / ".claude/skills" / name / "SKILL.md").read_bytes() == FOUNDATION.skills[name].files["SKILL.md"]
    manifest = json.loads((repo / ".claude/foundation/manifest.json").read_text())
    assert manifest["profile"] == profile
    assert {s["name"] for s in manifest["skills"]} == set(FOUNDATION.skills)


def test_manifest_hashes_every_foundation_file(rendered_team):
    import hashlib

    manifest = json.loads((rendered_team / ".claude/foundation/manifest.json").read_text())
    assert manifest["team"] == {"name": "Payments API", "slug": "payments-api", "owner": "payments@example.com"}
    expected = {".claude/settings.json", ".mcp.json", ".claude/rules/org-rules.md", ".claude/foundation/policy.json",
                ".claude/foundation/programs.tsv",
                ".claude/foundation/hooks/guard.py", ".claude/foundation/hooks/audit.py",
                ".claude/skills/code-review/SKILL.md"}
    assert expected <= set(manifest["files"])
    for path, digest in manifest["files"].items():
        assert hashlib.sha256((rendered_team / path).read_bytes()).hexdigest() == digest, path
    assert "CLAUDE.md" not in manifest["files"] and "AGENTS.md" not in manifest["files"]  # team-owned


def test_security_defaults(rendered_team):
    settings = json.loads((rendered_team / ".claude/settings.json").read_text())
    deny = settings["permissions"]["deny"]
    assert "Read(.env)" in deny and "Read(~/.ssh/**)" in deny and "Read(**/*.pem)" in deny
    assert not any(".env.example" in rule or rule == "Read(.env.*)" for rule in deny)  # the look-alike stays readable
    assert {"Edit(.claude/settings.json)", "Edit(.claude/foundation/**)", "Edit(.claude/rules/org-rules.md)",
            "Edit(.claude/audit/**)"} <= set(deny)
    assert "Bash(make test:*)" in settings["permissions"]["allow"]
    assert "Bash(make deploy:*)" in settings["permissions"]["ask"]
    assert "mcp__memory__create_entities" in settings["permissions"]["ask"]  # write-capable MCP tool asks
    for event in ("PreToolUse", "PostToolUse", "SessionStart", "SessionEnd"):
        assert settings["hooks"][event]
    gitignore = (rendered_team / ".claude/.gitignore").read_text().splitlines()
    assert "settings.local.json" in gitignore and "audit/" in gitignore


def test_every_hook_command_points_at_a_file_that_runs(rendered_team, tmp_path):
    rendered_team = Path(shutil.copytree(rendered_team, tmp_path / "team", symlinks=True))  # the hooks write its audit log
    settings = json.loads((rendered_team / ".claude/settings.json").read_text())
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(rendered_team)}
    for event, entries in settings["hooks"].items():
        for entry in entries:
            for hook in entry["hooks"]:
                script = hook["command"].split('"$CLAUDE_PROJECT_DIR/')[1].split('"')[0]
                assert (rendered_team / script).is_file(), f"{event}: {script} missing"
                payload = {"hook_event_name": event, "session_id": "s1", "cwd": str(rendered_team),
                           "tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_response": {"stdout": "x"}}
                run = subprocess.run(["bash", "-c", hook["command"]], input=json.dumps(payload), env=env,
                                     capture_output=True, text=True, timeout=30)
                assert run.returncode == 0, f"{event}: {run.stderr}"
                if run.stdout.strip():
                    json.loads(run.stdout)


@pytest.mark.parametrize("name", sorted(FOUNDATION.skills))
def test_rendered_skills_meet_the_clients_limits(rendered_team, name):
    # The client's own validator does not enforce these, so the template does.
    frontmatter, body = split_frontmatter(FOUNDATION.skills[name].files["SKILL.md"].decode())
    assert skill_frontmatter_problems(name, frontmatter) == []
    assert body.strip()


def test_skill_limits_are_enforced():
    assert skill_frontmatter_problems("x", {"name": "Release_Notes!", "description": "d"})
    assert skill_frontmatter_problems("x", {"name": "x", "description": "d" * 1025})
    assert skill_frontmatter_problems("claude-helper", {"name": "claude-helper", "description": "d"})
    assert skill_frontmatter_problems("a", {"name": "b", "description": "d"})
    assert skill_frontmatter_problems("a", None)


def test_org_rules_load_without_touching_claude_md(rendered_team):
    rules = (rendered_team / ".claude/rules/org-rules.md").read_text()
    team_rules = render.team_org_rules(FOUNDATION, canonical_answers())
    assert team_rules in rules
    assert "Payments API" in (rendered_team / "CLAUDE.md").read_text()
    agents = (rendered_team / "AGENTS.md").read_text()
    assert team_rules.strip() in agents and agents.count("agent-foundation:begin") == 1


def test_the_org_rules_point_to_the_teams_support_channel(rendered_team):
    """The rules tell people and agents where to ask a human: the support_channel answer, nothing to look up."""
    assert render.SUPPORT_CHANNEL in FOUNDATION.org_rules
    for path in (".claude/rules/org-rules.md", "AGENTS.md", "CLAUDE.md"):
        text = (rendered_team / path).read_text()
        assert "in #payments-dev" in " ".join(text.split()) and "{{" not in text, path
    assert "named in your CLAUDE.md" not in (rendered_team / ".claude/rules/org-rules.md").read_text()


def test_the_support_channel_defaults_to_the_owner():
    answers = {key: value for key, value in canonical_answers().items() if key != "support_channel"}
    assert "the platform team, in payments@example.com" in " ".join(render.team_org_rules(FOUNDATION, answers).split())


@pytest.mark.parametrize(("name", "slug"), [("Ledger & Billing (EU)", "ledger-billing-eu"),
                                            ("Équipe Paiements", "equipe-paiements")])
def test_team_slug_is_derived_from_the_name(copie, name, slug):
    answers = {key: value for key, value in canonical_answers().items() if key != "team_slug"}
    result = copie.copy(extra_answers={**answers, "team_name": name}, template_dir=TEMPLATE_ROOT)
    assert result.exit_code == 0, result.exception
    assert result.answers["team_slug"] == slug
    assert json.loads((result.project_dir / ".claude/settings.json").read_text())["env"]["AGENT_FOUNDATION_TEAM"] == slug


@pytest.mark.parametrize(("name", "slug"), [
    ("Équipe Paiements", "equipe-paiements"), ("Zahlungsverkehr Straße", "zahlungsverkehr-strasse"),
    ("Øresund Ærø Łódź", "oresund-aero-lodz"), ("  42 Crème brûlée!  ", "creme-brulee"), ("Ça va", "ca-va"),
    ("x" * 50, "x" * 39), ("決済チーム", ""),
])
def test_team_slug_transliterates_letters_instead_of_dropping_them(name, slug):
    spec = importlib.util.spec_from_file_location("foundation_context_slug", TEMPLATE_ROOT / "extensions/foundation_context.py")
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)
    assert extension.team_slug(name) == slug
