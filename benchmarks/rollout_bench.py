"""Time `agent-foundation rollout` of a release to N team repositories against N sequential plain `copier update`s.

    .venv/bin/python benchmarks/rollout_bench.py [--repos 100] [--jobs 2] [--keep DIR]

One run builds a throwaway template repository tagged v0.1.0 and v0.2.0 (tests/template_versions.py), renders
one team at v0.1.0 and copies it into 2 x N team repositories: N working copies for the plain updates and N bare
remotes on local disk for the rollout. Then, in the same run:
  - plain: `copier update --trust --defaults --vcs-ref v0.2.0` in each working copy, one after the other (what
    "a loop over clones" costs, without the checks, the commit or the push);
  - rollout: `agent-foundation rollout v0.2.0 REMOTES --push --jobs J` (clone, branch, the repository's own
    update.py with its conflict, JSON and posture checks, commit with the CHANGELOG, push).
It prints both times, the time per repository, and the ratio rollout / plain (target: at most 0.7 with --jobs 2).
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

from tests.rendering import render_team  # noqa: E402
from tests.template_versions import build_template_versions  # noqa: E402

VENV_BIN = Path(sys.executable).parent
RELEASE = "v0.2.0"


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": str(VENV_BIN) + os.pathsep + os.environ.get("PATH", "")}


def _run(command: list[str], cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=_env(), stdin=subprocess.DEVNULL)


def build(base: Path, repos: int) -> tuple[Path, list[Path], Path]:
    template = build_template_versions(base / "agent-foundation")
    team = render_team(base / "seed", {"team_slug": "seed"}, template=template, vcs_ref="v0.1.0")
    plain = []
    for index in range(repos):
        copy = base / "plain" / f"team-{index:03d}"
        shutil.copytree(team, copy, symlinks=True)
        plain.append(copy)
    remotes = base / "remotes"
    remotes.mkdir()
    for index in range(repos):
        result = _run(["git", "clone", "--quiet", "--bare", str(team), str(remotes / f"team-{index:03d}.git")])
        assert result.returncode == 0, result.stderr
    return template, plain, remotes


def time_plain(plain: list[Path]) -> float:
    copier = str(VENV_BIN / "copier")
    started = time.perf_counter()
    for repo in plain:
        result = _run([copier, "update", "--trust", "--defaults", "--quiet", "--vcs-ref", RELEASE], cwd=repo)
        if result.returncode != 0:
            raise SystemExit(f"plain copier update failed in {repo}:\n{result.stderr[-2000:]}")
    return time.perf_counter() - started


def time_rollout(template: Path, remotes: Path, workdir: Path, jobs: int, repos: int) -> float:
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
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=100, help="team repositories (default 100; 20 for a quick run)")
    parser.add_argument("--jobs", type=int, default=2, help="rollout --jobs (default 2)")
    parser.add_argument("--keep", type=Path, default=None, help="build in this folder and keep it")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="rollout-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        template, plain, remotes = build(base, args.repos)
        print(f"built {args.repos} + {args.repos} team repositories in {time.perf_counter() - started:.1f} s "
              f"({os.cpu_count()} CPUs)", flush=True)
        plain_s = time_plain(plain)
        print(f"plain:   {args.repos} sequential copier updates      {plain_s:7.1f} s  ({plain_s / args.repos:.2f} s per repository)", flush=True)
        rollout_s = time_rollout(template, remotes, base / "work", args.jobs, args.repos)
        print(f"rollout: {args.repos} repositories, --jobs {args.jobs}, --push    {rollout_s:7.1f} s  ({rollout_s / args.repos:.2f} s per repository)")
        ratio = rollout_s / plain_s
        print(f"ratio rollout / plain: {ratio:.2f}x (target at most 0.70x) -> {'met' if ratio <= 0.7 else 'NOT met'}")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
