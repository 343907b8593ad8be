"""A template with no release tag yet (a platform team's first days): update.py takes its latest commit and
says so once, where Copier alone says "No git tags found in template" once per render, three times."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.rendering import commit_all, copy_template, render_team

VENV_BIN = str(Path(sys.executable).parent)
NEW_RULE = "- Say which tests you ran, and which you did not."


def test_update_from_a_template_without_releases_says_so_once(tmp_path: Path) -> None:
    template = copy_template(tmp_path / "agent-foundation", tag=None)
    team = render_team(tmp_path / "payments-api", template=template, vcs_ref="HEAD")
    rules = template / "foundation/org-rules.md"
    rules.write_text(rules.read_text(encoding="utf-8") + NEW_RULE + "\n", encoding="utf-8")
    commit_all(template, "a new org rule")

    env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ["PATH"]}
    result = subprocess.run([sys.executable, ".claude/foundation/update.py"], cwd=team, env=env, capture_output=True,
                            text=True, timeout=300, stdin=subprocess.DEVNULL)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "No git tags found" not in output
    assert output.count("the template has no release yet (no version tag); taking its latest commit") == 1
    assert NEW_RULE in (team / ".claude/rules/org-rules.md").read_text(encoding="utf-8")
