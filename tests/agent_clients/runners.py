"""Run the real Codex CLI and Copilot CLI offline against a loopback mock (recipes: ../shared/clients-2026-11.md).

Both come from npm (versions pinned in package.json, installed by .ci/run). A missing client is an error, never
a skip. Each run gets its own HOME, so nothing is read from or written to the developer's own configuration.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.agent_clients.mock_openai import MockOpenAI

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "node_modules" / ".bin"
TIMEOUT_SECONDS = 180


def client_binary(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `npm install` (bash .ci/run does) to install the pinned {name} client")
    return path


@dataclass
class AgentRun:
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return f"exit {self.returncode}\nstdout:\n{self.stdout[-3000:]}\nstderr:\n{self.stderr[-3000:]}"


def _base_env(home: Path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8", "TERM": "dumb"}


def run_codex(repo: Path, home: Path, api: MockOpenAI, *, bypass_sandbox: bool = True, binary: Path | None = None) -> AgentRun:
    """`codex exec` in a trusted project (so its .codex/ loads), hooks trusted for this run (each hook needs the
    user's approval once; --dangerously-bypass-hook-trust stands in for it). `binary`: a wrapper of the client
    (namespaced_codex)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        'model = "mock-model"\nmodel_provider = "mock"\n\n[model_providers.mock]\nname = "mock"\n'
        f'base_url = "{api.base_url}"\nwire_api = "responses"\nenv_key = "MOCK_API_KEY"\n', encoding="utf-8")
    env = {**_base_env(home), "CODEX_HOME": str(home), "MOCK_API_KEY": "dummy"}
    flags = ["--dangerously-bypass-approvals-and-sandbox"] if bypass_sandbox else []
    command = [str(binary or client_binary("codex")), "exec", *flags, "--dangerously-bypass-hook-trust", "--trust", "Run the checks."]
    return _run(command, repo, env)


def namespaced_codex(where: Path, requirements: Path | None) -> Path:
    """The Codex client in a private mount namespace where /etc/codex/requirements.toml is `requirements` (or
    absent: the control run); the machine's own /etc is never touched."""
    from tests.claude_client.managed import etc_overlay

    def fill(upper: Path) -> None:
        (upper / "codex").mkdir()
        if requirements is not None:
            (upper / "codex" / "requirements.toml").write_bytes(requirements.read_bytes())

    return etc_overlay(client_binary("codex"), where, "codex", fill)


def codex_mcp_list(repo: Path, home: Path) -> AgentRun:
    env = {**_base_env(home), "CODEX_HOME": str(home)}
    return _run([str(client_binary("codex")), "mcp", "list", "--json"], repo, env)


def run_copilot(repo: Path, home: Path, api: MockOpenAI) -> AgentRun:
    """`copilot -p` with a bring-your-own-model provider (no sign-in); --trust-folder so hooks and MCP load."""
    home.mkdir(parents=True, exist_ok=True)
    env = {**_base_env(home), "COPILOT_OFFLINE": "true", "COPILOT_PROVIDER_BASE_URL": api.base_url,
           "COPILOT_PROVIDER_API_KEY": "dummy", "COPILOT_MODEL": "mock-model", "COPILOT_AUTO_UPDATE": "false"}
    command = [str(client_binary("copilot")), "-p", "Run the checks.", "--allow-all-tools", "--trust-folder",
               "--disable-client-telemetry"]
    return _run(command, repo, env)


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> AgentRun:
    result = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=TIMEOUT_SECONDS)
    return AgentRun(result.returncode, result.stdout, result.stderr)
