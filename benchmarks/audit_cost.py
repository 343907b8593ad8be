"""What the audit hook costs per call, against the cheapest possible hook (`python3 -c pass`).

    .venv/bin/python benchmarks/audit_cost.py [--runs 300] [--python /usr/bin/python3] [--check]

Renders a team repository with the canonical answers, then starts both commands exactly the way the client
starts the hook wired in settings.json: through /bin/sh -c, with CLAUDE_PROJECT_DIR set and the event JSON on
stdin. The hook command is the one in the rendered settings.json, with `python3` replaced by --python (the
`python3` on PATH may be a version-manager shim that adds tens of milliseconds to both sides). The two are run
alternately in the same loop (paired), after a warm-up, and the script prints medians, the 90th percentile and
the ratio of medians for three kinds of events:
  - a typical PostToolUse (a test run with a few KB of output), the headline figure (target: at most 1.2x);
  - a PostToolUse whose input looks like it holds a secret (the redaction patterns are imported and compiled);
  - SessionStart.
The first call after a release compiles audit_core.py into the bytecode cache (.claude/audit/pycache); that
one-off cost is printed separately. --check exits 1 when the headline ratio is above the target.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.2


def render(dst: Path) -> Path:
    import yaml
    from copier import run_copy

    answers = yaml.safe_load((ROOT / "tests" / "canonical-answers.yml").read_text(encoding="utf-8"))
    run_copy(str(ROOT), str(dst), data=answers, defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True)
    return dst


def events(repo: Path) -> dict[str, bytes]:
    base = {"session_id": "0b6f6a52-bench", "transcript_path": str(repo / "t.jsonl"), "cwd": str(repo),
            "permission_mode": "default"}
    output = "".join(f"tests/test_module_{i}.py ........................ [{i}%]\n" for i in range(60)) + "60 passed in 3.2s\n"
    typical = {**base, "hook_event_name": "PostToolUse", "tool_name": "Bash", "tool_use_id": "toolu_01",
               "tool_input": {"command": "python -m pytest -q tests/", "description": "Run the test suite"},
               "tool_response": {"stdout": output, "stderr": "", "interrupted": False, "isImage": False}, "duration_ms": 3210}
    secret = {**typical, "tool_input": {"command": "curl -s -H 'Authorization: Bearer abc123def456ghi789' https://api.example.com/v1/items",
                                        "description": "List items"}}
    start = {**base, "hook_event_name": "SessionStart", "source": "startup"}
    return {name: json.dumps(event).encode() for name, event in
            (("PostToolUse, typical", typical), ("PostToolUse, secret-looking input", secret), ("SessionStart", start))}


def timed(command: str, stdin: bytes, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(["/bin/sh", "-c", command], input=stdin, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, env=env, timeout=30)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{command!r} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return elapsed


def p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * (len(values) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--python", default="/usr/bin/python3")
    parser.add_argument("--check", action="store_true", help=f"exit 1 if the typical ratio is above {TARGET}x")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="audit-cost-"))
    try:
        repo = render(workdir / "team")
        settings = json.loads((repo / ".claude" / "settings.json").read_text())
        wired = settings["hooks"]["PostToolUse"][0]["hooks"][0]["command"]
        assert wired.startswith("python3 "), wired
        hook = args.python + wired[len("python3"):]
        baseline = f"{args.python} -c pass"
        env = {**os.environ, "CLAUDE_PROJECT_DIR": str(repo)}
        version = subprocess.run([args.python, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
        print(f"audit hook cost per call, {version}, {args.runs} paired runs after {args.warmup} warm-up runs")
        print(f"  hook:     /bin/sh -c {hook!r}")
        print(f"  baseline: /bin/sh -c {baseline!r}\n")

        cache = repo / ".claude" / "audit" / "pycache"
        shutil.rmtree(cache, ignore_errors=True)
        stdin = events(repo)["PostToolUse, typical"]
        cold = timed(hook, stdin, env)
        warm = statistics.median(timed(hook, stdin, env) for _ in range(5))
        print(f"first call after an install or update (compiles the bytecode cache): {cold * 1000:.1f} ms "
              f"(then {warm * 1000:.1f} ms)\n")

        headline = None
        print(f"{'event':36} {'baseline ms':>12} {'hook ms':>9} {'hook p90':>9} {'ratio':>7} {'paired':>7}")
        for name, stdin in events(repo).items():
            for _ in range(args.warmup):
                timed(baseline, stdin, env), timed(hook, stdin, env)
            base_times, hook_times = [], []
            for _ in range(args.runs):
                base_times.append(timed(baseline, stdin, env))
                hook_times.append(timed(hook, stdin, env))
            base_median, hook_median = statistics.median(base_times), statistics.median(hook_times)
            ratio = hook_median / base_median
            paired = statistics.median(h / b for h, b in zip(hook_times, base_times))
            headline = ratio if headline is None else headline
            print(f"{name:36} {base_median * 1000:12.2f} {hook_median * 1000:9.2f} {p90(hook_times) * 1000:9.2f} "
                  f"{ratio:6.2f}x {paired:6.2f}x")

        log = repo / ".claude" / "audit" / "audit.jsonl"
        verify = subprocess.run([args.python, str(repo / ".claude/foundation/hooks/audit.py"), "verify"],
                                capture_output=True, text=True, timeout=300)
        print(f"\nlog after the run: {verify.stdout.strip() or verify.stderr.strip()} ({log.stat().st_size // 1024} KiB)")
        verdict = "within" if headline <= TARGET else "ABOVE"
        print(f"typical PostToolUse: {headline:.2f}x the cost of `python3 -c pass` ({verdict} the {TARGET}x target)")
        return 1 if args.check and (headline > TARGET or verify.returncode != 0) else 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
