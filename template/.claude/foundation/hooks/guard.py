"""The foundation's guard: a PreToolUse hook that enforces .claude/foundation/policy.json.

    python3 .claude/foundation/hooks/guard.py                  (wired in settings.json; event JSON on stdin)
    python3 .claude/foundation/hooks/guard.py explain "COMMAND" (prints the decision and how it was reached)

Fails closed: any error, malformed input or missing policy ends in a block (exit 2, reason on stderr), and the
audit record of the decision is written by this same process. Standard library only.
"""

from __future__ import annotations

import fnmatch
import json
import os
import posixpath
import shlex
import signal
import sys
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True  # never leave __pycache__ in the foundation folder
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audit  # noqa: E402

DEADLINE_SECONDS = 5  # well under the hook timeout in settings.json: a hung guard must block, not time out
SHELLS = {"sh", "bash", "zsh", "dash", "ksh"}
WRAPPERS = {"env", "sudo", "nice", "timeout", "nohup", "command", "exec", "time", "xargs", "doas"}
OPERATORS = {";", "&&", "||", "|", "&", "\n"}
FILE_TOOLS = {"Read": "file_path", "Edit": "file_path", "Write": "file_path", "NotebookEdit": "notebook_path", "MultiEdit": "file_path"}
SEARCH_TOOLS = {"Grep", "Glob"}
WRITE_TOOLS = {"Edit", "Write", "NotebookEdit", "MultiEdit"}


class Decision:
    def __init__(self, decision: str, reason: str, rule: str | None = None, trace: list[str] | None = None):
        self.decision, self.reason, self.rule, self.trace = decision, reason, rule, trace or []


def tokenize(command: str) -> list[str]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = ""
    tokens = []
    for token in lexer:
        tokens.append(token)
    return tokens


def segments(command: str) -> list[list[str]]:
    """Split a command line at shell operators into simple commands (argv lists)."""
    out: list[list[str]] = []
    for line in command.replace("\r", "\n").split("\n"):
        current: list[str] = []
        for token in tokenize(line):
            if token in OPERATORS or set(token) <= set(";&|"):
                if current:
                    out.append(current)
                current = [] if token != "|" else ["|"]
            else:
                current.append(token)
        if current:
            out.append(current)
    return out


def unwrap(argv: list[str], trace: list[str]) -> list[list[str]]:
    """Strip prefixes (env, sudo, VAR=value ...) and look inside `sh -c`; returns the commands really run."""
    argv = [a for a in argv if a != "|"]
    while argv and "=" in argv[0] and not argv[0].startswith("="):
        argv = argv[1:]
    if not argv:
        return []
    program = posixpath.basename(argv[0])
    if program in WRAPPERS and program not in {"sudo", "doas"} and len(argv) > 1:
        rest = argv[1:]
        while rest and (rest[0].startswith("-") or "=" in rest[0] or (program == "timeout" and rest[0][:1].isdigit())):
            rest = rest[1:]
        trace.append(f"unwrapped {program} prefix")
        return unwrap(rest, trace)
    if program in SHELLS and "-c" in argv[1:]:
        script = argv[argv.index("-c") + 1] if argv.index("-c") + 1 < len(argv) else ""
        trace.append(f"looked inside {program} -c")
        return [cmd for seg in segments(script) for cmd in unwrap(seg, trace)]
    return [[program, *argv[1:]]]


def flags(argv: list[str]) -> set[str]:
    found = set()
    for arg in argv[1:]:
        if arg.startswith("--"):
            found.add(arg.split("=", 1)[0])
        elif arg.startswith("-") and len(arg) > 1:
            found.update(f"-{letter}" for letter in arg[1:])
    return found


def positional(argv: list[str]) -> list[str]:
    return [arg for arg in argv[1:] if not arg.startswith("-")]


def outside_repo(path: str, project_dir: str) -> bool:
    expanded = os.path.expanduser(path)
    full = os.path.normpath(os.path.join(project_dir, expanded))
    project = os.path.normpath(project_dir)
    if full == project or path in ("*", ".", "./"):
        return True  # the whole repository counts as outside: never delete it all
    if full.startswith(("/tmp/", "/var/tmp/")):
        return False
    return not full.startswith(project + os.sep)


def matches(match: dict[str, Any], argv: list[str], project_dir: str, raw: str) -> bool:
    if "any_of" in match:
        base = {k: v for k, v in match.items() if k != "any_of"}
        return any(matches({**base, **alt}, argv, project_dir, raw) for alt in match["any_of"])
    if match.get("pipe_into_shell"):
        return False  # decided on the whole pipeline in check_pipeline
    programs = match.get("program")
    if programs is not None:
        programs = [programs] if isinstance(programs, str) else programs
        if argv[0] not in programs:
            return False
    args = positional(argv)
    if "subcommand" in match:
        wanted = match["subcommand"]
        wanted = [wanted] if isinstance(wanted, str) else wanted
        if not args or args[0] not in wanted:
            return False
    present = flags(argv)
    hit = True
    if "flags_any" in match:
        hit = bool(present & set(match["flags_any"]))
        if match.get("refspec_plus") and any(a.startswith("+") for a in args[1:]):
            hit = True
        if match.get("refspec_delete") and any(a.startswith(":") and len(a) > 1 for a in args[1:]):
            hit = True
    for group in match.get("flags_all", []):
        if not present & set(group):
            return False
    if match.get("target_outside_repo"):
        hit = hit and any(outside_repo(a, project_dir) for a in args)
    return hit


def check_pipeline(command: str) -> bool:
    for seg in segments(command):
        if seg and seg[0] == "|":
            words = [w for w in seg[1:] if "=" not in w]
            if words and posixpath.basename(words[0]) in SHELLS | {"python", "python3", "perl", "ruby", "node"}:
                return True
    return False


def path_matches(path: str, globs: list[str], project_dir: str) -> bool:
    home = os.path.expanduser("~")
    full = os.path.normpath(os.path.join(project_dir, os.path.expanduser(path)))
    relative = os.path.relpath(full, project_dir)
    for glob in globs:
        if glob.startswith("~/"):
            target, pattern = full, os.path.join(home, glob[2:])
        else:
            target, pattern = relative, glob
        if fnmatch.fnmatch(target, pattern) or fnmatch.fnmatch(target, pattern.replace("**/", "")) or (
            pattern.endswith("/**") and (target + "/").startswith(pattern[:-2])
        ):
            return True
        if glob.startswith("**/") and fnmatch.fnmatch(os.path.basename(target), glob[3:]):
            return True
    return False


def is_secret(path: str, policy: dict[str, Any], project_dir: str) -> bool:
    secrets = policy["secrets"]
    return path_matches(path, secrets["paths"], project_dir) and not path_matches(path, secrets.get("except", []), project_dir)


def decide_bash(command: str, policy: dict[str, Any], project_dir: str) -> Decision:
    trace: list[str] = []
    by_id = {rule["id"]: rule for rule in policy["commands"]}
    verdicts: list[Decision] = []
    for rule in policy["commands"]:
        if rule["match"].get("pipe_into_shell") and check_pipeline(command):
            verdicts.append(Decision(rule["decision"], rule["reason"], rule["id"], trace))
    for seg in segments(command):
        for argv in unwrap(seg, trace):
            trace.append("command: " + " ".join(argv))
            for rule in policy["commands"]:
                if matches(rule["match"], argv, project_dir, command):
                    verdicts.append(Decision(rule["decision"], rule["reason"], rule["id"], trace))
            for arg in argv[1:]:
                if not arg.startswith("-") and is_secret(arg, policy, project_dir):
                    verdicts.append(Decision("deny", f"{arg} holds secrets; no tool may read it.", "secrets-read", trace))
                if not arg.startswith("-") and path_matches(arg, policy["protected"]["paths"], project_dir) and argv[0] in {"rm", "mv", "cp", "tee", "sed", "truncate", "chmod"}:
                    verdicts.append(Decision("deny", f"{arg} belongs to the foundation; agents may not change it.", "foundation-tamper", trace))
    for kind in ("deny", "ask"):
        for verdict in verdicts:
            if verdict.decision == kind:
                rule = by_id.get(verdict.rule or "")
                instead = f" Instead: {rule['instead']}" if rule else ""
                verdict.reason = f"Blocked by the organisation's policy (rule {verdict.rule}): {verdict.reason}{instead}"
                return verdict
    return Decision("allow", "no rule matched", None, trace)


def decide(event: dict[str, Any], policy: dict[str, Any], project_dir: str) -> Decision:
    tool = event.get("tool_name")
    tool_input = event.get("tool_input")
    if not isinstance(tool, str) or not isinstance(tool_input, dict):
        return Decision("deny", "the hook input has no tool_name or tool_input; blocked for safety", "malformed-input")
    if tool == "Bash":
        command = tool_input.get("command")
        if not isinstance(command, str):
            return Decision("deny", "the Bash call has no command; blocked for safety", "malformed-input")
        return decide_bash(command, policy, project_dir)
    paths = []
    if tool in FILE_TOOLS:
        paths.append(str(tool_input.get(FILE_TOOLS[tool]) or ""))
    if tool in SEARCH_TOOLS:
        paths += [str(tool_input.get("path") or "."), str(tool_input.get("pattern") or "") if tool == "Glob" else ""]
    for path in filter(None, paths):
        if is_secret(path, policy, project_dir):
            return Decision("deny", f"Blocked by the organisation's policy (rule secrets-read): {path} holds secrets; no tool may read it. Instead: use .env.example or ask a human for the value you need.", "secrets-read")
        if tool in WRITE_TOOLS and path_matches(path, policy["protected"]["paths"], project_dir):
            return Decision("deny", f"Blocked by the organisation's policy (rule foundation-tamper): {path} belongs to the foundation. Instead: change it through the team's answers and `python3 .claude/foundation/update.py`.", "foundation-tamper")
    if tool.startswith("mcp__"):
        _, server, name = (tool.split("__", 2) + ["", ""])[:3]
        known = (policy.get("mcp") or {}).get("servers", {}).get(server)
        if not known:
            return Decision("ask", f"MCP server {server} is not in the vetted registry; a human must approve each call.", "mcp-unvetted")
        if name in known.get("write_tools", []):
            return Decision("ask", f"{tool} can change things outside this repository ({known['risk']} risk); a human must approve it.", "mcp-write")
    return Decision("allow", "no rule matched", None)


def respond(decision: Decision) -> str:
    if decision.decision == "allow":
        return ""
    return json.dumps({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": decision.decision, "permissionDecisionReason": decision.reason}})


def block(reason: str) -> None:
    """Fail closed: exit 2 blocks the call whatever else happened."""
    sys.stderr.write(f"agent-foundation guard: {reason}. The call is blocked for safety.\n")
    sys.stderr.flush()
    os._exit(2)


def load_policy(project_dir: str) -> dict[str, Any]:
    with open(os.path.join(project_dir, ".claude", "foundation", "policy.json"), encoding="utf-8") as handle:
        return json.load(handle)


def run_hook() -> None:
    signal.signal(signal.SIGALRM, lambda *_: block(f"no decision within {DEADLINE_SECONDS} s"))
    signal.alarm(DEADLINE_SECONDS)
    try:
        event = json.loads(sys.stdin.read())
        if not isinstance(event, dict):
            raise ValueError("the hook input is not a JSON object")
        project_dir = os.environ.get("CLAUDE_PROJECT_DIR") or event.get("cwd") or os.getcwd()
        policy = load_policy(project_dir)
        decision = decide(event, policy, project_dir)
        audit.record_event(event, decision.decision, decision.reason, policy)
    except Exception as error:  # noqa: BLE001 - every failure must end in a block
        try:
            audit.record_event({"hook_event_name": "PreToolUse", "tool_name": "unknown"}, "deny", f"guard error: {error!r}")
        except Exception:  # noqa: BLE001
            pass
        block(f"internal error ({type(error).__name__}: {error})")
        return
    sys.stdout.write(respond(decision))
    sys.stdout.flush()
    os._exit(0)


def explain(command: str) -> int:
    project_dir = os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd()
    policy = load_policy(project_dir)
    decision = decide({"tool_name": "Bash", "tool_input": {"command": command}}, policy, project_dir)
    print(f"decision: {decision.decision}")
    if decision.rule:
        print(f"rule: {decision.rule}")
    print(f"reason: {decision.reason}")
    for step in decision.trace:
        print(f"  - {step}")
    return 0


def main(argv: list[str]) -> None:
    if len(argv) > 2 and argv[1] == "explain":
        sys.exit(explain(" ".join(argv[2:])))
    run_hook()


if __name__ == "__main__":
    main(sys.argv)
