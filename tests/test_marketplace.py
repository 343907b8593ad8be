"""The registry is a Claude Code plugin marketplace: generated from foundation/, checked for staleness, and
accepted by the real client (validate --strict, marketplace add, install, details)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from agent_foundation import marketplace
from agent_foundation.foundation import load_foundation
from tests.claude_client.runner import isolated_env
from tests.registry_repo import cli
from tests.rendering import TEMPLATE_ROOT, copy_template

pytestmark = pytest.mark.client


def claude(claude_bin: Path, home: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(claude_bin), *args], cwd=cwd, env=isolated_env(home), capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_committed_manifest_is_current() -> None:
    result = cli(TEMPLATE_ROOT, "marketplace", "--check")
    assert result.returncode == 0, result.stderr
    assert "is up to date" in result.stdout


def test_manifest_is_generated_from_the_registry() -> None:
    foundation = load_foundation(TEMPLATE_ROOT / "foundation")
    data = marketplace.manifest(foundation)
    assert [p["name"] for p in data["plugins"]] == sorted(foundation.skills)
    for plugin in data["plugins"]:
        skill = foundation.skills[plugin["name"]]
        assert plugin["source"] == f"./foundation/skills/{skill.name}"
        assert plugin["strict"] is False and plugin["skills"] == ["./"]
        assert (plugin["version"], plugin["description"]) == (skill.version, skill.description)
        assert (TEMPLATE_ROOT / plugin["source"] / "SKILL.md").is_file()


def test_check_fails_when_stale_and_regenerates(tmp_path: Path) -> None:
    repo = copy_template(tmp_path / "checkout")
    path = repo / marketplace.MARKETPLACE_FILE
    path.write_text(path.read_text().replace('"version": "1.0.0"', '"version": "9.9.9"', 1))
    result = cli(repo, "marketplace", "--check")
    assert result.returncode == 1
    assert "is stale" in result.stderr and "run `agent-foundation marketplace`" in result.stderr
    assert cli(repo, "marketplace").returncode == 0
    assert cli(repo, "marketplace", "--check").returncode == 0


def test_real_client_validates_adds_and_installs_the_marketplace(claude_bin: Path, tmp_path: Path) -> None:
    repo = copy_template(tmp_path / "checkout")
    home = tmp_path / "home"
    home.mkdir()
    validate = claude(claude_bin, home, "plugin", "validate", "--strict", str(repo), cwd=tmp_path)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "Validation passed" in validate.stdout and "warning" not in validate.stdout.lower()

    added = claude(claude_bin, home, "plugin", "marketplace", "add", str(repo), cwd=tmp_path)
    assert added.returncode == 0, added.stdout + added.stderr
    assert "agent-foundation" in added.stdout
    installed = claude(claude_bin, home, "plugin", "install", "code-review@agent-foundation", cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    details = claude(claude_bin, home, "plugin", "details", "code-review@agent-foundation", cwd=tmp_path)
    assert details.returncode == 0, details.stdout + details.stderr
    assert "Skills (1)  code-review" in details.stdout
    listing = json.loads(claude(claude_bin, home, "plugin", "list", "--json", cwd=tmp_path).stdout)
    entry = next(p for p in listing if p["id"] == "code-review@agent-foundation")
    installed_files = sorted(os.listdir(entry["installPath"]))
    assert "SKILL.md" in installed_files and "foundation" not in installed_files, installed_files


def test_real_client_rejects_a_broken_manifest(claude_bin: Path, tmp_path: Path) -> None:
    """The validate step can fail: a manifest without owner is an error for the client."""
    repo = copy_template(tmp_path / "checkout", tag=None)
    path = repo / marketplace.MARKETPLACE_FILE
    data = json.loads(path.read_text())
    del data["owner"]
    path.write_text(json.dumps(data))
    home = tmp_path / "home"
    home.mkdir()
    result = claude(claude_bin, home, "plugin", "validate", "--strict", str(repo), cwd=tmp_path)
    assert result.returncode == 1
    assert "owner" in result.stdout + result.stderr
