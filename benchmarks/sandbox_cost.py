"""What the OS sandbox costs per shell command, in the real Claude Code client (offline, loopback mock).

    .venv/bin/python benchmarks/sandbox_cost.py [--calls 20] [--rounds 5]

Renders a team repository with the canonical answers, then runs the client on a script of --calls allowed
shell commands (`git status`), once as rendered (every command under bubblewrap, through the network proxy)
and once with `sandbox.enabled` switched off in a copy of the repository, alternating for --rounds paired
rounds. Everything else is the same in both: the guard and audit hooks, the mock, the client. Prints the
median wall time of a whole session each way, and the sandbox's added time per command: (sandboxed -
unsandboxed) / calls. The session's start-up (the sandbox proxy starts once per session) is included once.
Needs bubblewrap and socat (bash .ci/run installs them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.claude_client.fixtures import NO_MCP_SERVERS, real_python_first  # noqa: E402
from tests.claude_client.mock_messages_api import MockMessagesAPI, ToolCall  # noqa: E402
from tests.claude_client.runner import run_claude  # noqa: E402
from tests.rendering import render_team  # noqa: E402


def unsandboxed_copy(repo: Path, dst: Path) -> Path:
    copy = Path(shutil.copytree(repo, dst, symlinks=True))
    settings_file = copy / ".claude" / "settings.json"
    settings = json.loads(settings_file.read_text())
    settings["sandbox"]["enabled"] = False
    settings_file.write_text(json.dumps(settings, indent=2))
    return copy


def session_seconds(repo: Path, calls: int, mock: MockMessagesAPI, scratch: Path) -> float:
    home = Path(tempfile.mkdtemp(dir=scratch, prefix="home-"))
    script = [ToolCall("Bash", {"command": "git status --short", "description": "benchmark"})] * calls
    started = time.perf_counter()
    run = run_claude(repo, script, mock=mock, trusted=True, home=home, args=NO_MCP_SERVERS,
                     env={"PATH": real_python_first(home)})
    elapsed = time.perf_counter() - started
    failed = [r for r in run.tool_results if r.is_error]
    if run.returncode != 0 or len(run.tool_results) != calls or failed:
        raise SystemExit(f"the client did not run every command: {run.describe()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    missing = [tool for tool in ("bwrap", "socat") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"{' and '.join(missing)} missing: install bubblewrap and socat (bash .ci/run does)")
    with tempfile.TemporaryDirectory(prefix="sandbox-cost-") as tmp:
        scratch = Path(tmp)
        sandboxed = render_team(scratch / "sandboxed")
        plain = unsandboxed_copy(sandboxed, scratch / "unsandboxed")
        times: dict[str, list[float]] = {"sandboxed": [], "unsandboxed": []}
        with MockMessagesAPI() as mock:
            session_seconds(sandboxed, 1, mock, scratch)  # warm-up: caches, first bubblewrap start
            for _ in range(args.rounds):
                times["sandboxed"].append(session_seconds(sandboxed, args.calls, mock, scratch))
                times["unsandboxed"].append(session_seconds(plain, args.calls, mock, scratch))
    with_sandbox, without = statistics.median(times["sandboxed"]), statistics.median(times["unsandboxed"])
    print(f"{args.calls} shell commands per session, {args.rounds} paired rounds, load average {os.getloadavg()[0]:.1f}")
    print(f"  session with the sandbox:    median {with_sandbox:6.2f} s")
    print(f"  session without the sandbox: median {without:6.2f} s")
    print(f"  added by the sandbox:        {1000 * (with_sandbox - without) / args.calls:6.0f} ms per command "
          f"(ratio of sessions {with_sandbox / without:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
