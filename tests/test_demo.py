"""The README's first command: `agent-foundation demo` plays the version flow a platform team sees, whatever
tags the checkout has (none in a CI clone without tags, the real ones in a full clone)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.rendering import TEMPLATE_ROOT, git

DEMO_COMMAND = ".venv/bin/agent-foundation demo"


def agent_foundation(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent_foundation.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, stdin=subprocess.DEVNULL)


def test_the_readme_starts_with_the_demo() -> None:
    readme = (TEMPLATE_ROOT / "README.md").read_text(encoding="utf-8")
    first_commands = readme.split("## The first two commands", 1)[1].split("```", 2)[1]
    assert DEMO_COMMAND in first_commands


def test_demo_renders_a_team_from_a_release_and_updates_it_to_the_next(registry_checkout: Path, tmp_path: Path) -> None:
    git(registry_checkout, "tag", "-a", "v0.4.0", "-m", "a later release")  # the checkout's tags set the versions
    folder = tmp_path / "demo"
    result = agent_foundation("demo", str(folder), cwd=registry_checkout)
    assert result.returncode == 0, result.stdout + result.stderr
    team, platform = folder / "demo-team", folder / "agent-foundation"

    answers = yaml.safe_load((team / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["_commit"] == "v0.6.0"
    assert json.loads((team / ".claude/foundation/manifest.json").read_text())["template_version"] == "0.6.0"
    assert git(team, "log", "--format=%s").splitlines() == ["Take agent-foundation v0.6.0", "Render agent-foundation v0.5.0"]
    assert git(team, "status", "--porcelain") == ""
    assert "Say which tests you ran" in (team / ".claude/rules/org-rules.md").read_text(encoding="utf-8")
    assert git(platform, "tag", "--list").split() == ["v0.5.0", "v0.6.0"]
    assert "The foundation is updated from 0.5.0 to 0.6.0." in result.stdout
    assert "No git tags found" not in result.stdout + result.stderr

    fleet = agent_foundation("--root", str(platform), "fleet", str(team), "--json", cwd=tmp_path)
    report = json.loads(fleet.stdout)
    assert report["latest_release"].removeprefix("v") == "0.6.0" and report["repos"][0]["on_latest"], fleet.stdout

    again = agent_foundation("demo", str(folder), cwd=registry_checkout)
    assert again.returncode == 2 and "exists and is not empty" in again.stderr
