"""From scanned rows to the report: per-repository figures, the risk score, and the organisation's figures.

The report is plain JSON data (see docs/fleet-schema.json); every output format prints this one structure.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from typing import Any

from .. import versions
from . import similarity
from .scan import FLAGS

REPORT_SCHEMA = "agent-foundation.fleet-report"
REPORT_SCHEMA_VERSION = 1

# ---------------------------------------------------------------- the risk score (docs/fleet.md explains it)
FLAG_POINTS = {
    "settings-unparsable": 50,
    "bypass-possible": 25,
    "hooks-removed": 25,
    "hooks-edited": 15,
    "broad-allow": 20,
    "mcp-write-unapproved": 15,
}
UNVETTED_SERVER_POINTS, UNVETTED_SERVER_MAX = 10, 20
HIGH_RISK_SERVER_POINTS, HIGH_RISK_SERVER_MAX = 5, 10
FINDING_POINTS = {"critical": 5, "error": 4, "high": 4, "warning": 2, "medium": 2}
FINDING_POINTS_DEFAULT, FINDINGS_MAX = 1, 15
POSTURE_ERROR_POINTS = 15
BEHIND_POINTS, BEHIND_MAX = 2, 10
MODIFIED_SKILL_POINTS, MODIFIED_SKILL_MAX = 2, 6
PROFILE_POINTS = {"elevated": 5}
LEVELS = ((50, "critical"), (25, "high"), (10, "medium"), (0, "low"))


def risk(row: dict[str, Any]) -> dict[str, Any]:
    reasons: list[dict[str, Any]] = []

    def add(points: int, why: str) -> None:
        if points > 0:
            reasons.append({"points": points, "why": why})

    for code in dict.fromkeys(flag["code"] for flag in row["flags"]):
        add(FLAG_POINTS.get(code, 10), f"flag {code}")
    unvetted = [s["name"] for s in row["mcp_servers"] if not s["vetted"]]
    add(min(UNVETTED_SERVER_MAX, UNVETTED_SERVER_POINTS * len(unvetted)), f"unvetted MCP server(s): {', '.join(unvetted)}")
    high = [s["name"] for s in row["mcp_servers"] if s["vetted"] and s["risk"] == "high"]
    add(min(HIGH_RISK_SERVER_MAX, HIGH_RISK_SERVER_POINTS * len(high)), f"high-risk MCP server(s): {', '.join(high)}")
    finding_points = sum(FINDING_POINTS.get(f["severity"].lower(), FINDING_POINTS_DEFAULT) for f in row["findings"])
    add(min(FINDINGS_MAX, finding_points), f"{len(row['findings'])} posture finding(s)")
    if row.get("posture_error"):
        add(POSTURE_ERROR_POINTS, "the posture check could not run")
    behind = row.get("releases_behind") or 0
    add(min(BEHIND_MAX, BEHIND_POINTS * behind), f"{behind} release(s) behind")
    modified = [s["name"] for s in row["skills"]["registry"] if s["modified"]]
    add(min(MODIFIED_SKILL_MAX, MODIFIED_SKILL_POINTS * len(modified)), f"locally modified registry skill(s): {', '.join(modified)}")
    add(PROFILE_POINTS.get(str(row.get("profile")), 0), f"profile {row.get('profile')}")
    score = min(100, sum(r["points"] for r in reasons))
    level = next(name for floor, name in LEVELS if score >= floor)
    return {"score": score, "level": level, "reasons": sorted(reasons, key=lambda r: -r["points"])}


# ---------------------------------------------------------------- the report


def build(rows: list[dict[str, Any]], *, latest: str | None, releases: list[str], registry_docs: list[similarity.Doc],
          threshold: float = similarity.DEFAULT_THRESHOLD, audit: dict[str, Any] | None = None,
          posture_source: str = "", template_root: str = "", generated_at: str | None = None) -> dict[str, Any]:
    docs: list[similarity.Doc] = []
    for row in rows:
        row["release"] = versions.canonical(row["version"]) if row["version"] else None
        row["releases_behind"] = versions.releases_behind(row["version"], releases) if row["version"] else None
        row["on_latest"] = bool(latest and row["version"] and versions.same_release(row["version"], latest))
        for skill in row["skills"]["local"]:
            text = skill.pop("_text", "")
            if text and row["team"]:
                docs.append(similarity.Doc(row["team"], skill["name"], row["source"], text))
        row["risk"] = None if row["error"] and not row["version"] else risk(row)
    rows.sort(key=lambda r: (r["risk"] is None, -(r["risk"] or {}).get("score", 0), str(r["team"]), r["source"]))
    groups = similarity.promotion_candidates(docs, registry_docs, threshold)
    return {
        "schema": REPORT_SCHEMA,
        "schema_version": REPORT_SCHEMA_VERSION,
        "generated_at": generated_at or datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "template_root": template_root,
        "latest_release": latest,
        "releases": releases,
        "posture_check": posture_source,
        "similarity_threshold": threshold,
        "flag_descriptions": dict(FLAGS),
        "repos": rows,
        "org": org_figures(rows, latest, groups),
        "audit": audit,
        "trends": None,
    }


def org_figures(rows: list[dict[str, Any]], latest: str | None, groups: dict[str, list[dict]]) -> dict[str, Any]:
    ok = [r for r in rows if not r["error"]]
    scanned = [r for r in rows if r["risk"] is not None]
    teams = {r["team"] for r in rows if r["team"]}

    adoption = Counter(versions.release_of(r["version"]) for r in scanned)
    version_rows = [
        {"version": v, "repos": n, "fraction": round(n / len(scanned), 4) if scanned else 0.0, "is_latest": v == latest}
        for v, n in sorted(adoption.items(), key=lambda item: versions.key(item[0]), reverse=True)
    ]
    on_latest = sum(1 for r in scanned if r["on_latest"])

    registry_use: dict[str, Counter[str]] = defaultdict(Counter)
    local_count = 0
    for row in scanned:
        for skill in row["skills"]["registry"]:
            if skill["status"] != "deleted":
                registry_use[skill["name"]][skill["status"]] += 1
        local_count += len(row["skills"]["local"])
    registry_count = sum(sum(c.values()) for c in registry_use.values())
    total_skills = registry_count + local_count

    findings_by_code: Counter[str] = Counter()
    findings_by_team: dict[str, Counter[str]] = defaultdict(Counter)
    for row in scanned:
        for finding in row["findings"]:
            findings_by_code[finding["code"]] += 1
            findings_by_team[row["team"] or row["source"]][finding["severity"] or "info"] += 1
    flags_by_code: Counter[str] = Counter()
    for row in scanned:
        for code in {f["code"] for f in row["flags"]}:
            flags_by_code[code] += 1

    servers: dict[str, dict[str, Any]] = {}
    for row in scanned:
        for server in row["mcp_servers"]:
            entry = servers.setdefault(server["name"], {"name": server["name"], "teams": set(), "repos": 0,
                                                        "unvetted_repos": 0, "risk": server["risk"]})
            entry["teams"].add(row["team"])
            entry["repos"] += 1
            if not server["vetted"]:
                entry["unvetted_repos"] += 1
            elif entry["risk"] == "unknown":
                entry["risk"] = server["risk"]
    server_rows = [
        {"name": e["name"], "teams": len(e["teams"]), "repos": e["repos"], "unvetted_repos": e["unvetted_repos"],
         "vetted": e["unvetted_repos"] == 0, "risk": e["risk"]}
        for e in sorted(servers.values(), key=lambda e: (-len(e["teams"]), e["name"]))
    ]
    scores = [r["risk"]["score"] for r in scanned]
    return {
        "repos": len(rows),
        "teams": len(teams),
        "scanned": len(scanned),
        "errors": sum(1 for r in rows if r["error"]),
        "version_adoption": {
            "latest": latest,
            "on_latest": on_latest,
            "on_latest_fraction": round(on_latest / len(scanned), 4) if scanned and latest else None,
            "versions": version_rows,
        },
        "reuse": {
            "registry_skills_in_use": registry_count,
            "local_skills_in_use": local_count,
            "fraction": round(registry_count / total_skills, 4) if total_skills else None,
            "by_skill": [
                {"name": name, "repos": sum(c.values()), "current": c["current"], "stale": c["stale"],
                 "modified": c["modified"], "withdrawn": c["withdrawn"]}
                for name, c in sorted(registry_use.items(), key=lambda item: (-sum(item[1].values()), item[0]))
            ],
        },
        "teams_with_findings": len({r["team"] for r in scanned if r["findings"]}),
        "repos_with_findings": sum(1 for r in scanned if r["findings"]),
        "findings_total": sum(findings_by_code.values()),
        "findings_by_code": [{"code": c, "count": n} for c, n in findings_by_code.most_common()],
        "findings_by_team": [
            {"team": team, "findings": sum(c.values()), "by_severity": dict(sorted(c.items()))}
            for team, c in sorted(findings_by_team.items(), key=lambda item: (-sum(item[1].values()), item[0]))
        ],
        "flagged_repos": sum(1 for r in scanned if r["flags"]),
        "flags_by_code": [{"code": code, "repos": flags_by_code[code], "description": FLAGS[code]} for code in FLAGS if flags_by_code[code]],
        "mcp_servers": server_rows,
        "promotion_candidates": groups["promotion_candidates"],
        "registry_duplicates": groups["registry_duplicates"],
        "mean_risk": round(sum(scores) / len(scores), 2) if scores else None,
        "riskiest": [
            {"team": r["team"], "source": r["source"], "score": r["risk"]["score"], "level": r["risk"]["level"],
             "top_reason": r["risk"]["reasons"][0]["why"] if r["risk"]["reasons"] else ""}
            for r in scanned[:10] if r["risk"]["score"] > 0
        ],
    }
