"""One way to change an answer, said the same everywhere: `update.py --data` (or --interactive), never an edit
of .copier-answers.yml followed by `copier update`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.rendering import TEMPLATE_ROOT

ONE_WAY = "python3 .claude/foundation/update.py --data"
CONTRADICTIONS = re.compile(r"(in|to|edit) \.copier-answers\.yml|then `copier update`|and run `copier update`")


@pytest.fixture
def team(rendered_team: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(rendered_team, tmp_path / "team", symlinks=True))


def test_the_answers_file_says_how_to_change_an_answer(rendered_team: Path) -> None:
    header = [line for line in (rendered_team / ".copier-answers.yml").read_text().splitlines() if line.startswith("#")]
    assert ONE_WAY in "\n".join(header) and "--interactive" in "\n".join(header)
    assert all(len(line) <= 120 for line in header)


def test_the_posture_check_gives_the_same_advice(team: Path) -> None:
    settings_path = team / ".claude/settings.json"
    settings = json.loads(settings_path.read_text())
    settings["permissions"]["allow"].append("Bash(*)")
    settings["enabledMcpjsonServers"] = [*settings.get("enabledMcpjsonServers", []), "homemade"]
    settings_path.write_text(json.dumps(settings, indent=2) + "\n")
    mcp = json.loads((team / ".mcp.json").read_text())
    mcp["mcpServers"]["homemade"] = {"command": "homemade-mcp"}
    mcp["mcpServers"]["github"] = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"]}
    (team / ".mcp.json").write_text(json.dumps(mcp, indent=2) + "\n")
    result = subprocess.run([sys.executable, str(team / ".claude/foundation/check.py"), "--json"], cwd=team,
                            capture_output=True, text=True, timeout=60)
    findings = json.loads(result.stdout)["findings"]
    by_code = {finding["code"]: finding for finding in findings}
    assert {"allow-rule-too-broad", "mcp-server-unvetted"} <= set(by_code), findings
    assert ONE_WAY in by_code["allow-rule-too-broad"]["fix"]
    for finding in findings:
        assert not CONTRADICTIONS.search(finding["fix"]), finding


def test_readme_and_check_py_never_send_a_team_to_edit_the_answers_file() -> None:
    for path in (TEMPLATE_ROOT / "README.md", TEMPLATE_ROOT / "template/.claude/foundation/check.py",
                 TEMPLATE_ROOT / "docs/audit-and-posture.md"):
        text = " ".join(path.read_text(encoding="utf-8").split())
        assert not CONTRADICTIONS.search(text), (path, CONTRADICTIONS.search(text))
    assert "update.py --data" in (TEMPLATE_ROOT / "README.md").read_text(encoding="utf-8")
