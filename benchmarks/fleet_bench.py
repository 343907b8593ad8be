"""Time `agent-foundation fleet` on a synthetic fleet of 100, 1,000 and 5,000 team repositories.

    .venv/bin/python benchmarks/fleet_bench.py [--sizes 100,1000,5000] [--jobs N] [--keep DIR]

The fleet is rendered once with Copier, then varied by copying and editing files the way real fleets drift:
old versions, edited settings (Bash(*), bypass mode, removed or edited hooks, a merge conflict), unvetted MCP
servers, modified and stale registry skills, team-local skills (some copied across teams with small edits,
the rest unrelated), a few folders that are not foundation repositories or have a corrupt manifest, and audit
logs. It prints seconds per 1,000 repositories and how the time grows from size to size (1.0 = linear), for
the whole report: scanning, posture check, risk, similarity grouping and the org figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--jobs", type=int, default=None, help="scanning processes (default: CPU count)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per size; the best is reported")
    parser.add_argument("--keep", type=Path, help="write the fleets here and keep them")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    from agent_foundation.fleet.command import build_report

    work = args.keep or Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    try:
        base = render_base(work / "_base")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, jobs={args.jobs or os.cpu_count()}; "
              f"base repository rendered with Copier ({len(base)} files)")
        results = []
        for size in sizes:
            fleet = work / f"fleet-{size}"
            if not fleet.exists():
                started = time.perf_counter()
                planted = generate(fleet, size, base)
                print(f"  generated {size} repos in {time.perf_counter() - started:.1f} s: "
                      + ", ".join(f"{k} {v}" for k, v in sorted(planted.items())))
            timings, cpu = [], []
            for _ in range(args.repeat):
                started, started_cpu = time.perf_counter(), time.process_time()
                report = build_report(ROOT, [str(fleet)], latest="v1.4.0", jobs=args.jobs, cache=work / "_cache")
                timings.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
            best = min(timings)
            org = report["org"]
            results.append((size, best))
            print(f"{size:>6} repos: {best:6.3f} s (best of {args.repeat}), {best / size * 1000:6.3f} s per 1,000 repos; "
                  f"{org['errors']} errors, {org['flagged_repos']} flagged, {len(org['promotion_candidates'])} promotion candidates, "
                  f"reuse {org['reuse']['fraction']}; CPU of this process {min(cpu):.3f} s; load average {os.getloadavg()[0]:.1f}")
        for (small, t_small), (big, t_big) in zip(results, results[1:]):
            print(f"growth {small} -> {big}: size x{big / small:.0f}, time x{t_big / t_small:.2f} "
                  f"(per-repo cost ratio {(t_big / big) / (t_small / small):.2f}; 1.00 = linear)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
