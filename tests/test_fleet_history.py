"""History: --record stores each run in SQLite; trends appear after two recorded runs."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from agent_foundation.cli import main
from tests.fleet_support import add_skill, copy_repo, settings_edit, template_root, validate


@pytest.fixture()
def setup(rendered_team: Path, tmp_path: Path) -> dict:
    root = template_root(tmp_path)
    repos = tmp_path / "repos"
    copy_repo(rendered_team, repos / "alpha", "alpha", "v0.2.0")
    copy_repo(rendered_team, repos / "beta", "beta", "v0.3.0")
    settings_edit(repos / "beta", lambda s: s["permissions"]["allow"].append("Bash(*)"))
    add_skill(repos / "alpha", "local-one", "---\nname: local-one\ndescription: x\n---\nsomething only alpha does\n")
    return {"root": root, "repos": repos, "db": tmp_path / "history" / "fleet.sqlite"}


def _run(setup: dict, *extra: str, out: Path) -> dict:
    code = main(["--root", str(setup["root"]), "fleet", str(setup["repos"]), "--json", str(out), *extra])
    assert code == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_trends_appear_after_two_recorded_runs(setup: dict, tmp_path: Path, rendered_team: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    first = _run(setup, "--record", str(setup["db"]), "--recorded-at", "2026-01-05T09:00:00+00:00", out=tmp_path / "1.json")
    assert len(first["trends"]["runs"]) == 1 and first["trends"]["change"] == {}

    # a week later: alpha upgraded and dropped its local skill, beta fixed its settings
    shutil.rmtree(setup["repos"] / "alpha")
    copy_repo(rendered_team, setup["repos"] / "alpha", "alpha", "v0.3.0")
    shutil.rmtree(setup["repos"] / "beta")
    copy_repo(rendered_team, setup["repos"] / "beta", "beta", "v0.3.0")
    second = _run(setup, "--record", str(setup["db"]), "--recorded-at", "2026-01-12T09:00:00+00:00", out=tmp_path / "2.json")
    assert validate(second) == []
    runs = second["trends"]["runs"]
    assert [r["recorded_at"] for r in runs] == ["2026-01-05T09:00:00+00:00", "2026-01-12T09:00:00+00:00"]
    assert [r["on_latest"] for r in runs] == [0.5, 1.0]
    assert [r["versions"] for r in runs] == [{"0.3.0": 1, "0.2.0": 1}, {"0.3.0": 2}]
    assert runs[0]["reuse_fraction"] < runs[1]["reuse_fraction"] == 1.0
    assert [r["flagged_repos"] for r in runs] == [1, 0]
    assert second["trends"]["change"]["on_latest"] == 0.5 and second["trends"]["change"]["flagged_repos"] == -1

    capsys.readouterr()
    assert main(["--root", str(setup["root"]), "fleet", str(setup["repos"]), "--history", str(setup["db"])]) == 0
    terminal = capsys.readouterr().out
    assert "Trends across 2 recorded runs" in terminal
    with sqlite3.connect(setup["db"]) as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 2, "--history only reads"
        assert db.execute("SELECT count(*) FROM run_teams").fetchone()[0] == 4


def test_history_errors_are_clear(setup: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(setup["root"]), "fleet", str(setup["repos"]), "--history", str(tmp_path / "none.sqlite")]) == 2
    assert "record a run first with --record" in capsys.readouterr().err
    junk = tmp_path / "junk.sqlite"
    junk.write_text("this is not a database, just text " * 100)
    assert main(["--root", str(setup["root"]), "fleet", str(setup["repos"]), "--record", str(junk)]) == 2
    assert "is not a fleet history database" in capsys.readouterr().err
