"""History: each `--record` run's figures in a SQLite file, and the trends across recorded runs.

Scale health is a trend, not a snapshot: is the share of teams using registry skills rather than only their
own rising, adoption of the latest release spreading (and how many days it takes), onboarding getting faster,
are findings falling. Tables (schema version in `meta`; a version 1 file gains the new columns on first use):
  runs(id, recorded_at, latest, repos, teams, errors, on_latest, reuse_fraction, teams_with_findings,
       findings, flagged_repos, mean_risk, promotion_candidates, registry_share, own_only_share,
       high_blast_repos, latest_lag_days, onboarding_days)
  run_versions(run_id, version, repos)
  run_teams(run_id, team, version, risk, findings, flags)
"""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path
from typing import Any

from .. import versions

SCHEMA_VERSION = 2
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    latest TEXT,
    repos INTEGER NOT NULL,
    teams INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    on_latest REAL,
    reuse_fraction REAL,
    teams_with_findings INTEGER NOT NULL,
    findings INTEGER NOT NULL,
    flagged_repos INTEGER NOT NULL,
    mean_risk REAL,
    promotion_candidates INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS run_versions (run_id INTEGER NOT NULL REFERENCES runs(id), version TEXT NOT NULL, repos INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS run_teams (run_id INTEGER NOT NULL REFERENCES runs(id), team TEXT NOT NULL, version TEXT,
                                      risk INTEGER, findings INTEGER NOT NULL, flags INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS run_teams_team ON run_teams(team);
"""
_RUN_FIELDS = ("recorded_at", "latest", "repos", "teams", "errors", "on_latest", "reuse_fraction", "teams_with_findings",
               "findings", "flagged_repos", "mean_risk", "promotion_candidates", "registry_share", "own_only_share",
               "high_blast_repos", "latest_lag_days", "onboarding_days")
_ADDED_IN_2 = {"registry_share": "REAL", "own_only_share": "REAL", "high_blast_repos": "INTEGER", "latest_lag_days": "REAL",
               "onboarding_days": "REAL"}


class HistoryError(RuntimeError):
    pass


def _connect(path: Path, create: bool) -> sqlite3.Connection:
    if not create and not path.is_file():
        raise HistoryError(f"no history at {path}: record a run first with --record {path}")
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path), timeout=30)
        db.executescript(_TABLES)
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            db.commit()
        elif int(row[0]) > SCHEMA_VERSION:
            raise HistoryError(f"{path} was written by a newer agent-foundation (history schema {row[0]}); upgrade to read it")
        have = {column[1] for column in db.execute("PRAGMA table_info(runs)")}
        missing = [name for name in _ADDED_IN_2 if name not in have]
        if missing:
            with db:
                for name in missing:
                    db.execute(f"ALTER TABLE runs ADD COLUMN {name} {_ADDED_IN_2[name]}")
                db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
        return db
    except sqlite3.DatabaseError as error:
        raise HistoryError(f"{path} is not a fleet history database: {error}") from error


def record(path: Path, report: dict[str, Any], recorded_at: str | None = None) -> int:
    """Store this run's figures; returns the run id."""
    org = report["org"]
    when = recorded_at or report.get("generated_at") or datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    values = {
        "recorded_at": when,
        "latest": report.get("latest_release"),
        "repos": org["repos"],
        "teams": org["teams"],
        "errors": org["errors"],
        "on_latest": org["version_adoption"]["on_latest_fraction"],
        "reuse_fraction": org["reuse"]["fraction"],
        "teams_with_findings": org["teams_with_findings"],
        "findings": org["findings_total"],
        "flagged_repos": org["flagged_repos"],
        "mean_risk": org["mean_risk"],
        "promotion_candidates": len(org["promotion_candidates"]),
        "registry_share": org["skill_adoption"]["registry_share"],
        "own_only_share": org["skill_adoption"]["own_only_share"],
        "high_blast_repos": org["high_blast_repos"],
        "latest_lag_days": next((lag["median_days"] for lag in org["adoption_lag"] if lag["release"] == report.get("latest_release")), None),
        "onboarding_days": org["onboarding"]["median_days"],
    }
    db = _connect(path, create=True)
    try:
        with db:
            cursor = db.execute(f"INSERT INTO runs ({', '.join(_RUN_FIELDS)}) VALUES ({', '.join('?' * len(_RUN_FIELDS))})",
                                [values[f] for f in _RUN_FIELDS])
            run_id = int(cursor.lastrowid or 0)
            db.executemany("INSERT INTO run_versions VALUES (?, ?, ?)",
                           [(run_id, item["version"], item["repos"]) for item in org["version_adoption"]["versions"]])
            db.executemany("INSERT INTO run_teams VALUES (?, ?, ?, ?, ?, ?)",
                           [(run_id, row["team"] or row["source"], row["version"], row["risk"]["score"] if row["risk"] else None,
                             len(row["findings"]), len(row["flags"])) for row in report["repos"]])
    finally:
        db.close()
    return run_id


def trends(path: Path, limit: int = 50) -> dict[str, Any]:
    """The last `limit` recorded runs, oldest first, with version adoption per run."""
    db = _connect(path, create=False)
    try:
        rows = db.execute(f"SELECT id, {', '.join(_RUN_FIELDS)} FROM runs ORDER BY recorded_at DESC, id DESC LIMIT ?", (limit,)).fetchall()
        runs = []
        for row in reversed(rows):
            run = dict(zip(("id", *_RUN_FIELDS), row))
            # canonical names, so a history recorded when `v0.2.0` and `0.2.0` were two rows reads as one release
            run["versions"] = {}
            for version, repos in db.execute("SELECT version, repos FROM run_versions WHERE run_id = ?", (run["id"],)):
                name = versions.release_of(version) if version != "(unknown)" else versions.UNRELEASED
                run["versions"][name] = run["versions"].get(name, 0) + repos
            run["latest"] = versions.canonical(run["latest"]) if run["latest"] else None
            runs.append(run)
    finally:
        db.close()
    change = {}
    if len(runs) >= 2:
        first, last = runs[0], runs[-1]
        for key in ("on_latest", "reuse_fraction", "registry_share", "own_only_share", "teams_with_findings", "findings",
                    "flagged_repos", "high_blast_repos", "mean_risk", "repos", "latest_lag_days", "onboarding_days"):
            if first[key] is not None and last[key] is not None:
                change[key] = round(last[key] - first[key], 4)
    return {"database": str(path), "runs": runs, "change": change}
