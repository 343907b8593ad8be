"""Registry skills by link: a team answers skills_delivery: plugin and receives its registry skills as plugins
of the org's marketplace (extraKnownMarketplaces + enabledPlugins in settings.json) instead of copies. The
manifest, the posture check and the fleet know which; an update moves a team between the two without losing
its edits; the real client loads the plugin's skill into the model's listing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent_foundation import render
from tests.claude_client.fixtures import NO_MCP_SERVERS
from tests.registry_repo import cli
from tests.rendering import TEMPLATE_ROOT, canonical_answers, commit_all, render_team

VENV_BIN = str(Path(sys.executable).parent)
SKILLS = canonical_answers()["skills"]


def run_check(repo: Path) -> tuple[int, list[dict]]:
    result = subprocess.run([sys.executable, str(repo / ".claude/foundation/check.py"), "--json"],
                            capture_output=True, text=True, timeout=60, cwd="/")
    return result.returncode, json.loads(result.stdout)["findings"]


def update(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ["PATH"]}
    return subprocess.run(["python3", ".claude/foundation/update.py", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def linked_team(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_team(tmp_path_factory.mktemp("linked") / "team", {"skills_delivery": "plugin"})


def test_linked_skills_are_enabled_plugins_not_copies(linked_team: Path) -> None:
    settings = json.loads((linked_team / ".claude/settings.json").read_text())
    assert settings["extraKnownMarketplaces"] == {"agent-foundation": {"source": {"source": "directory", "path": str(TEMPLATE_ROOT)}}}
    assert settings["enabledPlugins"] == {f"{name}@agent-foundation": True for name in SKILLS}
    assert not list((linked_team / ".claude/skills").rglob("*.md")) if (linked_team / ".claude/skills").exists() else True
    manifest = json.loads((linked_team / ".claude/foundation/manifest.json").read_text())
    assert manifest["skills_delivery"] == "plugin"
    assert [(s["name"], s["delivery"]) for s in manifest["skills"]] == [(name, "plugin") for name in SKILLS]
    assert not any(path.startswith(".claude/skills/") for path in manifest["files"])
    assert run_check(linked_team) == (0, [])


def test_marketplace_sources_the_client_accepts() -> None:
    assert render.marketplace_source("https://git.example.com/platform/agent-foundation.git") == {"source": "git", "url": "https://git.example.com/platform/agent-foundation.git"}
    assert render.marketplace_source("git@git.example.com:platform/agent-foundation.git")["source"] == "git"
    assert render.marketplace_source("gh:example-org/agent-foundation") == {"source": "github", "repo": "example-org/agent-foundation"}
    assert render.marketplace_source("/srv/agent-foundation") == {"source": "directory", "path": "/srv/agent-foundation"}


def test_a_team_plugin_cannot_displace_the_foundations(tmp_path: Path) -> None:
    answers = {**canonical_answers(), "skills_delivery": "plugin", "_marketplace": "/srv/af",
               "extra_settings": {"enabledPlugins": {"code-review@agent-foundation": False, "lint@team-tools": True}}}
    plugins = render.settings(render_foundation(), answers, "0.1.0")["enabledPlugins"]
    assert plugins["code-review@agent-foundation"] is True and plugins["lint@team-tools"] is True


def render_foundation():
    from agent_foundation.foundation import load_foundation
    return load_foundation(TEMPLATE_ROOT / "foundation")


def test_the_posture_check_names_a_locally_disabled_plugin(linked_team: Path, tmp_path: Path) -> None:
    repo = Path(shutil.copytree(linked_team, tmp_path / "team", symlinks=True))
    (repo / ".claude/settings.local.json").write_text(json.dumps({"enabledPlugins": {"code-review@agent-foundation": False}}))
    code, findings = run_check(repo)
    assert code == 0 and [(f["code"], f["severity"]) for f in findings] == [("skill-plugin-disabled", "warning")]


def test_the_fleet_knows_which_skills_come_by_link(linked_team: Path, rendered_team: Path, tmp_path: Path) -> None:
    out = tmp_path / "fleet.json"
    result = cli(TEMPLATE_ROOT, "fleet", str(linked_team), str(rendered_team), "--offline", "--no-repo-audit", "--json", str(out))
    assert result.returncode == 0, result.stderr
    rows = {row["path"]: row for row in json.loads(out.read_text())["repos"]}
    linked = rows[str(linked_team)]["skills"]["registry"]
    assert sorted((s["name"], s["delivery"], s["status"]) for s in linked) == sorted((n, "plugin", "linked") for n in SKILLS)
    copied = rows[str(rendered_team)]["skills"]["registry"]
    assert {s["delivery"] for s in copied} == {"copy"} and {s["status"] for s in copied} == {"current"}


def test_update_moves_to_plugins_keeping_an_edited_copy_and_back(pristine_template: Path, tmp_path: Path) -> None:
    repo = render_team(tmp_path / "team", template=pristine_template, vcs_ref="v0.1.0")
    skill = repo / ".claude/skills/code-review/SKILL.md"
    skill.write_text(skill.read_text() + "\nPayments: also check idempotency keys.\n")
    commit_all(repo, "team tweaks the review skill")

    run = update(repo, "--vcs-ref", "v0.1.0", "--data", "skills_delivery=plugin")
    assert run.returncode == 0, run.stdout + run.stderr
    settings = json.loads((repo / ".claude/settings.json").read_text())
    assert set(settings["enabledPlugins"]) == {f"{name}@agent-foundation" for name in SKILLS}
    assert "also check idempotency keys" in skill.read_text(), "the edited copy is kept, as the team's own"
    assert not (repo / ".claude/skills/writing-tests").exists(), "unedited copies go: the plugin replaces them"
    code, findings = run_check(repo)
    assert code == 0 and [(f["code"], f["file"]) for f in findings] == [("skill-copy-beside-plugin", ".claude/skills/code-review/SKILL.md")]
    commit_all(repo, "skills by link")

    shutil.rmtree(repo / ".claude/skills/code-review")  # the team proposed its edit upstream and dropped its copy
    commit_all(repo, "drop the copy")
    run = update(repo, "--vcs-ref", "v0.1.0", "--data", "skills_delivery=copy")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "enabledPlugins" not in json.loads((repo / ".claude/settings.json").read_text())
    assert all((repo / f".claude/skills/{name}/SKILL.md").is_file() for name in SKILLS)
    assert run_check(repo) == (0, [])


@pytest.mark.client
def test_the_plugins_skill_reaches_the_model(linked_team: Path, run_claude, tmp_path: Path) -> None:
    repo = Path(shutil.copytree(linked_team, tmp_path / "team", symlinks=True))
    run = run_claude(repo, [], trusted=True)
    [first] = [r for r in run.requests if r.method == "POST"][:1]
    sent = json.dumps(first.body)
    listing = sent[sent.find("The following skills are available"):]
    description = render_foundation().skills["code-review"].description
    assert f"- code-review:code-review: {json.dumps(description)[1:-1]}" in listing, run.describe()
    assert not (repo / ".claude/skills/code-review").exists(), "it came from the marketplace, not a copy"
