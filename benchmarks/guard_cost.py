"""What the guard hook costs per call, against the cheapest possible hook (`python3 -c pass`).

    .venv/bin/python benchmarks/guard_cost.py [--runs 200] [--python /usr/bin/python3]

Renders a team repository with the canonical answers, then starts both commands exactly the way the client starts
the PreToolUse hook wired in settings.json: the rendered hook command (the `|| { ...; exit 2; }` wrapper included)
through /bin/sh -c, with CLAUDE_PROJECT_DIR set and the event JSON on stdin; `python3` is replaced by --python in
both (a version-manager shim on PATH adds most of a second to each side). Guard and baseline run alternately in
the same loop (paired) after a warm-up; the script prints medians, the 90th percentile and the ratio of medians for
a typical Bash call, a compound obfuscated Bash call, and a Read call. The guard writes its audit record in the
same process, so the figures include the audit log append. The floor is the interpreter started with the hook's
own flags (`python3 -S -c pass`, also paired): what no Python hook started that way can go below, so the guard's
own work is the distance from it. A figure, not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET = 1.2


def events(repo: Path) -> dict[str, bytes]:
    base = {"session_id": "bench", "transcript_path": str(repo / "t.jsonl"), "cwd": str(repo), "hook_event_name": "PreToolUse",
            "permission_mode": "default", "tool_use_id": "toolu_bench"}
    calls = {
        "Bash, typical (git status)": {"tool_name": "Bash", "tool_input": {"command": "git status --short", "description": "x"}},
        "Bash, obfuscated compound": {"tool_name": "Bash", "tool_input": {"command": "X=/; cd src && bash -c \"echo ok; rm -rf $X\" | tee log", "description": "x"}},
        "Read": {"tool_name": "Read", "tool_input": {"file_path": str(repo / "README.md")}},
    }
    return {name: json.dumps({**base, **call}).encode() for name, call in calls.items()}


def timed(command: str, stdin: bytes, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(["/bin/sh", "-c", command], input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          env=env, timeout=30)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0,):
        raise SystemExit(f"hook failed ({proc.returncode}): {proc.stderr.decode()[:300]}")
    return elapsed


def paired(commands: list[tuple[str, bytes]], env: dict[str, str], runs: int, warmup: int = 10) -> list[list[float]]:
    """Each command's times, the commands started alternately in one loop (paired, so load hits them alike) after a
    warm-up (file cache, the first bytecode compile)."""
    for _ in range(warmup):
        for command, stdin in commands:
            timed(command, stdin, env)
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for column, (command, stdin) in zip(times, commands):
            column.append(timed(command, stdin, env))
    return times


def p90(times: list[float]) -> float:
    return sorted(times)[int(len(times) * 0.9)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--python", default="/usr/bin/python3")
    args = parser.parse_args()
    from tests.rendering import render_team

    with tempfile.TemporaryDirectory() as tmp:
        repo = render_team(Path(tmp) / "team")
        settings = json.loads((repo / ".claude" / "settings.json").read_text())
        hook = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
        guard_command = hook.replace("python3 ", args.python + " ", 1)
        baseline = f"{args.python} -c pass || {{ echo failed >&2; exit 2; }}"
        flags = hook.split('"', 1)[0].split()[1:]  # the interpreter flags the rendered hook starts python3 with
        floor = f"{args.python} {' '.join(flags + ['-c', 'pass'])} || {{ echo failed >&2; exit 2; }}"
        env = {"CLAUDE_PROJECT_DIR": str(repo), "PATH": "/usr/bin:/bin", "HOME": tmp}
        print(f"guard hook cost per call vs `{args.python} -c pass`, both through /bin/sh -c as settings.json wires them; "
              f"{args.runs} paired runs each; floor: `{args.python} {' '.join(flags + ['-c', 'pass'])}` (interpreter start "
              f"with the hook's flags)")
        ratios = []
        for name, stdin in events(repo).items():
            guard_times, base_times, floor_times = paired([(guard_command, stdin), (baseline, b""), (floor, b"")], env, args.runs)
            g, b, f = (statistics.median(times) for times in (guard_times, base_times, floor_times))
            g90, b90 = p90(guard_times), p90(base_times)
            ratios.append(g / b)
            print(f"  {name:30} guard median {g * 1000:6.2f} ms (p90 {g90 * 1000:6.2f})   "
                  f"baseline median {b * 1000:6.2f} ms (p90 {b90 * 1000:6.2f})   ratio {g / b:4.2f}x (target <= {TARGET}x)   "
                  f"floor median {f * 1000:6.2f} ms, guard/floor {g / f:4.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
