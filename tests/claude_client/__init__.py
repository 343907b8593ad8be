"""Harness for driving the real Claude Code client offline against a loopback mock."""

from .mock_messages_api import MockMessagesAPI, RecordedRequest, ToolCall, ToolResult
from .runner import (
    CLIENT_NOT_FOUND_MESSAGE,
    HOOK_ERROR_PREFIX,
    ClaudeNotFoundError,
    ClaudeRun,
    ClaudeRunTimeout,
    find_claude,
    init_scratch_repo,
    mcp_list,
    run_claude,
    write_trust,
)

__all__ = [
    "CLIENT_NOT_FOUND_MESSAGE",
    "HOOK_ERROR_PREFIX",
    "ClaudeNotFoundError",
    "ClaudeRun",
    "ClaudeRunTimeout",
    "MockMessagesAPI",
    "RecordedRequest",
    "ToolCall",
    "ToolResult",
    "find_claude",
    "init_scratch_repo",
    "mcp_list",
    "run_claude",
    "write_trust",
]
