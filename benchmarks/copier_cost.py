"""What the foundation adds to Copier's own cost: copy and update of this template vs a one-file template.

    .venv/bin/python benchmarks/copier_cost.py [--runs 7]

All templates live in throwaway repositories tagged inside the run. Runs are paired (every template timed in
each run, in turn) and the medians compared. Our update is `update.py` with all its checks (the template's own
migrations included: the carry, the answers check, the posture check after the update); the others are a
plain `copier update`. Two kinds of our release are timed: an ordinary one (v0.2.0 -> v0.3.0: new rules, a
fixed hook) and one with migrations (v0.1.0 -> v0.2.0: a renamed file, a renamed answer, a retired and a new
skill). Targets: copy at most 1.3x, update at most 1.5x.

The ratio mixes several things, so three static controls with none of our code (no extension, no tasks, no
migrations) are timed in the same runs, each adding one thing to the one before:
  - minimum, bare: only the files and questions the issues require (the files a default render of ours
    writes, byte for byte, without the hooks' helper modules and history.py; issue #4's nine questions);
  - minimum: the same, in a repository holding everything else ours holds (src/, tests/, docs/, ...);
  - shape: all the files a default render of ours writes, behind as many plain questions as ours asks.
Ours against `shape` is what our code adds; `minimum` against the one-file template is the least any
template meeting the issues costs in Copier, in a repository laid out as the project requires.
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

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.rendering import TEMPLATE_ROOT, commit_all, copy_template, git  # noqa: E402
from tests.template_versions import build_template_versions  # noqa: E402

COPIER = str(Path(sys.executable).with_name("copier"))
ENV = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
ANSWERS_TEMPLATE = ("{{ _copier_conf.answers_file }}.jinja", "{{ _copier_answers|to_nice_yaml }}")
# What a same-shape release changes: what an ordinary release of ours changes (rules, org rules, a hook).
SHAPE_RELEASE = (".claude/settings.json", ".claude/rules/org-rules.md", ".claude/foundation/hooks/guard.py")
# The least any template meeting issues #4-#6 renders: our files but the guard's and audit hook's helper
# modules and update.py's git helpers (a single guard.py and audit.py could hold them), behind only the
# questions issue #4 names (the team's additions to the settings could live in a team-owned file instead).
HELPER_MODULES = tuple(f".claude/foundation/hooks/{name}.py" for name in ("guard_core", "match_grammar", "shell", "unwrap", "audit_core", "hostos")) + (
    ".claude/foundation/history.py",)
REQUIRED_QUESTIONS = ("team_name", "team_slug", "owner", "permission_profile", "stacks", "skills", "mcp_servers",
                      "extra_allow", "extra_ask")


def one_file_template(root: Path) -> Path:
    (root / "template").mkdir(parents=True)
    (root / "copier.yml").write_text("_subdirectory: template\nproject_name:\n  type: str\n  default: demo\n")
    (root / "template/README.md.jinja").write_text("# {{ project_name }}\n")
    (root / "template" / ANSWERS_TEMPLATE[0]).write_text(ANSWERS_TEMPLATE[1])
    return _tag_two_releases(root, lambda: (root / "template/README.md.jinja").write_text("# {{ project_name }}\n\nVersion 2.\n"))


def same_shape_template(root: Path, rendered: Path, with_repository: bool, minimum: bool = False) -> Path:
    """Static: `rendered`'s files (templated where ours templates them), our questions as plain strings; with
    `minimum`, only the files and questions the issues require."""
    root.mkdir(parents=True)
    if with_repository:
        copy_template(root, tag=None)
        for ours in ("copier.yml", "template", "extensions"):
            shutil.rmtree(root / ours) if (root / ours).is_dir() else (root / ours).unlink()
    questions = {key: value for key, value in yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text()).items()
                 if not key.startswith("_") and (not minimum or key in REQUIRED_QUESTIONS)}
    config = {"_subdirectory": "template", "_answers_file": ".copier-answers.yml"}
    config.update({key: {"type": "str", "help": question.get("help", key), "default": "x"}
                   for key, question in questions.items()})
    (root / "copier.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    for file in sorted(rendered.rglob("*")):
        relative = file.relative_to(rendered)
        if not file.is_file() or relative.parts[0] == ".git" or relative.name == ".copier-answers.yml":
            continue
        if minimum and str(relative) in HELPER_MODULES:
            continue
        plain = (TEMPLATE_ROOT / "template" / relative).is_file()  # ours copies it as is; else ours renders it
        target = root / "template" / (str(relative) if plain else f"{relative}.jinja")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.read_text() if plain else "{% raw %}" + file.read_text() + "{% endraw %}")
    (root / "template" / ANSWERS_TEMPLATE[0]).write_text(ANSWERS_TEMPLATE[1])

    def release() -> None:
        for relative in SHAPE_RELEASE:
            for target in root.joinpath("template").glob(relative + "*"):
                target.write_text(target.read_text() + "\n")
    return _tag_two_releases(root, release)


def _tag_two_releases(root: Path, change) -> Path:
    commit_all(root, "v0.1.0")
    git(root, "tag", "v0.1.0")
    change()
    commit_all(root, "v0.2.0")
    git(root, "tag", "v0.2.0")
    git(root, "repack", "-adq")  # as a template repository arrives from a git host: packed
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


def copier_update(team: Path) -> float:
    return timed([COPIER, "update", "--trust", "--defaults", "--quiet", "--vcs-ref", "v0.2.0"], cwd=team)


def median_ratio(figures: dict[str, list[float]], key: str, base: str) -> tuple[float, float, float]:
    ours, baseline = statistics.median(figures[key]), statistics.median(figures[base])
    return ours, baseline, ours / baseline


CONTROLS = ("minimum, bare", "minimum", "shape")  # each adds one thing to the one before; ours adds our code
STEPS = ("the files and questions the issues require", "+ the rest of our repository",
         "+ our other files and questions", "+ our code")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="copier-cost-"))
    try:
        templates = {"ours": build_template_versions(work / "ours"), "one-file": one_file_template(work / "one-file")}
        rendered = prepared(templates["ours"], work / "ours-rendered")
        templates["minimum, bare"] = same_shape_template(work / "minimum-bare", rendered, with_repository=False, minimum=True)
        templates["minimum"] = same_shape_template(work / "minimum", rendered, with_repository=True, minimum=True)
        templates["shape"] = same_shape_template(work / "shape", rendered, with_repository=True)
        copies: dict[str, list[float]] = {name: [] for name in templates}
        updates: dict[str, list[float]] = {name: [] for name in ("ours", "ours-migrations", "one-file", *CONTROLS)}
        update_py = ["/usr/bin/python3", ".claude/foundation/update.py"]
        for run in range(args.runs):
            for name, template in templates.items():
                copies[name].append(copy(template, work / f"copy-{run}" / name))
            teams = {name: prepared(templates[name], work / f"team-{run}" / name) for name in ("one-file", *CONTROLS)}
            ordinary = prepared(templates["ours"], work / f"team-{run}" / "ours", "v0.2.0")
            migrating = prepared(templates["ours"], work / f"team-{run}" / "migrating")
            updates["ours"].append(timed([*update_py, "--vcs-ref", "v0.3.0"], cwd=ordinary))
            updates["ours-migrations"].append(timed([*update_py, "--vcs-ref", "v0.2.0"], cwd=migrating))
            for name, team in teams.items():
                updates[name].append(copier_update(team))
        print(f"paired runs: {args.runs}; medians in seconds")
        targets = (("copy", copies, "ours", 1.3), ("update", updates, "ours", 1.5),
                   ("update, release with migrations", updates, "ours-migrations", 1.5))
        for label, figures, key, target in targets:
            ours, base, ratio = median_ratio(figures, key, "one-file")
            verdict = "within" if ratio <= target else "OVER"
            print(f"{label:32s} ours {ours:.3f}  one-file {base:.3f}  ratio {ratio:.2f}x  (target {target}x: {verdict})")
        print("\nwhere the ratio comes from (same runs; static controls, none of our code), each step against the one before:")
        for label, figures in (("copy", copies), ("update", updates)):
            chain = ("one-file", *CONTROLS, "ours")
            steps = [median_ratio(figures, after, before)[2] for before, after in zip(chain, chain[1:])]
            print(f"  {label}: " + ";  ".join(f"{step} {ratio:.2f}x" for step, ratio in zip(STEPS, steps)))
        floor = [median_ratio(figures, "minimum", "one-file")[2] for figures in (copies, updates)]
        print(f"\nthe least a template meeting the issues costs here (static, minimum files and questions, this repository): "
              f"copy {floor[0]:.2f}x, update {floor[1]:.2f}x (targets 1.3x, 1.5x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
