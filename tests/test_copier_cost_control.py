"""The Copier benchmark's same-shape control is only a fair comparison if it renders what ours renders: the
same paths, the same bytes, behind as many questions, from a repository holding what ours holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from copier import run_copy

from tests.rendering import TEMPLATE_ROOT, commit_all, copy_template

sys.path.insert(0, str(TEMPLATE_ROOT / "benchmarks"))
import copier_cost  # noqa: E402


def files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts and path.name != ".copier-answers.yml"
    }


def tracked(repo: Path) -> set[str]:
    return set(subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout.splitlines())


def test_the_same_shape_control_renders_what_ours_renders(tmp_path):
    ours = copy_template(tmp_path / "ours")
    rendered = tmp_path / "ours-rendered"
    run_copy(str(ours), str(rendered), defaults=True, unsafe=True, vcs_ref="v0.1.0", quiet=True)
    commit_all(rendered, "rendered")
    control = copier_cost.same_shape_template(tmp_path / "shape-repo", rendered, with_repository=True)
    control_rendered = tmp_path / "control-rendered"
    run_copy(str(control), str(control_rendered), defaults=True, unsafe=True, vcs_ref="v0.1.0", quiet=True)

    assert files(control_rendered) == files(rendered)
    ours_questions = [key for key in yaml.safe_load((ours / "copier.yml").read_text()) if not key.startswith("_")]
    control_config = yaml.safe_load((control / "copier.yml").read_text())
    assert [key for key in control_config if not key.startswith("_")] == ours_questions
    assert "_jinja_extensions" not in control_config and "_tasks" not in control_config
    outside_the_template = {path for path in tracked(ours) if not path.startswith(("template/", "extensions/")) and path != "copier.yml"}
    assert outside_the_template <= tracked(control)

    minimum = copier_cost.same_shape_template(tmp_path / "minimum", rendered, with_repository=True, minimum=True)
    minimum_rendered = tmp_path / "minimum-rendered"
    run_copy(str(minimum), str(minimum_rendered), defaults=True, unsafe=True, vcs_ref="v0.1.0", quiet=True)
    expected = {path: content for path, content in files(rendered).items() if path not in copier_cost.HELPER_MODULES}
    assert files(minimum_rendered) == expected and len(expected) == len(files(rendered)) - len(copier_cost.HELPER_MODULES)
    minimum_questions = [key for key in yaml.safe_load((minimum / "copier.yml").read_text()) if not key.startswith("_")]
    assert minimum_questions == [key for key in ours_questions if key in copier_cost.REQUIRED_QUESTIONS]
    assert set(minimum_questions) == set(copier_cost.REQUIRED_QUESTIONS)


def test_the_same_shape_release_changes_files_a_team_has(tmp_path):
    rendered = tmp_path / "rendered"
    for relative in copier_cost.SHAPE_RELEASE:
        (rendered / relative).parent.mkdir(parents=True, exist_ok=True)
        (rendered / relative).write_text("content\n")
    control = copier_cost.same_shape_template(tmp_path / "shape", rendered, with_repository=False)
    changed = subprocess.run(["git", "diff", "--name-only", "v0.1.0", "v0.2.0"], cwd=control,
                             capture_output=True, text=True, check=True).stdout.split()
    assert len(changed) == len(copier_cost.SHAPE_RELEASE)
