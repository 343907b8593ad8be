"""Side by side: our guard and cc-safety-net on the same labelled corpora.

    .venv/bin/python benchmarks/guard_vs_peer.py

Corpora: ours (tests/corpus/guard-corpus.jsonl, every tool), the technique corpus written from issue 13's
technique classes (tests/corpus/guard-techniques.jsonl, every tool, broken down per technique and per family)
and the peers' in-scope lines (../shared/peer-corpora/*.jsonl, Bash only). Both guards are called in process, once per call, so the per-call
times compare analysis cost, not process start-up: ours through guard.decide(), cc-safety-net through its
`checkCommand` API in one node process (benchmarks/cc_safety_net_runner.mjs). cc-safety-net only analyses shell
commands, so a non-Bash call counts as allowed by it; the Bash-only figures are printed as well.

"Detected" = a dangerous call denied or sent to a human (ask); "benign blocked" = a benign call not allowed;
"let through" = a dangerous call allowed (the breakdown's figure: the issue's bound is none).
A figure, not a test.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "template" / ".claude" / "foundation" / "hooks"))
import guard  # noqa: E402

from tests.corpora import OUR_CORPUS, PEER_CORPORA as PEERS, TECHNIQUE_CORPUS, load, substitute  # noqa: E402
from tests.rendering import render_team  # noqa: E402



def run_ours(rows: list[dict], policy: dict, project: str | None) -> tuple[list[str], list[int]]:
    decisions, times = [], []
    guard.decide({"tool_name": "Bash", "tool_input": {"command": "true"}}, policy, project)  # import unwrap once
    for row in rows:
        event = {"tool_name": row["tool_name"], "tool_input": substitute(row["tool_input"], project or "/"), "cwd": project}
        start = time.perf_counter_ns()
        decision = guard.decide(event, policy, project).decision
        times.append(time.perf_counter_ns() - start)
        decisions.append(decision)
    return decisions, times


def run_peer(rows: list[dict], cwd: str) -> tuple[list[str], list[int]]:
    lines, index = [], []
    for i, row in enumerate(rows):
        if row["tool_name"] == "Bash":
            lines.append(json.dumps({"id": i, "command": substitute(row["tool_input"]["command"], cwd), "cwd": cwd}))
            index.append(i)
    result = subprocess.run(["node", str(ROOT / "benchmarks" / "cc_safety_net_runner.mjs")], input="\n".join(lines) + "\n",
                            capture_output=True, text=True, cwd=ROOT, timeout=300, check=True)
    decisions = ["allow (not analysed)"] * len(rows)
    times = []
    for line in result.stdout.splitlines():
        answer = json.loads(line)
        decisions[answer["id"]] = "deny" if answer["decision"] == "deny" else "allow"
        times.append(answer["ns"])
    return decisions, times


def figures(rows: list[dict], decisions: list[str], bash_only: bool = False) -> dict:
    dangerous = benign = caught = blocked = 0
    for row, decision in zip(rows, decisions):
        if bash_only and row["tool_name"] != "Bash":
            continue
        bad = row["expected"] in ("deny", "ask", "block")
        stopped = decision in ("deny", "ask")
        if bad:
            dangerous += 1
            caught += stopped
        else:
            benign += 1
            blocked += stopped
    return {"dangerous": dangerous, "caught": caught, "benign": benign, "blocked": blocked}


def breakdown(rows: list[dict], ours: list[str], peer: list[str], key: str) -> list[str]:
    """One line per value of `key` (technique, family): dangerous calls let through and benign calls blocked,
    ours beside cc-safety-net's."""
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(row[key], []).append(i)
    width = max(len(name) for name in groups)
    lines = [f"  per {key}:".ljust(width + 4) + "  dangerous  let through (ours / cc-safety-net)   benign  blocked (ours / cc-safety-net)"]
    for name in sorted(groups):
        ours_f = figures([rows[i] for i in groups[name]], [ours[i] for i in groups[name]])
        peer_f = figures([rows[i] for i in groups[name]], [peer[i] for i in groups[name]])
        lines.append(f"    {name:{width}}  {ours_f['dangerous']:9}  {ours_f['dangerous'] - ours_f['caught']:11} / "
                     f"{peer_f['dangerous'] - peer_f['caught']:<13}       {ours_f['benign']:6}  {ours_f['blocked']:7} / {peer_f['blocked']}")
    return lines


def line(name: str, f: dict, times: list[int]) -> str:
    median = statistics.median(times) / 1000 if times else float("nan")
    p95 = sorted(times)[int(len(times) * 0.95)] / 1000 if times else float("nan")
    return (f"  {name:15} detected {f['caught']:4}/{f['dangerous']:<4} ({f['caught'] / max(f['dangerous'], 1):6.1%})   "
            f"benign blocked {f['blocked']:3}/{f['benign']:<4} ({f['blocked'] / max(f['benign'], 1):5.1%})   "
            f"per call: median {median:7.1f} us, p95 {p95:7.1f} us")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        repo = str(render_team(Path(tmp) / "team"))
        policy = guard.load_policy(repo)
        corpora = [("ours (all tools)", load(OUR_CORPUS, False), repo),
                   ("techniques (all tools)", load(TECHNIQUE_CORPUS, False), repo)]
        for name in ("dcg-corpus.jsonl", "safety-net-corpus.jsonl"):
            # The peers' suites run without a working directory; our guard is scored the same way (project None).
            corpora.append((name + " (in scope)", load(PEERS / name, True), None))
        totals = {"ours": [], "peer": []}
        print("guard vs cc-safety-net 2.4.5 (detected = dangerous denied or asked; blocked = benign not allowed)")
        for title, rows, project in corpora:
            ours, our_times = run_ours(rows, policy, project)
            peer, peer_times = run_peer(rows, repo)
            print(f"{title}: {len(rows)} calls")
            print(line("agent-foundation", figures(rows, ours), our_times))
            print(line("cc-safety-net", figures(rows, peer), peer_times))
            if any(r["tool_name"] != "Bash" for r in rows):
                print("  Bash calls only:")
                bash_times = [t for r, t in zip(rows, our_times) if r["tool_name"] == "Bash"]
                print(line("agent-foundation", figures(rows, ours, True), bash_times))
                print(line("cc-safety-net", figures(rows, peer, True), peer_times))
            if all("technique" in r for r in rows):
                for key in ("technique", "family"):
                    print("\n".join(breakdown(rows, ours, peer, key)))
            totals["ours"].append((figures(rows, ours), our_times))
            totals["peer"].append((figures(rows, peer), peer_times))
        print("all corpora together:")
        for name, key in (("agent-foundation", "ours"), ("cc-safety-net", "peer")):
            merged = {k: sum(f[k] for f, _ in totals[key]) for k in ("dangerous", "caught", "benign", "blocked")}
            print(line(name, merged, [t for _, ts in totals[key] for t in ts]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
