"""Versions compared as versions everywhere: every spelling of a release is one release, a render from an
untagged commit is unreleased (behind every release), and the fleet, history, rollout, migrations and
update.py all use the one comparison."""

from __future__ import annotations

import ast
import importlib.util
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from agent_foundation import versions
from agent_foundation.cli import main
from agent_foundation.fleet.command import build_report
from agent_foundation.rollout import core as rollout_core
from tests.fleet_support import copy_repo, edit_json, template_root
from tests.rendering import TEMPLATE_ROOT

TEAM_COPY = TEMPLATE_ROOT / "template/.claude/foundation/versions.py"
PLATFORM_COPY = TEMPLATE_ROOT / "src/agent_foundation/versions.py"


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    import sys
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def test_team_and_platform_copies_are_the_same_file() -> None:
    """update.py in a team repository cannot import the package; its copy must not drift from the CLI's."""
    assert TEAM_COPY.read_bytes() == PLATFORM_COPY.read_bytes(), (
        "src/agent_foundation/versions.py and template/.claude/foundation/versions.py differ: copy the edited one over the other")
    tree = ast.parse(TEAM_COPY.read_text(encoding="utf-8"))
    imports = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imports |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imports <= {"__future__", "re", "typing"}, f"team-side code is standard library only: {imports}"


@pytest.mark.parametrize("spelling", ["v0.2.0", "0.2.0", "0.2.0+dirty", "v0.2.0+gabc1234", " 0.2.0\n", "V0.2.0"])
def test_every_spelling_of_a_release_is_that_release(spelling: str) -> None:
    assert versions.is_release(spelling)
    assert versions.canonical(spelling) == versions.release_of(spelling) == "0.2.0"
    assert versions.same_release(spelling, "v0.2.0") and versions.compare(spelling, "0.2.0") == 0
    assert versions.tag(spelling) == "v0.2.0"
    assert versions.releases_behind(spelling, ["v0.1.0", "0.2.0", "v0.3.0", "0.10.0"]) == 2


@pytest.mark.parametrize("untagged", ["abc1234", "unreleased", "0.0.0.post5.dev0+gabc1234", "", None, "HEAD", "not a version"])
def test_an_untagged_render_is_unreleased_and_behind_every_release(untagged: object) -> None:
    assert versions.parse(untagged) is None and not versions.is_release(untagged)
    assert versions.canonical(untagged) == versions.release_of(untagged) == versions.UNRELEASED
    assert versions.releases_behind(untagged, ["v0.0.1", "v0.1.0"]) == 2
    assert versions.compare(untagged, "v0.0.1") < 0 and not versions.at_least(untagged, "0.0.1")
    assert not versions.same_release(untagged, untagged)
    with pytest.raises(ValueError, match="not a release version"):
        versions.tag(untagged)


def test_renders_past_a_tag_sit_between_that_release_and_the_next() -> None:
    for past in ("v0.2.0-3-gabc1234", "0.2.0.post3.dev0+gabc1234"):
        assert not versions.is_release(past) and versions.canonical(past) == "0.2.0+3"
        assert versions.release_of(past) == versions.UNRELEASED
        assert versions.compare("0.2.0", past) < 0 < versions.compare("v0.2.1", past)
        assert versions.at_least(past, "v0.2.0") and not versions.at_least(past, "0.2.1")
    spellings = ["v0.10.0", "0.9.1", "abc1234", "v1.0.0", "1.0.0-rc.1", "0.9.1-2-gdeadbee", "0.2.0"]
    assert sorted(spellings, key=versions.key) == ["abc1234", "0.2.0", "0.9.1", "0.9.1-2-gdeadbee", "v0.10.0", "1.0.0-rc.1", "v1.0.0"]


def test_update_py_and_migrations_compare_as_versions(tmp_path: Path) -> None:
    update = _load(TEMPLATE_ROOT / "template/.claude/foundation/update.py", "update_for_versions_test")
    changelog = "# Changelog\n\n## [Unreleased]\n\nx\n\n## [0.10.0]\n\nten\n\n## [0.3.0]\n\nthree\n\n## [0.2.0]\n\ntwo\n"
    assert update.changelog_between(changelog, "v0.2.0", "0.10.0+dirty").split("\n\n")[::2] == ["## [0.10.0]", "## [0.3.0]"]
    assert "## [0.2.0]" in update.changelog_between(changelog, "abc1234", "v0.3.0"), "unreleased is behind every release"
    assert "## [0.10.0]" not in update.changelog_between(changelog, "0.2.0", "v0.3.0")

    from agent_foundation import migrate

    root = tmp_path / "template"
    (root / "foundation").mkdir(parents=True)
    (root / "foundation/migrations.yml").write_text(
        "migrations:\n  - version: 0.2.0\n  - version: v0.3.0\n  - version: 0.10.0\n", encoding="utf-8")
    due = lambda old, new: [str(m["version"]) for m in migrate.due_migrations(old, new, root)]  # noqa: E731
    assert due("0.2.0", "0.10.0") == ["v0.3.0", "0.10.0"]
    assert due("v0.2.0", "0.3.0.post2.dev0+gabc") == ["v0.3.0"]
    assert due("0.0.0.post4.dev0+gabc", "0.2.0") == ["0.2.0"], "an untagged old render is behind every release"


def test_rollout_compares_as_versions() -> None:
    assert rollout_core._at_or_after("0.2.0", "v0.2.0") and rollout_core._at_or_after("0.2.0-3-gabc1234", "v0.2.0")
    assert not rollout_core._at_or_after("abc1234", "v0.1.0") and not rollout_core._at_or_after("0.2.0", "v0.10.0")
    assert ".claude/foundation/versions.py" in rollout_core.AGENT_CODE


def test_fleet_and_history_count_one_release_whatever_its_spelling(rendered_team: Path, tmp_path: Path) -> None:
    root = template_root(tmp_path, ["v0.1.0", "v0.2.0"])
    repos = tmp_path / "repos"
    copy_repo(rendered_team, repos / "rendered", "rendered", "v0.2.0")  # manifest 0.2.0, as a real render writes it
    copy_repo(rendered_team, repos / "tagged", "tagged", "v0.2.0")
    edit_json(repos / "tagged/.claude/foundation/manifest.json", lambda m: m.update(template_version="v0.2.0"))
    copy_repo(rendered_team, repos / "local", "local", "v0.2.0")
    edit_json(repos / "local/.claude/foundation/manifest.json", lambda m: m.update(template_version="0.2.0+dirty"))
    copy_repo(rendered_team, repos / "old", "old", "v0.1.0")
    copy_repo(rendered_team, repos / "untagged", "untagged", "3f9c2ab")
    copy_repo(rendered_team, repos / "past", "past", "v0.1.0-4-g3f9c2ab")

    data = build_report(root, [str(repos)], jobs=1)
    rows = {row["team"]: row for row in data["repos"]}
    assert data["latest_release"] == "0.2.0" and data["releases"] == ["0.1.0", "0.2.0"]
    assert [t for t in ("rendered", "tagged", "local") if rows[t]["on_latest"]] == ["rendered", "tagged", "local"]
    assert {t: rows[t]["releases_behind"] for t in rows} == {"rendered": 0, "tagged": 0, "local": 0, "old": 1, "untagged": 2, "past": 1}
    assert rows["untagged"]["release"] == "unreleased" and rows["untagged"]["error"] is None
    adoption = {v["version"]: v["repos"] for v in data["org"]["version_adoption"]["versions"]}
    assert adoption == {"0.2.0": 3, "0.1.0": 1, "unreleased": 2}
    assert data["org"]["version_adoption"]["on_latest_fraction"] == 0.5

    # a history recorded before versions were compared as versions: v0.2.0 and 0.2.0 were two rows
    db = tmp_path / "history.sqlite"
    assert main(["--root", str(root), "fleet", str(repos), "--record", str(db), "--recorded-at", "2026-01-05T09:00:00+00:00",
                 "--json", str(tmp_path / "r.json")]) == 0
    with sqlite3.connect(db) as connection:
        connection.execute("DELETE FROM run_versions")
        connection.executemany("INSERT INTO run_versions VALUES (1, ?, ?)", [("v0.2.0", 1), ("0.2.0", 2), ("(unknown)", 1)])
    assert main(["--root", str(root), "fleet", str(repos), "--history", str(db), "--json", str(tmp_path / "h.json")]) == 0
    trends = json.loads((tmp_path / "h.json").read_text(encoding="utf-8"))["trends"]
    assert trends["runs"][0]["versions"] == {"0.2.0": 3, "unreleased": 1}
    shutil.rmtree(repos)
