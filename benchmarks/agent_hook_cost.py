"""What each other agent's guard hook costs per call, against `python3 -c pass` (a sibling of guard_cost.py).

    .venv/bin/python benchmarks/agent_hook_cost.py [--runs 200] [--python /usr/bin/python3]

Renders a team repository wired for Claude Code, Codex, Copilot and Cursor, then starts each agent's rendered
pre-tool hook command exactly as that agent does (through /bin/sh -c, from the repository root, with the agent's
own event JSON on stdin and, for Copilot, the environment it sets), paired with the baseline, and prints medians,
p90 and the ratio of medians. Claude Code's guard is measured beside them, the same way. A figure, not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from guard_cost import TARGET, p90, paired  # noqa: E402

AGENTS = ["claude-code", "codex", "copilot", "cursor"]


def hook_commands(repo: Path) -> dict[str, str]:
    claude = json.loads((repo / ".claude/settings.json").read_text())["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    codex = json.loads((repo / ".codex/hooks.json").read_text())["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    copilot = json.loads((repo / ".github/hooks/agent-foundation.json").read_text())["hooks"]["preToolUse"][0]["bash"]
    cursor = json.loads((repo / ".cursor/hooks.json").read_text())["hooks"]["beforeShellExecution"][0]["command"]
    return {"claude-code": claude, "codex": codex, "copilot": copilot, "cursor": cursor}


def events(repo: Path, command: str) -> dict[str, bytes]:
    claude = {"session_id": "bench", "cwd": str(repo), "hook_event_name": "PreToolUse", "tool_name": "Bash",
              "tool_input": {"command": command}, "tool_use_id": "bench"}
    native = {
        "claude-code": claude,
        "codex": {**claude, "turn_id": "t", "model": "m", "permission_mode": "default"},
        "copilot": {"sessionId": "bench", "timestamp": 0, "cwd": str(repo), "toolName": "bash", "toolArgs": {"command": command}},
        "cursor": {"conversation_id": "bench", "hook_event_name": "beforeShellExecution", "command": command, "cwd": str(repo),
                   "workspace_roots": [str(repo)]},
    }
    return {name: json.dumps(event).encode() for name, event in native.items()}


def environments(repo: Path, home: str) -> dict[str, dict[str, str]]:
    base = {"PATH": "/usr/bin:/bin", "HOME": home}
    return {
        "claude-code": {**base, "CLAUDE_PROJECT_DIR": str(repo)},
        "codex": base,  # Codex sets no project variable: the hook finds the root itself
        "copilot": {**base, "COPILOT_CLI": "1", "CLAUDE_PROJECT_DIR": str(repo), "COPILOT_PROJECT_DIR": str(repo)},
        "cursor": {**base, "CURSOR_PROJECT_DIR": str(repo)},
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--python", default="/usr/bin/python3")
    args = parser.parse_args()
    from tests.rendering import render_team

    with tempfile.TemporaryDirectory() as tmp:
        repo = render_team(Path(tmp) / "team", {"agents": AGENTS})
        commands = {name: c.replace("python3 ", args.python + " ", 1) for name, c in hook_commands(repo).items()}
        baseline = f"{args.python} -c pass || {{ echo failed >&2; exit 2; }}"
        envs = environments(repo, tmp)
        print(f"each agent's guard hook per call vs `{args.python} -c pass`, through /bin/sh -c from the repository root; "
              f"{args.runs} paired runs each (a typical Bash call: git status --short)")
        for name in AGENTS:
            stdin = events(repo, "git status --short")[name]
            hook_times, base_times = paired([(f"cd {repo} && {commands[name]}", stdin), (f"cd {repo} && {baseline}", b"")],
                                            envs[name], args.runs)
            h, b = statistics.median(hook_times), statistics.median(base_times)
            h90 = p90(hook_times)
            print(f"  {name:12} hook median {h * 1000:6.2f} ms (p90 {h90 * 1000:6.2f})   baseline median {b * 1000:6.2f} ms   "
                  f"ratio {h / b:4.2f}x (target <= {TARGET}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
