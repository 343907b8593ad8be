"""The OS sandbox rendered into settings.json, in the real Claude Code client (offline, loopback mock):
what a sandboxed command cannot do even when the guard lets it through, what still works, and what happens on
a machine without bubblewrap. Needs Debian's bubblewrap and socat (bash .ci/run installs them): a missing one
fails these tests, it never skips them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from agent_foundation.foundation import load_foundation
from tests.claude_client.mock_messages_api import ToolCall
from tests.rendering import TEMPLATE_ROOT, commit_all, render_team

pytestmark = pytest.mark.client

SSH_KEY = "ssh-private-key-do-not-leak-7f3a"
CLOUD_KEY = "aws-secret-do-not-leak-91c2"
ALLOWED_HOST = "127.0.0.1"  # the team's answer extra_network_hosts lets sandboxed commands reach it
BLOCKED_HOST = "127.0.0.2"  # loopback too, but on no allowlist
INSTALL = load_foundation(TEMPLATE_ROOT / "foundation").client["sandbox"]["install"]


def bash(command: str) -> ToolCall:
    return ToolCall("Bash", {"command": command, "description": "scripted by the test"})


@pytest.fixture(scope="module", autouse=True)
def sandbox_tools() -> None:
    missing = [tool for tool in ("bwrap", "socat") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not found: the sandbox cannot start. Install them: {INSTALL} "
                    "(bash .ci/run does)", pytrace=False)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_team(tmp_path_factory.mktemp("sandboxed") / "team", {"extra_network_hosts": [ALLOWED_HOST]})


@pytest.fixture
def team(rendered: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(rendered, tmp_path / "team", symlinks=True))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The session's HOME, holding the secrets an attacker wants: an SSH key and cloud credentials."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(SSH_KEY + "\n")
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text(f"[default]\naws_secret_access_key = {CLOUD_KEY}\n")
    return home


class _Recorder(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        body = f"reached {self.server.server_address[0]}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def servers() -> Iterator[dict[str, ThreadingHTTPServer]]:
    """One loopback HTTP server on the allowed address, one on the blocked one; each records its requests."""
    started = {}
    for host in (ALLOWED_HOST, BLOCKED_HOST):
        server = ThreadingHTTPServer((host, 0), _Recorder)
        server.hits = []  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started[host] = server
    yield started
    for server in started.values():
        server.shutdown()
        server.server_close()


def fetch(server: ThreadingHTTPServer, *, through_proxy: bool) -> str:
    """A sandboxed HTTP GET in Python. Inside the sandbox no_proxy covers loopback (and urllib honours it even
    for an explicit proxy), so a request reaches the client's filtering proxy only with no_proxy cleared;
    without the proxy it goes straight at the address."""
    host, port = server.server_address[:2]
    proxy = "{'http': os.environ['http_proxy']}" if through_proxy else "{}"
    code = ("import os, urllib.request as u; [os.environ.pop(k, None) for k in ('no_proxy', 'NO_PROXY')]; "
            f"print(u.build_opener(u.ProxyHandler({proxy})).open('http://{host}:{port}/probe', timeout=10).read().decode())")
    return f'python3 -c "{code}"'


def neuter_guard(repo: Path) -> None:
    """A guard that approves everything: what the sandbox stops here, it stops on its own."""
    (repo / ".claude/foundation/hooks/guard.py").write_text("import sys\nsys.stdin.read()\n")
    commit_all(repo, "a guard that decides nothing")


@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandboxed", "control-without-sandbox"])
def test_the_sandbox_holds_where_the_guard_lets_a_command_through(team, home, tmp_path, servers, run_claude, sandboxed):
    neuter_guard(team)
    if not sandboxed:
        settings = json.loads((team / ".claude/settings.json").read_text())
        settings["sandbox"]["enabled"] = False
        (team / ".claude/settings.json").write_text(json.dumps(settings, indent=2))
    outside = tmp_path / "outside"
    outside.mkdir()
    settings_before = (team / ".claude/settings.json").read_text()
    script = [
        # Through `sh -c` and variables, so the client's own path checks cannot see the targets.
        bash('sh -c \'echo pwned > "$OUTSIDE/canary.txt"; echo pwned > "$HOME/canary.txt"\''),
        bash('sh -c \'cat "$HOME/.ssh/id_rsa"; cat "$HOME/.aws/credentials"\''),
        bash("sh -c 'echo {} > .claude/settings.json'"),
        bash(fetch(servers[BLOCKED_HOST], through_proxy=True)),
        bash(fetch(servers[BLOCKED_HOST], through_proxy=False)),
        bash(fetch(servers[ALLOWED_HOST], through_proxy=True)),
    ]

    run = run_claude(team, script, trusted=True, home=home, env={"OUTSIDE": str(outside)},
                     args=["--allowedTools", "Bash(sh:*)", "Bash(python3:*)"])

    write, read, tamper, blocked, direct, allowed = (run.result(i) for i in range(len(script)))
    if not sandboxed:  # the control: the same calls, the sandbox switched off, do all the harm
        assert (outside / "canary.txt").exists() and SSH_KEY in read.content and CLOUD_KEY in read.content, run.describe()
        assert (team / ".claude/settings.json").read_text() != settings_before
        assert "/probe" in servers[BLOCKED_HOST].hits  # straight at it: no network namespace without the sandbox
        return
    assert "Read-only file system" in write.content, run.describe()
    assert not (outside / "canary.txt").exists() and not (home / "canary.txt").exists()
    assert "No such file or directory" in read.content, run.describe()  # ~/.ssh and ~/.aws are hidden
    assert SSH_KEY not in read.content and CLOUD_KEY not in read.content
    assert "Read-only file system" in tamper.content, run.describe()
    assert (team / ".claude/settings.json").read_text() == settings_before
    assert blocked.is_error and "403: Forbidden" in blocked.content, run.describe()  # the proxy's answer
    assert f"deny network-outbound {BLOCKED_HOST}:" in blocked.content
    assert direct.is_error and "reached" not in direct.content, run.describe()
    assert servers[BLOCKED_HOST].hits == []  # neither way reached it
    assert not allowed.is_error and f"reached {ALLOWED_HOST}" in allowed.content, run.describe()
    assert servers[ALLOWED_HOST].hits == ["/probe"]


def test_ordinary_work_runs_sandboxed_with_the_real_guard(team, home, run_claude):
    (team / "tests").mkdir()
    (team / "tests" / "test_ok.py").write_text("def test_ok():\n    assert 1 + 1 == 2\n")
    script = [
        bash("python -m pytest -q tests/test_ok.py"),  # the python stack's test command, allowed by the profile
        bash("git add tests && git commit -q -m 'add a test'"),
    ]
    identity = {f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER")
                for what, value in (("NAME", "Agent"), ("EMAIL", "agent@example.com"))}

    run = run_claude(team, script, trusted=True, home=home, env=identity)

    test, commit = run.result(0), run.result(1)
    assert not test.is_error and "1 passed" in test.content, run.describe()
    assert not commit.is_error, run.describe()
    assert "add a test" in os.popen(f"git -C {team} log -1 --format=%s").read()


def test_without_bubblewrap_the_client_refuses_to_start(team, home, tmp_path, run_claude):
    """failIfUnavailable: a machine that cannot sandbox runs nothing, and says what to install."""
    bin_dir = tmp_path / "no-bwrap-bin"  # every program on PATH except bwrap
    bin_dir.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        for program in Path(folder).glob("*") if Path(folder).is_dir() else []:
            target = bin_dir / program.name
            if program.name != "bwrap" and not target.exists() and os.access(program, os.X_OK):
                target.symlink_to(program)

    run = run_claude(team, [bash("touch ran-unsandboxed.txt")], trusted=True, home=home, env={"PATH": str(bin_dir)})

    assert run.returncode == 1, run.describe()
    assert "sandbox required but unavailable" in run.stderr and "bubblewrap" in run.stderr, run.describe()
    assert not (team / "ran-unsandboxed.txt").exists()
    assert run.tool_results == []


def test_listed_commands_run_outside_the_sandbox_and_still_pass_the_guard(team, home, tmp_path, run_claude):
    remote = tmp_path / "remote.git"  # outside the repository: only an unsandboxed push can write it
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True, timeout=30)
    subprocess.run(["git", "-C", str(team), "remote", "add", "origin", str(remote)], check=True, timeout=30)
    script = [
        bash("git push -q origin main"),  # listed (needs the user's credentials): runs outside, allowed by the profile
        bash("git push --force origin main"),  # listed too, but the guard and the deny rules still refuse it
        bash("docker version"),  # listed with ask: true, so it asks even though the docker stack allows docker commands
    ]

    run = run_claude(team, script, trusted=True, home=home)

    push, force, docker = (run.result(i) for i in range(len(script)))
    assert not push.is_error, run.describe()
    assert subprocess.run(["git", "-C", str(remote), "rev-parse", "main"], capture_output=True, timeout=30).returncode == 0
    assert force.is_error and run.was_denied(force) and "git-force-push" in force.content, run.describe()
    assert docker.is_error and run.was_denied(docker), run.describe()
    log = team / ".claude" / "audit" / "audit.jsonl"
    decisions = [(r["input"]["command"], r["decision"]) for r in map(json.loads, log.read_text().splitlines())
                 if r["event"] == "PreToolUse"]
    assert [command for command, _ in decisions] == [call.input["command"] for call in script]  # the guard saw each
