"""What the foundation adds to Copier's own cost: copy and update of this template vs a one-file template.

    .venv/bin/python benchmarks/copier_cost.py [--runs 7]

All templates live in throwaway repositories tagged inside the run. Runs are paired (every template timed in
each run, in turn) and the medians compared. Our update is `update.py` with all its checks; the others are a
plain `copier update`. Two kinds of our release are timed: an ordinary one (v0.2.0 -> v0.3.0: new rules, a
fixed hook) and one with migrations (v0.1.0 -> v0.2.0: a renamed file, a renamed answer, a retired and a new
skill). Targets: copy at most 1.3x, update at most 1.5x.

The ratio mixes two things, so two controls are timed in the same runs: a *same-shape* template, static and
with none of our code (the files a default render of ours writes, byte for byte, behind as many plain
questions as ours asks, no extension, no tasks, no migrations), once on its own and once in a repository
holding everything else ours holds (src/, tests/, docs/, ...). Ours against the second is what our code adds;
the second against the one-file template is what Copier itself costs for a template of this shape.
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


def one_file_template(root: Path) -> Path:
    (root / "template").mkdir(parents=True)
    (root / "copier.yml").write_text("_subdirectory: template\nproject_name:\n  type: str\n  default: demo\n")
    (root / "template/README.md.jinja").write_text("# {{ project_name }}\n")
    (root / "template" / ANSWERS_TEMPLATE[0]).write_text(ANSWERS_TEMPLATE[1])
    return _tag_two_releases(root, lambda: (root / "template/README.md.jinja").write_text("# {{ project_name }}\n\nVersion 2.\n"))


def same_shape_template(root: Path, rendered: Path, with_repository: bool) -> Path:
    """Static: `rendered`'s files (templated where ours templates them), our questions as plain strings."""
    root.mkdir(parents=True)
    if with_repository:
        copy_template(root, tag=None)
        for ours in ("copier.yml", "template", "extensions"):
            shutil.rmtree(root / ours) if (root / ours).is_dir() else (root / ours).unlink()
    questions = {key: value for key, value in yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text()).items()
                 if not key.startswith("_")}
    config = {"_subdirectory": "template", "_answers_file": ".copier-answers.yml"}
    config.update({key: {"type": "str", "help": question.get("help", key), "default": "x"}
                   for key, question in questions.items()})
    (root / "copier.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    for file in sorted(rendered.rglob("*")):
        relative = file.relative_to(rendered)
        if not file.is_file() or relative.parts[0] == ".git" or relative.name == ".copier-answers.yml":
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="copier-cost-"))
    try:
        templates = {"ours": build_template_versions(work / "ours"), "one-file": one_file_template(work / "one-file")}
        rendered = prepared(templates["ours"], work / "ours-rendered")
        templates["shape"] = same_shape_template(work / "shape", rendered, with_repository=False)
        templates["shape+repo"] = same_shape_template(work / "shape-repo", rendered, with_repository=True)
        copies: dict[str, list[float]] = {name: [] for name in templates}
        updates: dict[str, list[float]] = {name: [] for name in ("ours", "ours-migrations", "one-file", "shape", "shape+repo")}
        update_py = ["/usr/bin/python3", ".claude/foundation/update.py"]
        for run in range(args.runs):
            for name, template in templates.items():
                copies[name].append(copy(template, work / f"copy-{name}-{run}"))
            teams = {name: prepared(templates[name], work / f"team-{name}-{run}") for name in ("one-file", "shape", "shape+repo")}
            ordinary = prepared(templates["ours"], work / f"team-ours-{run}", "v0.2.0")
            migrating = prepared(templates["ours"], work / f"team-migrating-{run}")
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
        print("\nwhere the ratio comes from (same runs), against the one-file template:")
        for label, figures, key in (("copy", copies, "ours"), ("update", updates, "ours")):
            shape = median_ratio(figures, "shape", "one-file")[2]
            shape_repo = median_ratio(figures, "shape+repo", "one-file")[2]
            ours_vs_shape = median_ratio(figures, key, "shape+repo")[2]
            print(f"{label:7s} same shape, static: {shape:.2f}x; with our repository's other files: {shape_repo:.2f}x; "
                  f"ours against that: {ours_vs_shape:.2f}x (what our code adds)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
