"""Time `agent-foundation fleet` on a synthetic fleet of 1,000 to 10,000 team repositories (local folders).

    .venv/bin/python benchmarks/fleet_bench.py [--sizes 1000,10000] [--jobs 2] [--repeat N] [--keep DIR]

The fleet is rendered once with Copier, then varied by copying and editing files the way real fleets drift:
old versions, edited settings (Bash(*), bypass mode, removed or edited hooks, a merge conflict), unvetted MCP
servers, modified and stale registry skills, team-local skills (some copied across teams with small edits,
the rest unrelated), a few folders that are not foundation repositories or have a corrupt manifest, and audit
logs. Each run is a fresh process (`--measure`), so its figures are its own: wall time, CPU time (its own and
its scanning processes'), peak memory (the larger of the main process and any one worker), and the per-repository
cost from size to size (1.00 = linear), in all and for user and system CPU apart. After the full run of each
size, two incremental runs (--incremental): one with nothing changed, one with 1% of the repositories changed
(half of them a settings edit, half a team skill edited), which is what a daily re-run costs.

The floor the scan cannot go below is reading the fleet's files: before each full run, every file of every
repository is read once by `--jobs` processes, and that time is printed beside the run's. This read also warms
the page cache as far as it holds the fleet, so each size's run starts alike (the 10,000-repository fleet is
about 5 GB: where the page cache, shared with everything else on the machine, cannot hold it, the run reads
from disk, and its wall and system time per repository rise with the fleet while its user time does not).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from agent_foundation.fleet import incremental_state  # noqa: E402

VERSIONS = [("v1.4.0", 0.55), ("v1.3.0", 0.25), ("v1.2.0", 0.12), ("v1.0.0", 0.08)]
SHARED_SKILLS = 40  # skills that several teams each wrote their own copy of


def render_base(dst: Path) -> dict[str, bytes]:
    """Render one team repository with Copier and return its files (path -> bytes), without .git."""
    from copier import run_copy

    answers = {
        "team_name": "Base Team", "team_slug": "base-team", "owner": "base@example.com", "permission_profile": "standard",
        "stacks": ["python"], "skills": ["code-review", "security-review", "writing-tests"],
        "mcp_servers": ["sequential-thinking", "memory"], "extra_allow": [], "extra_ask": [],
        "audit_log": ".claude/audit/audit.jsonl",
    }
    shutil.rmtree(dst, ignore_errors=True)
    run_copy(str(ROOT), str(dst), data=answers, defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True)
    return {p.relative_to(dst).as_posix(): p.read_bytes() for p in sorted(dst.rglob("*")) if p.is_file() and ".git" not in p.parts}


def _vocabulary() -> list[str]:
    words: set[str] = set()
    for skill in (ROOT / "foundation" / "skills").glob("*/SKILL.md"):
        words.update(re.findall(r"[a-z]{3,}", skill.read_text(encoding="utf-8").lower()))
    return sorted(words)


def _skill_text(name: str, rng: random.Random, words: list[str], length: int = 320) -> str:
    body = " ".join(rng.choice(words) for _ in range(length))
    lines = [body[i:i + 100] for i in range(0, len(body), 100)]
    return f"---\nname: {name}\ndescription: {rng.choice(words)} {rng.choice(words)} helper\n---\n\n# {name}\n\n" + "\n".join(lines) + "\n"


def _vary(text: str, rng: random.Random, words: list[str], edits: int) -> str:
    tokens = text.split(" ")
    for _ in range(edits):
        tokens[rng.randrange(10, len(tokens))] = rng.choice(words)
    return " ".join(tokens)


def generate(dst: Path, count: int, base: dict[str, bytes], seed: int = 7) -> dict[str, int]:
    """Write `count` repositories under dst; returns how many of each planted variation."""
    rng = random.Random(seed)
    words = _vocabulary()
    shared = [_skill_text(f"shared-skill-{k}", rng, words) for k in range(SHARED_SKILLS)]
    planted: dict[str, int] = {}

    def plant(what: str) -> None:
        planted[what] = planted.get(what, 0) + 1

    for i in range(count):
        repo = dst / f"team-{i:05d}"
        slug = f"team-{i:05d}"
        roll = rng.random()
        if roll < 0.004:
            repo.mkdir(parents=True)
            (repo / "README.md").write_text("not a foundation repository\n")
            plant("not-a-repo")
            continue
        files = dict(base)
        version = rng.choices([v for v, _ in VERSIONS], [w for _, w in VERSIONS])[0]
        answers = files[".copier-answers.yml"].decode()
        answers = re.sub(r"(?m)^_commit: .*$", f"_commit: {version}", answers).replace("base-team", slug).replace("Base Team", f"Team {i}")
        files[".copier-answers.yml"] = answers.encode()
        manifest = json.loads(files[".claude/foundation/manifest.json"])
        manifest["template_version"] = version.removeprefix("v")  # as a real render records it: the tag is v1.4.0, the manifest 1.4.0
        manifest["team"]["slug"] = slug
        settings = json.loads(files[".claude/settings.json"])
        mcp = json.loads(files[".mcp.json"])
        if rng.random() < 0.03:
            settings["permissions"]["allow"].append("Bash(*)")
            plant("broad-allow")
        if rng.random() < 0.02:
            settings["permissions"]["defaultMode"] = "bypassPermissions"
            plant("bypass-possible")
        if rng.random() < 0.02:
            del settings["hooks"]["PreToolUse"]
            plant("hooks-removed")
        elif rng.random() < 0.02:
            settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"] += " || true"
            plant("hooks-edited")
        if rng.random() < 0.05:
            mcp["mcpServers"][f"team-tool-{rng.randrange(8)}"] = {"command": "npx", "args": ["-y", f"team-mcp-{rng.randrange(8)}@1.0.0"]}
            plant("unvetted-mcp")
        if rng.random() < 0.02:
            settings["permissions"]["allow"].append("mcp__memory__create_entities")
            plant("mcp-write-unapproved")
        if rng.random() < 0.05:
            files[".claude/skills/code-review/SKILL.md"] = base[".claude/skills/code-review/SKILL.md"] + b"\nOur team also checks the changelog.\n"
            plant("modified-skill")
        if rng.random() < 0.1:
            manifest["skills"][2]["version"] = "0.9.0"
            plant("stale-skill")
        files[".claude/settings.json"] = (json.dumps(settings, indent=2) + "\n").encode()
        if rng.random() < 0.01:
            files[".claude/settings.json"] = b"<<<<<<< HEAD\n" + files[".claude/settings.json"] + b"=======\n{}\n>>>>>>> theirs\n"
            plant("settings-unparsable")
        files[".mcp.json"] = (json.dumps(mcp, indent=2) + "\n").encode()
        files[".claude/foundation/manifest.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
        if rng.random() < 0.004:
            files[".claude/foundation/manifest.json"] = b'{"schema": 1, "files": {'
            plant("corrupt-manifest")
        local = rng.random()
        if local < 0.35:
            for k in range(rng.choice((1, 1, 2, 3))):
                if rng.random() < 0.5:
                    index = rng.randrange(SHARED_SKILLS)
                    text = _vary(shared[index], rng, words, rng.randrange(0, 6))
                    name = f"shared-skill-{index}" if rng.random() < 0.7 else f"our-skill-{index}-{k}"
                    plant("shared-local-skill")
                else:
                    name = f"local-{i}-{k}"
                    text = _skill_text(name, rng, words)
                    plant("unique-local-skill")
                files[f".claude/skills/{name}/SKILL.md"] = text.encode()
        if rng.random() < 0.1:
            lines = []
            for n in range(rng.randrange(5, 40)):
                decision, rule = rng.choice([("deny", "pipe-to-shell"), ("deny", "git-force-push"), ("deny", "secrets-read"),
                                             ("ask", "publish-package"), ("ask", "infrastructure-change"), ("allow", None)])
                reason = f"Blocked by the organisation's policy (rule {rule}): x" if rule else "no rule matched"
                lines.append(json.dumps({"ts": "2026-01-01T00:00:00Z", "event": "PreToolUse", "team": slug, "tool": "Bash",
                                         "decision": decision, "reason": reason}))
            files[".claude/audit/audit.jsonl"] = ("\n".join(lines) + "\n").encode()
            plant("audit-log")
        for path, content in files.items():
            target = repo / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    return planted


def measure(fleet: Path, jobs: int, cache: Path, incremental: Path | None) -> dict:
    """One report over `fleet` in this process: its wall and CPU time and peak memory, with its workers'."""
    import resource

    from agent_foundation.fleet.command import build_report

    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    report = build_report(ROOT, [str(fleet)], latest="v1.4.0", jobs=jobs, cache=cache, incremental=incremental)
    wall = time.perf_counter() - started
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    user = own.ru_utime - before.ru_utime + children.ru_utime
    system = own.ru_stime - before.ru_stime + children.ru_stime
    org = report["org"]
    return {"wall": wall, "cpu": user + system, "user": user, "system": system,
            "peak_mb": max(own.ru_maxrss, children.ru_maxrss) / 1024,
            "repos": org["repos"], "errors": org["errors"], "flagged": org["flagged_repos"], "high_blast": org["high_blast_repos"],
            "candidates": len(org["promotion_candidates"]), "registry_share": org["skill_adoption"]["registry_share"],
            "scan": report["scan"]}


def read_floor(fleet: Path, jobs: int) -> dict:
    """Reading every file of the fleet once, in `jobs` processes: the I/O the scan cannot avoid (it hashes every
    foundation file against the manifest)."""
    repos = sorted(p for p in fleet.iterdir() if p.is_dir())
    started = time.perf_counter()
    before = os.times()
    children = []
    for part in range(jobs):
        pid = os.fork()
        if pid == 0:  # a reader: nothing but open, read, close
            try:
                for repo in repos[part::jobs]:
                    for folder, _, names in os.walk(repo):
                        for name in names:
                            with open(os.path.join(folder, name), "rb") as handle:
                                while handle.read(1 << 20):
                                    pass
            finally:
                os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    after = os.times()
    return {"wall": time.perf_counter() - started, "cpu": (after.children_user - before.children_user) + (after.children_system - before.children_system)}


CHANGED_SETTING = "Bash(make deploy:*)"
CHANGED_SKILL_LINE = "\nAlso: agree the rollback plan with the on-call engineer before you start.\n"


def change_some(fleet: Path, share: float = 0.01, seed: int = 3) -> tuple[int, dict[Path, bytes | None]]:
    """Edit `share` of the repositories as a day of work would: half a settings edit, half a team skill edited
    (or written). Returns how many, and what to put back."""
    rng = random.Random(seed)
    repos = sorted(p for p in fleet.iterdir() if (p / ".claude" / "settings.json").is_file())
    chosen = rng.sample(repos, max(1, round(len(repos) * share)))
    saved: dict[Path, bytes | None] = {}
    for number, repo in enumerate(chosen):
        if number % 2 == 0:
            target = repo / ".claude" / "settings.json"
            saved[target] = target.read_bytes()
            try:
                settings = json.loads(saved[target])
                settings["permissions"]["allow"].append(CHANGED_SETTING)
                target.write_text(json.dumps(settings, indent=2) + "\n")
            except (ValueError, KeyError):
                target.write_bytes(saved[target] + b"\n")
        else:
            locals_ = sorted(p for p in (repo / ".claude" / "skills").glob("*/SKILL.md") if not p.parent.name.startswith(("code-review", "security-review", "writing-tests")))
            target = locals_[0] if locals_ else repo / ".claude" / "skills" / "day-of-work" / "SKILL.md"
            saved[target] = target.read_bytes() if target.exists() else None
            target.parent.mkdir(parents=True, exist_ok=True)
            text = saved[target].decode() if saved[target] else "---\nname: day-of-work\ndescription: release day checklist\n---\n\n# Day of work\n"
            target.write_text(text + CHANGED_SKILL_LINE)
    return len(chosen), saved


def put_back(saved: dict[Path, bytes | None]) -> None:
    for path, content in saved.items():
        if content is None:
            path.unlink()
            if not any(path.parent.iterdir()):
                path.parent.rmdir()
        else:
            path.write_bytes(content)


def _measure_in_child(fleet: Path, jobs: int, cache: Path, incremental: Path | None) -> dict:
    command = [sys.executable, __file__, "--measure", str(fleet), "--jobs", str(jobs), "--cache", str(cache)]
    if incremental:
        command += ["--incremental", str(incremental)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _similarity(run: dict) -> str:
    stats = run["scan"].get("similarity") or {}
    if stats.get("result_reused"):
        return "reused whole"
    return f"recomputed ({stats.get('texts_computed', '?')} skill texts analysed, {stats.get('texts_reused', '?')} from the cache)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--jobs", type=int, default=2, help="scanning processes (default 2: the CI machine's cores)")
    parser.add_argument("--keep", type=Path, help="write the fleets here and keep them")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="full runs per size, the best taken (wall and CPU each at their least; default 1)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--incremental", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.jobs, args.cache, args.incremental)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]

    work = args.keep or Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    try:
        base = render_base(work / "_base")
        print(f"python {sys.version.split()[0]} ({sys.executable}), {os.cpu_count()} CPUs, jobs={args.jobs}; "
              f"base repository rendered with Copier ({len(base)} files)")
        results = []
        for size in sizes:
            fleet = work / f"fleet-{size}"
            if not fleet.exists():
                started = time.perf_counter()
                planted = generate(fleet, size, base)
                print(f"  generated {size} repos in {time.perf_counter() - started:.1f} s: "
                      + ", ".join(f"{k} {v}" for k, v in sorted(planted.items())))
            state = work / f"state-{size}.json"
            runs = []
            for _ in range(args.repeat):  # the best of several: other work on a shared machine only ever adds time
                state.unlink(missing_ok=True)
                incremental_state.similarity_path(state).unlink(missing_ok=True)
                floor = read_floor(fleet, args.jobs)  # also warms the page cache as far as it holds the fleet, for every size alike
                runs.append((_measure_in_child(fleet, args.jobs, work / "_cache", state), floor))
            full = min((run for run, _ in runs), key=lambda run: run["wall"])
            floor = min((floor for _, floor in runs), key=lambda floor: floor["wall"])
            if args.repeat > 1:
                full["cpu"], full["user"], full["system"] = min((r["user"] + r["system"], r["user"], r["system"]) for r, _ in runs)
            again = _measure_in_child(fleet, args.jobs, work / "_cache", state)
            changed, saved = change_some(fleet)
            try:
                daily = _measure_in_child(fleet, args.jobs, work / "_cache", state)
            finally:
                put_back(saved)
            full["floor"] = floor
            results.append((size, full))
            print(f"{size:>6} repos{f' (best of {args.repeat} runs)' if args.repeat > 1 else ''}: wall {full['wall']:7.2f} s, CPU {full['cpu']:7.2f} s ({full['cpu'] / size * 1000:.2f} ms per repo; "
                  f"user {full['user']:.2f} s, system {full['system']:.2f} s), peak memory {full['peak_mb']:.0f} MB; "
                  f"{full['errors']} unreadable, {full['flagged']} flagged, "
                  f"{full['high_blast']} high blast, {full['candidates']} promotion candidates, teams on registry skills "
                  f"{full['registry_share']}; load average {os.getloadavg()[0]:.1f}")
            print(f"{size:>6} repos, floor: reading every file once with {args.jobs} processes, before the run, takes {floor['wall']:.2f} s wall, "
                  f"{floor['cpu']:.2f} s CPU ({floor['wall'] / full['wall']:.0%} of the run's wall time)")
            print(f"{size:>6} repos, incremental re-run with nothing changed: wall {again['wall']:7.2f} s, CPU {again['cpu']:7.2f} s, "
                  f"peak memory {again['peak_mb']:.0f} MB; {again['scan']['reused']} rows reused, {again['scan']['scanned']} rescanned, "
                  f"similarity {_similarity(again)} ({again['wall'] / full['wall']:.2f}x the full run's wall time)")
            print(f"{size:>6} repos, incremental re-run with {changed} repositories ({changed / size:.1%}) changed: wall {daily['wall']:7.2f} s, "
                  f"CPU {daily['cpu']:7.2f} s, peak memory {daily['peak_mb']:.0f} MB; {daily['scan']['reused']} rows reused, "
                  f"{daily['scan']['scanned']} rescanned, similarity {_similarity(daily)} ({daily['wall'] / full['wall']:.2f}x the full run's wall time)")
        for (small, a), (big, b) in zip(results, results[1:]):
            def ratio(key: str, a: dict = a, b: dict = b, small: int = small, big: int = big) -> float:
                return (b[key] / big) / (a[key] / small)

            print(f"growth {small} -> {big}: size x{big / small:.0f}, wall x{b['wall'] / a['wall']:.2f}, CPU x{b['cpu'] / a['cpu']:.2f}; "
                  f"per-repository cost ratio: wall {ratio('wall'):.2f}, CPU {ratio('cpu'):.2f} (user {ratio('user'):.2f}, "
                  f"system {ratio('system'):.2f}) (1.00 = linear), peak memory x{b['peak_mb'] / a['peak_mb']:.2f}")
            print(f"growth {small} -> {big}, the floor: reading the files alone, per-repository ratio wall "
                  f"{ratio('wall', a['floor'], b['floor']):.2f}, CPU {ratio('cpu', a['floor'], b['floor']):.2f}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
