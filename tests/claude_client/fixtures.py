"""Pytest fixtures for driving the real Claude Code client.

Pulled into the suite by ``from tests.claude_client.fixtures import *`` in
``tests/conftest.py`` (or imported explicitly by a test module).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pytest

from .mock_messages_api import MockMessagesAPI, ToolCall
from .runner import (
    ClaudeNotFoundError,
    ClaudeRun,
    find_claude,
    init_scratch_repo,
    mcp_list,
    run_claude as _run_claude,
)

__all__ = ["claude_bin", "claude_mcp_list", "mock_api", "run_claude", "scratch_repo"]


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    try:
        return find_claude()
    except ClaudeNotFoundError as error:
        message = str(error)
    # Deliberately a failure, never a skip: a suite that silently skips the client
    # tests would report green while checking nothing. Raised outside the except
    # block so the report shows the message once, without a chained traceback.
    pytest.fail(message, pytrace=False)


@pytest.fixture
def mock_api() -> Iterator[MockMessagesAPI]:
    with MockMessagesAPI() as api:
        yield api


@pytest.fixture
def run_claude(
    claude_bin: Path, mock_api: MockMessagesAPI, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., ClaudeRun]:
    """``run_claude(repo, script, *, trusted=False, args=(), env=None, ...)``.

    Each call gets its own HOME under pytest's temp dir, kept for post-mortems.
    """

    def run(repo: Path, script: Iterable[ToolCall], **kwargs: Any) -> ClaudeRun:
        home = kwargs.setdefault("home", tmp_path_factory.mktemp("claude-home"))
        env = dict(kwargs.get("env") or {})
        env.setdefault("PATH", real_python_first(home))
        kwargs["env"] = env
        if not kwargs.pop("start_mcp_servers", False):
            # The rendered .mcp.json would have the client start npx servers at every session: slow, and not
            # what these tests are about (`claude mcp list` covers the servers).
            kwargs["args"] = [*NO_MCP_SERVERS, *kwargs.get("args", ())]
        kwargs.setdefault("claude_bin", claude_bin)  # a test may wrap the client (e.g. in a mount namespace)
        return _run_claude(repo, script, mock=mock_api, **kwargs)

    return run


NO_MCP_SERVERS = ["--strict-mcp-config", "--mcp-config", '{"mcpServers": {}}']


def real_python_first(scratch: Path) -> str:
    """PATH with the real interpreter as python3: a version-manager shim adds up to a second per hook call."""
    bin_dir = scratch / "real-python-bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "python3").exists():
        (bin_dir / "python3").symlink_to(os.path.realpath(sys.executable))
    return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture
def claude_mcp_list(
    claude_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., str]:
    """``claude_mcp_list(repo, *, trusted=False, env=None)`` -> stdout of ``claude mcp list``."""

    def run(repo: Path, **kwargs: Any) -> str:
        kwargs.setdefault("home", tmp_path_factory.mktemp("claude-home"))
        return mcp_list(repo, claude_bin=claude_bin, **kwargs)

    return run


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    """An empty git repository; write ``.claude/settings.json`` into it per test."""
    return init_scratch_repo(tmp_path / "repo")
