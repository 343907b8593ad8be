"""Each agent's pre-tool hook input and output, translated to and from the event the guard decides on.

An adapter only renames: the agent's tool and arguments become Claude Code's (Bash/command, Read/file_path,
Edit/file_path, mcp__server__tool), and the guard's decision becomes the agent's answer. Decisions stay in
guard_core. Every event carries `client`, so the audit log records which agent made the call. A tool an adapter
does not know keeps its name; the guard treats a name it does not know by its own rules. Standard library only.
"""

from __future__ import annotations


def _codec():
    import guard

    return guard.cached_import("audit_core")


def _arguments(value) -> dict:
    """Tool arguments as a mapping; some agents send them as a JSON string."""
    if isinstance(value, str):
        try:
            value = _codec().loads(value)
        except ValueError:
            return {"raw": value}
    return value if isinstance(value, dict) else {}


def _path_input(args: dict) -> dict:
    path = args.get("file_path") or args.get("path") or args.get("filePath") or args.get("target_file") or ""
    return {**args, "file_path": path}


def _event(client: str, tool: str, tool_input: dict, native: dict, session, cwd) -> dict:
    return {"hook_event_name": "PreToolUse", "tool_name": tool, "tool_input": tool_input, "session_id": session,
            "cwd": cwd, "client": client}


class Codex:
    """Codex sends Claude Code's event (tool_name "Bash", tool_input.command) and reads Claude Code's answer,
    except that it runs the call when a hook answers "ask" (observed on 0.171), so an ask is answered as a deny
    that says a human must run or approve the command (the audit record keeps the guard's "ask")."""

    name = "codex"
    ASK = " Codex cannot hold a call for approval through its hook, so the foundation blocks it: ask a human to run it."

    @staticmethod
    def event(native: dict) -> dict:
        return {**native, "client": "codex"}

    @classmethod
    def respond(cls, decision) -> str:
        import guard_core

        if decision.decision == "ask":
            decision = guard_core.Decision("deny", decision.reason + cls.ASK, decision.rule, decision.trace)
        return guard_core.respond(decision)


class Copilot:
    """Copilot CLI: {toolName, toolArgs, cwd, sessionId}; answers {permissionDecision, permissionDecisionReason}."""

    name = "copilot"
    TOOLS = {"bash": "Bash", "shell": "Bash", "view": "Read", "read": "Read", "create": "Write", "edit": "Edit",
             "str_replace": "Edit", "write": "Write", "web_fetch": "WebFetch", "fetch": "WebFetch"}

    @classmethod
    def event(cls, native: dict) -> dict:
        name = str(native.get("toolName") or "")
        args = _arguments(native.get("toolArgs"))
        tool = cls.TOOLS.get(name, name)
        if tool in ("Read", "Edit", "Write"):
            args = _path_input(args)
        return _event("copilot", tool, args, native, native.get("sessionId"), native.get("cwd"))

    @staticmethod
    def respond(decision) -> str:
        if decision.decision == "allow":
            return ""
        return _codec().dumps({"permissionDecision": decision.decision, "permissionDecisionReason": decision.reason})


class Cursor:
    """Cursor: one event per kind of action (beforeShellExecution, beforeReadFile, beforeMCPExecution,
    preToolUse); answers {permission, user_message, agent_message}."""

    name = "cursor"
    TOOLS = {"Shell": "Bash", "Read": "Read", "Write": "Write", "Edit": "Edit", "StrReplace": "Edit", "MultiEdit": "Edit",
             "Delete": "Edit"}

    @classmethod
    def event(cls, native: dict) -> dict:
        kind = native.get("hook_event_name")
        roots = native.get("workspace_roots") if isinstance(native.get("workspace_roots"), list) else []
        cwd = native.get("cwd") or (roots[0] if roots else None)
        session = native.get("conversation_id")
        if kind == "beforeShellExecution":
            return _event("cursor", "Bash", {"command": native.get("command")}, native, session, cwd)
        if kind == "beforeReadFile":
            return _event("cursor", "Read", {"file_path": native.get("file_path") or ""}, native, session, cwd)
        name = str(native.get("tool_name") or "")
        args = _arguments(native.get("tool_input"))
        if kind == "beforeMCPExecution" or name.startswith("MCP:"):
            server, _, tool = name.removeprefix("MCP:").partition(":")
            server = server or str(native.get("server") or "")
            return _event("cursor", f"mcp__{server}__{tool or name}", args, native, session, cwd)
        tool = cls.TOOLS.get(name, name)
        if tool == "Bash":
            args = {"command": args.get("command")}
        elif tool in ("Read", "Edit", "Write"):
            args = _path_input(args)
        return _event("cursor", tool, args, native, session, cwd)

    @staticmethod
    def respond(decision) -> str:
        if decision.decision == "allow":
            return _codec().dumps({"permission": "allow"})
        return _codec().dumps({"permission": decision.decision, "user_message": decision.reason, "agent_message": decision.reason})


ADAPTERS = {adapter.name: adapter for adapter in (Codex, Copilot, Cursor)}
