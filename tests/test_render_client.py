"""A rendered team repository works in the real Claude Code client (offline, against a loopback mock)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.claude_client.mock_messages_api import ToolCall
from tests.rendering import commit_all, render_team

SECRET = "sk-live-do-not-leak-4242"


def bash(command: str) -> ToolCall:
    return ToolCall("Bash", {"command": command, "description": "scripted by the test"})


@pytest.fixture
def team_repo(tmp_path: Path) -> Path:
    repo = render_team(tmp_path / "payments-api")
    (repo / ".env").write_text(f"API_KEY={SECRET}\n")
    return repo


@pytest.fixture
def fake_tools(tmp_path: Path, team_repo: Path) -> dict[str, str]:
    """A `pytest` on PATH that only leaves a marker, so the allowed stack command is observable. The marker is
    inside the repository: the command runs in the OS sandbox, which refuses writes anywhere else."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = team_repo / "pytest-ran"
    script = bin_dir / "pytest"
    script.write_text(f"#!/bin/sh\ntouch '{marker}'\necho '3 passed'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "MARKER": str(marker)}


def test_rendered_repo_in_the_real_client(team_repo, fake_tools, run_claude):
    run = run_claude(
        team_repo,
        [
            bash("pytest -q"),
            bash("git push --force origin main"),
            bash('bash -c "git push --force origin main"'),
            ToolCall("Read", {"file_path": str(team_repo / ".env")}),
        ],
        trusted=True,
        env={"PATH": fake_tools["PATH"]},
    )
    allowed, force_push, wrapped, secret = (run.result(i) for i in range(4))
    assert not allowed.is_error, run.describe()
    assert Path(fake_tools["MARKER"]).exists(), "the allowed stack command did not run"
    assert force_push.is_error and "git-force-push" in force_push.content, run.describe()
    assert wrapped.is_error and "git-force-push" in wrapped.content, "the guard must see inside bash -c"
    assert secret.is_error and SECRET not in secret.content, run.describe()
    assert "denied by your permission settings" in secret.content  # the rendered Read deny rule, before any hook


def test_untrusted_folder_ignores_allow_rules_but_keeps_denies(team_repo, fake_tools, run_claude):
    run = run_claude(team_repo, [bash("pytest -q"), bash("git push --force origin main")],
                     trusted=False, env={"PATH": fake_tools["PATH"]})
    assert run.result(0).is_error and not Path(fake_tools["MARKER"]).exists()
    assert run.result(1).is_error and "git-force-push" in run.result(1).content


def test_settings_deny_rules_hold_without_the_guard(team_repo, run_claude):
    # Replace the guard with one that decides nothing: the rendered deny rules alone must refuse.
    (team_repo / ".claude/foundation/hooks/guard.py").write_text("import sys\nsys.stdin.read()\n")
    commit_all(team_repo, "neutered guard")
    run = run_claude(team_repo, [bash("git push --force origin main"), bash("sudo id")], trusted=True)
    for index, command in enumerate(["git push --force origin main", "sudo id"]):
        result = run.result(index)
        assert result.is_error, run.describe()
        assert f"Permission to use Bash with command {command} has been denied" in result.content


def test_mcp_list_shows_the_chosen_servers(team_repo, claude_mcp_list, tmp_path):
    # A stand-in npx that exits at once: the listing is about the configuration, not the packages.
    bin_dir = tmp_path / "stub-bin"
    bin_dir.mkdir()
    (bin_dir / "npx").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "npx").chmod(0o755)
    listing = claude_mcp_list(team_repo, trusted=True, env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    assert "sequential-thinking:" in listing and "memory:" in listing
    assert "context7" not in listing  # not chosen
