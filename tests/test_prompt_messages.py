"""What a team sees at Copier's prompts in an 80-column terminal: every question's help fits, and every
refusal shows its fix before the terminal cuts the line.

Copier shows a validator's message on one line, after its own "Validation error for question 'NAME': ", and
the terminal cuts whatever does not fit; so the messages start with the fix (src/agent_foundation/render.py,
copier.yml). The test answers the questions in a real 80-column tmux session, as a person would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.rendering import TEMPLATE_ROOT

COLUMNS = 80
PROMPT = "🎤 "  # Copier's prompt marker: two columns and a space
COPIER = str(Path(sys.executable).with_name("copier"))

# question -> [(what the person types, the fix that must be visible)], then the answer that is accepted
REFUSALS: dict[str, tuple[list[tuple[str, str]], str]] = {
    "team_name": ([("", "give a name, e.g. Payments API")], "Demo Team"),
    "team_slug": ([("Bad_Slug", "write it like payments-api")], "demo-team"),
    "owner": ([("nobody", "use an email or an @org/team handle")], "platform-team@example.com"),
    "support_channel": ([("", "name one, e.g. #payments-dev")], "#demo-team"),
    "extra_allow": ([('["Bash(*)"]', "narrow it, e.g. Bash(make test:*)"),
                     ('["Bash(git push:*)"]', "narrow it, e.g. Bash(make test:*)"),
                     ('["bash(ls)"]', "write it like Bash(make test:*)"),
                     ('"make test"', 'use a list: ["Bash(make test:*)"]')], "[]"),
    "extra_ask": ([('["Bash(make deploy:*"]', "write it like Bash(make test:*)")], "[]"),
    "extra_deny": ([('["rm -rf"]', "write it like Bash(make test:*)")], "[]"),
    "extra_network_hosts": ([('["https://pkgs.example.com"]', "write the host only"),
                             ('"pkgs.example.com"', "use a list of hosts")], "[]"),
    "extra_settings": ([('{"sandbox": {}}', "remove 'sandbox'"),
                        ('{"env": {"LEVEL": 1}}', "quote every env value"),
                        ('[1]', "use a YAML mapping")], "{}"),
    "extra_mcp_servers": ([('{"sequential-thinking": {"command": "npx"}}', "move it to mcp_servers"),
                           ('{"mine": {}}', "add a command or a url")], "{}"),
    "audit_log": ([("logs/agent.jsonl", "use e.g. .claude/audit/audit.jsonl")], ".claude/audit/audit.jsonl"),
}


def questions() -> dict[str, str]:
    """Each question of copier.yml by the first line of its help."""
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    return {name: str(spec["help"]).splitlines()[0] for name, spec in config.items()
            if not name.startswith("_") and isinstance(spec, dict) and "help" in spec}


def test_every_help_line_fits_an_80_column_terminal() -> None:
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    too_wide = [f"{name}: {line!r} ({len(PROMPT) + 1 + len(line)} columns)"
                for name, spec in config.items() if not name.startswith("_") and isinstance(spec, dict)
                for line in str(spec.get("help", "")).splitlines() if len(PROMPT) + 1 + len(line) > COLUMNS]
    assert not too_wide, ("Copier prints each help line unwrapped and the terminal cuts it: write the help as "
                          "`help: |-` with lines of at most 77 characters:\n" + "\n".join(too_wide))


def test_every_validator_refuses_a_data_answer_without_a_traceback() -> None:
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    bare = [name for name, spec in config.items() if isinstance(spec, dict) and "validator" in spec
            and f"answer_error('{name}')" not in str(spec["validator"])]
    assert not bare, (f"pass each validator's message through `| answer_error('NAME')` (extensions/foundation_context.py), "
                      f"so a refused --data answer prints its message alone, and start the message with the fix: {bare}")


class Terminal:
    """One tmux session of COLUMNS columns on its own server socket."""

    def __init__(self, tmux: str, socket: str):
        self.tmux, self.socket = tmux, socket

    def __call__(self, *args: str) -> str:
        return subprocess.run([self.tmux, "-L", self.socket, "-f", os.devnull, *args], capture_output=True,
                              text=True, timeout=30, check=True).stdout

    def screen(self) -> list[str]:
        return self("capture-pane", "-p", "-t", "first").splitlines()

    def type(self, text: str) -> None:
        self("send-keys", "-t", "first", "C-u")
        if text:
            self("send-keys", "-t", "first", "-l", text)
        self("send-keys", "-t", "first", "Enter")

    def wait_for(self, found, what: str, timeout: float = 60) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if found(screen):
                return screen
            time.sleep(0.1)
        pytest.fail(f"waited {timeout:g} s for {what}; the {COLUMNS}-column terminal shows:\n" + "\n".join(self.screen()))


@pytest.fixture
def terminal(tmp_path: Path):
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.fail("tmux is not installed: `bash .ci/run` installs it (Debian package tmux)")
    session = Terminal(tmux, f"agent-foundation-{os.getpid()}-{tmp_path.name}")
    command = f"{COPIER} copy --trust --vcs-ref HEAD {TEMPLATE_ROOT} {tmp_path / 'team'}; echo COPIER-EXIT=$?; sleep 600"
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm-256color"}
    subprocess.run([tmux, "-L", session.socket, "-f", os.devnull, "-u", "new-session", "-d", "-s", "first",
                    "-x", str(COLUMNS), "-y", "40", command], env=env, check=True, timeout=30)
    try:
        yield session
    finally:
        subprocess.run([tmux, "-L", session.socket, "kill-server"], capture_output=True, timeout=30)


def current_question(screen: list[str], by_help: dict[str, str]) -> str | None:
    prompts = [line for line in screen if line.startswith(PROMPT)]
    if not prompts:
        return None
    shown = prompts[-1][len(PROMPT):]
    return next((name for name, first in by_help.items() if first.startswith(shown.rstrip()) or shown.startswith(first)), None)


def test_every_refusal_shows_its_fix_at_80_columns(terminal: Terminal, tmp_path: Path) -> None:
    by_help = questions()
    assert set(REFUSALS) <= set(by_help)
    seen: list[str] = []
    while True:
        screen = terminal.wait_for(lambda s: any("COPIER-EXIT=" in line for line in s)
                                   or (current_question(s, by_help) not in (None, *seen)), "the next question")
        if any("COPIER-EXIT=" in line for line in screen):
            break
        question = current_question(screen, by_help)
        seen.append(question)
        refusals, accepted = REFUSALS.get(question, ([], None))
        for typed, fix in refusals:
            prefix = f"Validation error for question '{question}': "
            terminal.type(typed)
            shown = terminal.wait_for(lambda s: any(line.startswith(prefix) and fix in line for line in s),
                                      f"{question} = {typed!r} to show {fix!r}", timeout=20)
            line = next(line for line in shown if line.startswith(prefix))
            assert len(line) <= COLUMNS and fix in line
        if accepted is None:
            terminal("send-keys", "-t", "first", "Enter")  # a question without refusals to test: its default
        else:
            terminal.type(accepted)
    assert "COPIER-EXIT=0" in "\n".join(terminal.screen())
    assert set(REFUSALS) <= set(seen)
    assert (tmp_path / "team" / ".claude" / "settings.json").is_file()
