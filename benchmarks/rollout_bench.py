"""Time `agent-foundation rollout` of a release to N team repositories against N sequential plain `copier update`s.

    .venv/bin/python benchmarks/rollout_bench.py [--repos 100] [--jobs 2] [--edited-share 0.5] [--distinct] [--keep DIR]

One run builds a throwaway template repository tagged v0.1.0 and v0.2.0 (tests/template_versions.py) and team
repositories rendered at v0.1.0, then times, in the same run:
  - plain: `copier update --trust --defaults --vcs-ref v0.2.0` in N working copies, one after the other (what
    "a loop over clones" costs, without the checks, the commit or the push);
  - fast: `agent-foundation rollout v0.2.0 REMOTES --push --jobs J` over N repositories without a team edit of a
    foundation file: every one takes the fast path (a direct render, checked, committed, pushed);
  - mix: the same over N repositories of which --edited-share carry a team edit of a foundation file (a hook
    added by hand to .claude/settings.json, which update.py carries into the answers): those take the full
    path (the repository's own update.py), the rest the fast path.
It prints each time, the time per repository and the ratios to plain (targets: fast at most 0.1x, mix at most
0.5x with --jobs 2), and the floor under the mix: the full path's share alone (the edited repositories through
update.py), which no fast path can lower.

The v0.1.0 -> v0.2.0 release runs every kind of migration (a renamed file, a renamed answer, a retired and an
offered skill), so every distinct answers set costs a render and the release's before-migration. By default the
repositories are copies of one team (one answers set: the best case); --distinct gives every repository its own
team (N answers sets, N renders: the worst case for the fast path).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.rendering import commit_all, render_team  # noqa: E402
from tests.template_versions import build_template_versions  # noqa: E402

VENV_BIN = Path(sys.executable).parent
RELEASE = "v0.2.0"
TEAM_HOOK = {"matcher": "Bash", "hooks": [{"type": "command", "command": "echo team-hook"}]}


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": str(VENV_BIN) + os.pathsep + os.environ.get("PATH", "")}


def _run(command: list[str], cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=_env(), stdin=subprocess.DEVNULL)


def add_team_hook(repo: Path) -> None:
    settings = json.loads((repo / ".claude/settings.json").read_text())
    settings["hooks"]["PreToolUse"].append(TEAM_HOOK)
    (repo / ".claude/settings.json").write_text(json.dumps(settings, indent=2) + "\n")
    commit_all(repo, "a hook added by hand")


class Fleet:
    """Seed teams rendered once each, copied into as many repositories as asked."""

    def __init__(self, base: Path, template: Path, distinct: bool):
        self.base, self.template, self.distinct = base, template, distinct
        self._seeds: dict[tuple[str, bool], Path] = {}

    def seed(self, slug: str, edited: bool) -> Path:
        key = (slug if self.distinct else "seed", edited)
        if key not in self._seeds:
            folder = self.base / "seeds" / f"{key[0]}{'-edited' if edited else ''}"
            team = render_team(folder, {"team_slug": key[0], "team_name": key[0].title()}, template=self.template, vcs_ref="v0.1.0")
            if edited:
                add_team_hook(team)
            self._seeds[key] = team
        return self._seeds[key]

    def working_copies(self, folder: Path, count: int) -> list[Path]:
        copies = []
        for index in range(count):
            copy = folder / f"team-{index:03d}"
            shutil.copytree(self.seed(f"team-{index:03d}", False), copy, symlinks=True)
            copies.append(copy)
        return copies

    def remotes(self, folder: Path, count: int, edited_share: float) -> Path:
        folder.mkdir(parents=True)
        edited = round(count * edited_share)
        for index in range(count):
            seed = self.seed(f"team-{index:03d}", index < edited)
            result = _run(["git", "clone", "--quiet", "--bare", str(seed), str(folder / f"team-{index:03d}.git")])
            assert result.returncode == 0, result.stderr
        return folder


def time_plain(plain: list[Path]) -> float:
    copier = str(VENV_BIN / "copier")
    started = time.perf_counter()
    for repo in plain:
        result = _run([copier, "update", "--trust", "--defaults", "--quiet", "--vcs-ref", RELEASE], cwd=repo)
        if result.returncode != 0:
            raise SystemExit(f"plain copier update failed in {repo}:\n{result.stderr[-2000:]}")
    return time.perf_counter() - started


def time_rollout(template: Path, remotes: Path, workdir: Path, jobs: int, repos: int) -> tuple[float, dict]:
    command = [str(VENV_BIN / "agent-foundation"), "--root", str(template), "rollout", RELEASE, str(remotes),
               "--push", "--jobs", str(jobs), "--workdir", str(workdir), "--json"]
    started = time.perf_counter()
    result = _run(command, timeout=60 * 60)
    elapsed = time.perf_counter() - started
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise SystemExit(f"rollout printed no report (exit {result.returncode}):\n{result.stderr[-2000:]}")
    if report["totals"]["updated"] != repos:
        bad = [row for row in report["repos"] if row["status"] != "updated"][:3]
        raise SystemExit(f"rollout updated {report['totals']['updated']} of {repos}: {json.dumps(bad, indent=1)[:2000]}")
    return elapsed, report


def full_path_floor(report: dict, jobs: int) -> float:
    """The wall time the full-path rows need at best: their summed time shared by the jobs."""
    return sum(row["seconds"] for row in report["repos"] if row["path"] == "full") / jobs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=100, help="team repositories per run (default 100; 20 for a quick run)")
    parser.add_argument("--jobs", type=int, default=2, help="rollout --jobs (default 2)")
    parser.add_argument("--edited-share", type=float, default=0.5,
                        help="share of the mix's repositories with a team edit of a foundation file (default 0.5)")
    parser.add_argument("--distinct", action="store_true", help="every repository its own team (its own answers set)")
    parser.add_argument("--keep", type=Path, default=None, help="build in this folder and keep it")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="rollout-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    n = args.repos
    try:
        started = time.perf_counter()
        template = build_template_versions(base / "agent-foundation")
        fleet = Fleet(base, template, args.distinct)
        plain = fleet.working_copies(base / "plain", n)
        clean = fleet.remotes(base / "clean", n, 0.0)
        mixed = fleet.remotes(base / "mixed", n, args.edited_share)
        print(f"built {n} working copies and 2 x {n} remotes ({'one team each' if args.distinct else 'one team'}) "
              f"in {time.perf_counter() - started:.1f} s ({os.cpu_count()} CPUs)", flush=True)

        plain_s = time_plain(plain)
        print(f"plain: {n} sequential copier updates              {plain_s:7.1f} s  ({plain_s / n:.2f} s per repository)", flush=True)
        fast_s, fast_report = time_rollout(template, clean, base / "work-fast", args.jobs, n)
        fast_count = fast_report["totals"]["fast"]
        print(f"fast:  rollout, {fast_count} of {n} by the fast path, --jobs {args.jobs}  {fast_s:7.1f} s  "
              f"({fast_s / n:.2f} s per repository)", flush=True)
        mix_s, mix_report = time_rollout(template, mixed, base / "work-mix", args.jobs, n)
        full_count = n - mix_report["totals"]["fast"]
        print(f"mix:   rollout, {full_count} of {n} by the full path, --jobs {args.jobs} {mix_s:7.1f} s  "
              f"({mix_s / n:.2f} s per repository)", flush=True)

        fast_ratio, mix_ratio = fast_s / plain_s, mix_s / plain_s
        floor = full_path_floor(mix_report, args.jobs)
        full_each = sum(row["seconds"] for row in mix_report["repos"] if row["path"] == "full") / max(full_count, 1)
        print(f"ratio fast / plain: {fast_ratio:.3f}x (target at most 0.100x) -> {'met' if fast_ratio <= 0.1 else 'NOT met'}")
        print(f"ratio mix / plain:  {mix_ratio:.3f}x (target at most 0.500x) -> {'met' if mix_ratio <= 0.5 else 'NOT met'}")
        print(f"floor of the mix: its {full_count} full-path repositories alone take {floor:.1f} s with --jobs {args.jobs} "
              f"({full_each:.2f} s each, {full_each / (plain_s / n):.2f}x a plain update) = {floor / plain_s:.3f}x plain")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
