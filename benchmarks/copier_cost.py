"""What the foundation adds to Copier's own cost: copy and update of this template vs a one-file template.

    .venv/bin/python benchmarks/copier_cost.py [--runs 7]

Both templates are tagged v0.1.0 and v0.2.0 in throwaway repositories. Runs are paired (ours, then the
one-file template, alternating) and the medians compared. Our update is `update.py` with all its checks;
the baseline is a plain `copier update`. Two kinds of our release are timed: an ordinary one (v0.2.0 ->
v0.3.0: new rules, a fixed hook) and one with migrations (v0.1.0 -> v0.2.0: a renamed file, a renamed answer,
a retired and a new skill). Targets: copy at most 1.3x, update at most 1.5x.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.rendering import commit_all, git  # noqa: E402
from tests.template_versions import build_template_versions  # noqa: E402

COPIER = str(Path(sys.executable).with_name("copier"))
ENV = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}


def one_file_template(root: Path) -> Path:
    (root / "template").mkdir(parents=True)
    (root / "copier.yml").write_text("_subdirectory: template\nproject_name:\n  type: str\n  default: demo\n")
    (root / "template/README.md.jinja").write_text("# {{ project_name }}\n")
    (root / "template/{{ _copier_conf.answers_file }}.jinja").write_text("{{ _copier_answers|to_nice_yaml }}")
    commit_all(root, "v0.1.0")
    git(root, "tag", "v0.1.0")
    (root / "template/README.md.jinja").write_text("# {{ project_name }}\n\nVersion 2.\n")
    commit_all(root, "v0.2.0")
    git(root, "tag", "v0.2.0")
    return root


def timed(command: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=ENV, check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=600)
    return time.perf_counter() - start


def copy(template: Path, dst: Path) -> float:
    return timed([COPIER, "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "v0.1.0", str(template), str(dst)])


def prepared(template: Path, dst: Path, version: str = "v0.1.0") -> Path:
    subprocess.run([COPIER, "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", version, str(template), str(dst)],
                   env=ENV, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    commit_all(dst, "rendered")
    return dst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="copier-cost-"))
    try:
        ours = build_template_versions(work / "ours")
        baseline = one_file_template(work / "one-file")
        copies: dict[str, list[float]] = {"ours": [], "one-file": []}
        updates: dict[str, list[float]] = {"ours": [], "ours-migrations": [], "one-file": []}
        for run in range(args.runs):
            for name, template in (("ours", ours), ("one-file", baseline)):
                copies[name].append(copy(template, work / f"copy-{name}-{run}"))
            team = prepared(ours, work / f"team-{run}", "v0.2.0")
            migrating = prepared(ours, work / f"migrating-{run}")
            plain = prepared(baseline, work / f"plain-{run}")
            update_py = ["/usr/bin/python3", ".claude/foundation/update.py"]
            updates["ours"].append(timed([*update_py, "--vcs-ref", "v0.3.0"], cwd=team))
            updates["ours-migrations"].append(timed([*update_py, "--vcs-ref", "v0.2.0"], cwd=migrating))
            updates["one-file"].append(timed([COPIER, "update", "--trust", "--defaults", "--quiet", "--vcs-ref", "v0.2.0"], cwd=plain))
        print(f"paired runs: {args.runs}; medians in seconds")
        lines = (("copy", copies, "ours", 1.3), ("update", updates, "ours", 1.5),
                 ("update, release with migrations", updates, "ours-migrations", 1.5))
        for label, figures, key, target in lines:
            ours_median, base_median = statistics.median(figures[key]), statistics.median(figures["one-file"])
            ratio = ours_median / base_median
            verdict = "within" if ratio <= target else "OVER"
            print(f"{label:32s} ours {ours_median:.3f}  one-file {base_median:.3f}  ratio {ratio:.2f}x  "
                  f"(target {target}x: {verdict})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
