"""Run the real Claude Code client against the loopback mock, isolated per run.

Each run gets a fresh HOME so trust state, approvals and transcripts never leak
between tests or from the developer's own ``~/.claude*`` files.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .mock_messages_api import MockMessagesAPI, RecordedRequest, ToolCall, ToolResult

__all__ = [
    "ClaudeNotFoundError",
    "ClaudeRun",
    "ClaudeRunTimeout",
    "CLIENT_NOT_FOUND_MESSAGE",
    "DEFAULT_MODEL",
    "DEFAULT_PROMPT",
    "HOOK_ERROR_PREFIX",
    "find_claude",
    "init_scratch_repo",
    "isolated_env",
    "mcp_list",
    "run_claude",
    "write_trust",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENT_NOT_FOUND_MESSAGE = (
    "Claude Code client not found: run `npm install` in the repository root (or bash .ci/run)"
)
DEFAULT_MODEL = "claude-test"
DEFAULT_PROMPT = "Follow the scripted tool calls."
DEFAULT_TIMEOUT = 120.0
# How the pinned client (package.json) hands a PreToolUse hook's deny reason to the model: prefixed, then verbatim.
HOOK_ERROR_PREFIX = "PreToolUse:Bash hook error: "
# Used when no mock is given (e.g. `claude mcp list`): a closed loopback port, so a
# stray API call fails at once instead of leaving the machine.
UNUSED_BASE_URL = "http://127.0.0.1:9"

# Inherited variables that would redirect the client to another config dir, another
# credential or another backend, or send loopback traffic through a proxy.
_DROPPED_ENV_PREFIXES = ("ANTHROPIC_", "CLAUDE_", "CLAUDECODE", "AWS_BEARER_TOKEN_BEDROCK")
_DROPPED_ENV_NAMES = {
    name.lower() for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
}


class ClaudeNotFoundError(RuntimeError):
    pass


class ClaudeRunTimeout(AssertionError):
    """The client did not finish in time; carries whatever it printed."""


def find_claude() -> Path:
    """``$CLAUDE_BIN``, else the repo's npm-installed client, else ``claude`` on PATH."""
    override = os.environ.get("CLAUDE_BIN")
    if override:
        if Path(override).is_file():
            return Path(override)
        # An explicit override that points nowhere is a setup error, not a cue to
        # silently test some other client version.
        raise ClaudeNotFoundError(f"{CLIENT_NOT_FOUND_MESSAGE} (CLAUDE_BIN={override!r} does not exist)")
    local = REPO_ROOT / "node_modules" / ".bin" / "claude"
    if local.exists():
        return local
    on_path = shutil.which("claude")
    if on_path:
        return Path(on_path)
    raise ClaudeNotFoundError(CLIENT_NOT_FOUND_MESSAGE)


@dataclass
class ClaudeRun:
    """Outcome of one ``claude -p`` run."""

    returncode: int
    stdout: str
    stderr: str
    output: dict[str, Any] | None  # parsed stdout JSON; None if stdout was not JSON
    tool_results: list[ToolResult]  # one per answered scripted call, in script order
    requests: list[RecordedRequest] = field(default_factory=list)  # requests of this run
    home: Path | None = None  # None once the temporary HOME has been removed

    @property
    def permission_denials(self) -> list[dict[str, Any]]:
        return list((self.output or {}).get("permission_denials") or [])

    @property
    def denied_tool_use_ids(self) -> set[str]:
        return {d.get("tool_use_id") for d in self.permission_denials}

    def was_denied(self, result: ToolResult) -> bool:
        """True if the client listed this call in ``permission_denials``."""
        return result.tool_use_id in self.denied_tool_use_ids

    def result(self, index: int) -> ToolResult:
        """The tool result for scripted call ``index``, with a readable failure if absent."""
        for result in self.tool_results:
            if result.index == index:
                return result
        raise AssertionError(
            f"no tool_result for scripted call #{index}; got {self.tool_results!r}\n"
            f"{self.describe()}"
        )

    def describe(self) -> str:
        """Diagnostics for assertion messages."""
        paths = [f"{r.method} {r.path}" for r in self.requests]
        return (
            f"exit code: {self.returncode}\nrequests: {paths}\n"
            f"stdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-2000:]}"
        )


def isolated_env(
    home: Path, base_url: str = UNUSED_BASE_URL, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment for one client process, rooted at ``home``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_DROPPED_ENV_PREFIXES) and key.lower() not in _DROPPED_ENV_NAMES
    }
    env.update(
        HOME=str(home),
        # Keep XDG lookups inside the throwaway HOME as well.
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        ANTHROPIC_BASE_URL=base_url,
        # Any key works against the mock; its presence stops the client from trying to log in.
        ANTHROPIC_API_KEY="test",
        # Without these the client phones home (update check, telemetry).
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_TELEMETRY="1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    env.update(extra or {})
    return env


def write_trust(home: Path, repo: Path) -> None:
    """Mark ``repo`` as trusted; untrusted folders have their allow rules ignored."""
    config_path = home / ".claude.json"
    config = json.loads(config_path.read_text()) if config_path.exists() else {}
    # The client compares against its resolved cwd, so symlinks must be resolved here too.
    project = config.setdefault("projects", {}).setdefault(os.path.realpath(repo), {})
    project["hasTrustDialogAccepted"] = True
    config_path.write_text(json.dumps(config, indent=2))


def run_claude(
    repo: Path,
    script: Iterable[ToolCall],
    *,
    mock: MockMessagesAPI,
    prompt: str = DEFAULT_PROMPT,
    trusted: bool = False,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    claude_bin: Path | None = None,
    home: Path | None = None,
    final_text: str = "Done.",
    timeout: float = DEFAULT_TIMEOUT,
) -> ClaudeRun:
    """Run ``claude -p`` in ``repo`` with the mock model playing ``script``.

    ``home``: use this (empty) directory as HOME and keep it; by default a temporary
    one is created and removed afterwards.
    """
    binary = claude_bin or find_claude()
    mock.load_script(script, final_text=final_text)
    seen_before = len(mock.requests)
    command = [
        str(binary), "-p", prompt,
        "--output-format", "json",
        "--model", DEFAULT_MODEL,
        "--no-session-persistence",
        *args,
    ]
    with _home_dir(home) as run_home:
        if trusted:
            write_trust(run_home, repo)
        proc = _run_bounded(command, repo, isolated_env(run_home, mock.base_url, env), timeout)
    return ClaudeRun(
        returncode=proc.returncode,
        stdout=proc.stdout,
        stderr=proc.stderr,
        output=_parse_output(proc.stdout),
        tool_results=mock.tool_results,
        requests=mock.requests[seen_before:],
        home=home,
    )


def mcp_list(
    repo: Path,
    *,
    trusted: bool = False,
    env: Mapping[str, str] | None = None,
    claude_bin: Path | None = None,
    home: Path | None = None,
    timeout: float = 60.0,
) -> str:
    """Stdout of ``claude mcp list`` run in ``repo`` with an isolated HOME."""
    binary = claude_bin or find_claude()
    with _home_dir(home) as run_home:
        if trusted:
            write_trust(run_home, repo)
        proc = _run_bounded(
            [str(binary), "mcp", "list"], repo, isolated_env(run_home, extra=env), timeout
        )
    if proc.returncode != 0:
        raise AssertionError(
            f"`claude mcp list` exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
        )
    return proc.stdout


def init_scratch_repo(
    path: Path,
    *,
    settings: Mapping[str, Any] | None = None,
    files: Mapping[str, str] | None = None,
) -> Path:
    """``git init`` ``path`` and write ``.claude/settings.json`` and other files into it."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "init", "-q", str(path)],
        check=True, capture_output=True, timeout=30, stdin=subprocess.DEVNULL,
    )
    if settings is not None:
        settings_path = path / ".claude" / "settings.json"
        settings_path.parent.mkdir(parents=True, exist_ok=True)
        settings_path.write_text(json.dumps(settings, indent=2) + "\n")
    for relative, text in (files or {}).items():
        target = path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return path


# -- internals ---------------------------------------------------------------------


@contextmanager
def _home_dir(home: Path | None) -> Iterator[Path]:
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
        yield home
        return
    with tempfile.TemporaryDirectory(prefix="claude-home-") as tmp:
        yield Path(tmp)


def _run_bounded(
    command: list[str], cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    # A new session lets a timeout kill the whole tree: hooks and Bash children can
    # hold the output pipes open after the client itself is gone.
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, text=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        try:
            stdout, stderr = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            stdout, stderr = "", "(output unavailable: pipes still held open after kill)"
        raise ClaudeRunTimeout(
            f"{command[:3]} did not finish within {timeout}s\nstdout: {stdout}\nstderr: {stderr}"
        ) from None
    finally:
        if proc.poll() is None:
            _kill_group(proc)
            proc.wait(timeout=10)
    return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    # Only while the leader is unreaped: its pid, and so the group id, cannot have
    # been reused by an unrelated process yet.
    if proc.returncode is not None:
        return
    # The client starts hooks in process groups of their own, so killing our group
    # alone would orphan a hanging hook; collect the tree before anything dies.
    descendants = _descendants(proc.pid)
    for kill, target in [(os.killpg, proc.pid)] + [(os.kill, pid) for pid in descendants]:
        try:
            kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _descendants(root: int) -> list[int]:
    """Pids below ``root``, from /proc (empty where /proc is unavailable)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            # Field 2 (comm) may contain spaces; the fields after its closing paren are fixed.
            ppid = int(entry.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # process gone mid-scan
            continue
        children.setdefault(ppid, []).append(int(entry.parent.name))
    found, pending = [], [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _parse_output(stdout: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(stdout)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
