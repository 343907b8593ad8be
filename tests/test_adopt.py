"""An existing repository adopts the foundation: its own files are kept, the foundation's part is added."""

from __future__ import annotations

import subprocess
import sys

from tests.rendering import TEMPLATE_ROOT, commit_all, render_team

README = b"# Ledger\n\nOur ledger service.\n"
GITIGNORE = b"*.log\n/build/\n"
CLAUDE_MD = b"# Ledger\n\nRun `make test` before committing. Money is in integer cents.\n"
AGENTS_MD = "# Ledger agents\n\nAlways use integer cents.\nNever touch migrations/ by hand.\n"


def existing_repo(path):
    path.mkdir()
    (path / "README.md").write_bytes(README)
    (path / ".gitignore").write_bytes(GITIGNORE)
    (path / "CLAUDE.md").write_bytes(CLAUDE_MD)
    (path / "AGENTS.md").write_text(AGENTS_MD)
    (path / "src").mkdir()
    (path / "src" / "ledger.py").write_text("CENTS = 100\n")
    commit_all(path, "the team's own history")
    return path


def test_adoption_keeps_the_teams_files(tmp_path):
    repo = render_team(existing_repo(tmp_path / "ledger"), commit=False)
    assert (repo / "README.md").read_bytes() == README
    assert (repo / ".gitignore").read_bytes() == GITIGNORE
    assert (repo / "CLAUDE.md").read_bytes() == CLAUDE_MD
    assert (repo / "src" / "ledger.py").read_text() == "CENTS = 100\n"
    agents = (repo / "AGENTS.md").read_text()
    assert agents.startswith(AGENTS_MD), "the team's AGENTS.md text must stay intact, first"
    section = agents[len(AGENTS_MD):]
    assert section.lstrip().startswith("<!-- agent-foundation:begin")
    assert section.rstrip().endswith("<!-- agent-foundation:end -->")
    assert "Organisation rules" in section
    assert (repo / ".claude/settings.json").is_file() and (repo / ".claude/rules/org-rules.md").is_file()


def test_the_marked_section_is_replaced_not_duplicated(tmp_path):
    repo = render_team(existing_repo(tmp_path / "ledger"), commit=False)
    first = (repo / "AGENTS.md").read_text()
    # The team writes more text after the section; a later refresh replaces only the section.
    (repo / "AGENTS.md").write_text(first.replace("Organisation rules", "Old org rules") + "\n## Team notes\nKeep me.\n")
    section = first[first.index("<!-- agent-foundation:begin"):]
    subprocess.run([sys.executable, str(TEMPLATE_ROOT / "src/agent_foundation/agents_md.py"), section],
                   cwd=repo, check=True, timeout=30)
    again = (repo / "AGENTS.md").read_text()
    assert again == first + "\n## Team notes\nKeep me.\n"
    assert again.count("agent-foundation:begin") == 1
