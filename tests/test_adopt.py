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


# ---------------------------------------------------------------- a repository that already wires other agents

TEAM_CURSOR_HOOKS = {"version": 1, "hooks": {"afterFileEdit": [{"command": "npx prettier --write"}],
                                             "beforeShellExecution": [{"command": "./tools/log-shell.sh"}]}}
TEAM_CODEX_CONFIG = ('model = "o3"\napproval_policy = "never"\n\n[tui]\nnotifications = true\n\n'
                     '[mcp_servers.tickets]\ncommand = "node"\nargs = ["tools/tickets-mcp.js"]\n')
TEAM_COPILOT_INSTRUCTIONS = "# Ledger\nAmounts are integer cents.\n"
TEAM_CURSOR_RULE = "---\ndescription: ledger review\nalwaysApply: false\n---\nReview ledger code twice.\n"
TEAM_EDITOR_MCP = {"inputs": [{"type": "promptString", "id": "tickets-token", "description": "token", "password": True}],
                   "servers": {"tickets": {"type": "stdio", "command": "node", "args": ["tools/tickets-mcp.js"]}}}


def test_adoption_keeps_the_teams_agent_files_and_wires_the_guard(tmp_path):
    """A repository already configured for Codex, Copilot and Cursor adopts the foundation (copier copy over
    it; Copier asks before overwriting each file, and the file it writes holds the team's part): the team's
    own instructions and rules are untouched, its keys, hooks and servers are read into the answers and
    rendered under the foundation's, and every agent's hook reaches the guard."""
    import json
    import tomllib

    import yaml

    repo = existing_repo(tmp_path / "ledger")
    (repo / ".cursor/rules").mkdir(parents=True)
    (repo / ".cursor/rules/ledger.mdc").write_text(TEAM_CURSOR_RULE)
    (repo / ".cursor/hooks.json").write_text(json.dumps(TEAM_CURSOR_HOOKS))
    (repo / ".codex").mkdir()
    (repo / ".codex/config.toml").write_text(TEAM_CODEX_CONFIG)
    (repo / ".github").mkdir()
    (repo / ".github/copilot-instructions.md").write_text(TEAM_COPILOT_INSTRUCTIONS)
    (repo / ".vscode").mkdir()
    (repo / ".vscode/mcp.json").write_text(json.dumps(TEAM_EDITOR_MCP))
    (repo / ".cursor/mcp.json").write_text(json.dumps({"mcpServers": {"context7": {"command": "npx", "args": ["-y", "context7-mcp"]}}}))
    commit_all(repo, "the team's agent configuration")
    from copier import run_copy

    from tests.rendering import canonical_answers

    # Every answer given but mcp_servers, whose default is what adoption is tested on.
    data = {**{k: v for k, v in canonical_answers().items() if k != "mcp_servers"}, "agents": ["claude-code", "codex", "copilot", "cursor"]}
    run_copy(str(TEMPLATE_ROOT), str(repo), data=data, defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True, overwrite=True)

    assert (repo / ".cursor/rules/ledger.mdc").read_text() == TEAM_CURSOR_RULE
    assert (repo / ".github/copilot-instructions.md").read_text() == TEAM_COPILOT_INSTRUCTIONS
    hooks = json.loads((repo / ".cursor/hooks.json").read_text())["hooks"]
    assert hooks["afterFileEdit"] == [{"command": "npx prettier --write"}]
    shell = hooks["beforeShellExecution"]
    assert "agent_hook.py" in shell[0]["command"] and shell[0]["failClosed"] is True, "the guard comes first"
    assert {"command": "./tools/log-shell.sh"} in shell
    config = tomllib.loads((repo / ".codex/config.toml").read_text())
    assert config["model"] == "o3" and config["tui"] == {"notifications": True}
    assert config["approval_policy"] == "on-request", "the team's looser approval policy gives way to the profile's"
    assert config["mcp_servers"]["tickets"]["command"] == "node"
    assert "agent_hook.py" in (repo / ".codex/hooks.json").read_text()
    editor = json.loads((repo / ".vscode/mcp.json").read_text())
    assert editor["inputs"] == TEAM_EDITOR_MCP["inputs"] and editor["servers"]["tickets"]["command"] == "node"
    assert "sequential-thinking" in editor["servers"], "the vetted servers are rendered beside the team's"
    recorded = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    assert recorded["extra_codex_config"] == {"model": "o3", "tui": {"notifications": True}}
    assert recorded["extra_mcp_servers"]["tickets"] == {"command": "node", "args": ["tools/tickets-mcp.js"]}
    assert set(recorded["extra_agent_config"]) == {".cursor/hooks.json", ".vscode/mcp.json"}
    assert "context7" in recorded["mcp_servers"], "a vetted server the team already ran is chosen, and rendered pinned"
    assert json.loads((repo / ".cursor/mcp.json").read_text())["mcpServers"]["context7"] == json.loads((repo / ".mcp.json").read_text())["mcpServers"]["context7"]
    check = subprocess.run([sys.executable, ".claude/foundation/check.py", "--json"], cwd=repo, capture_output=True, text=True, timeout=60)
    errors = {(f["code"], f["file"]) for f in json.loads(check.stdout)["findings"] if f["severity"] == "error"}
    unvetted_server = {("mcp-server-unvetted", path) for path in (".mcp.json", ".vscode/mcp.json", ".cursor/mcp.json", ".claude/settings.json")}
    assert errors <= unvetted_server, errors
