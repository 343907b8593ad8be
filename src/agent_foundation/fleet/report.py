"""From scanned rows to the report: per-repository figures, the risk score, and the organisation's figures.

The report is plain JSON data (see docs/fleet-schema.json); every output format prints this one structure.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from typing import Any

from .. import versions
from . import git_facts, similarity
from .scan import FLAGS

REPORT_SCHEMA = "agent-foundation.fleet-report"
REPORT_SCHEMA_VERSION = 2

# ---------------------------------------------------------------- the risk score (docs/fleet.md explains it)
# High blast radius: each of these switches off a whole layer between an agent and what the organisation
# forbids (the client's deny rules, the guard hook, the OS sandbox, approval itself). One is enough to make a
# repository critical and to rank it above every repository without one, whatever else the other carries.
HIGH_BLAST = ("settings-unparsable", "deny-rules-removed", "hooks-removed", "sandbox-off", "bypass-possible", "agent-guard-removed")
FLAG_POINTS = {
    "settings-unparsable": 60,
    "deny-rules-removed": 60,
    "hooks-removed": 60,
    "sandbox-off": 50,
    "bypass-possible": 50,
    "hooks-edited": 15,
    "broad-allow": 20,
    "mcp-write-unapproved": 15,
    "agent-guard-removed": 60,
    "agent-permission-loosened": 20,
}
BLAST_WHY = {
    "settings-unparsable": "the client drops settings.json whole: no deny rule, no ask rule, no hook applies",
    "deny-rules-removed": "the client no longer refuses what the organisation forbids; only the guard hook stands",
    "hooks-removed": "no guard decides on commands and no audit log records them",
    "sandbox-off": "a command the guard cannot parse runs with the machine and the network in reach",
    "bypass-possible": "an agent can run every command without any approval",
    "agent-guard-removed": "another agent (Codex, Copilot, Cursor) runs its calls with no guard and no audit log, or a crashed guard lets them through",
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
        if code in HIGH_BLAST:
            reasons.append({"points": FLAG_POINTS[code], "why": f"high blast radius: {code}: {BLAST_WHY[code]}", "blast": True})
        else:
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
    blast = sum(1 for r in reasons if r.get("blast"))
    level = "critical" if blast else next(name for floor, name in LEVELS if score >= floor)
    return {"score": score, "level": level, "high_blast": blast,
            "reasons": sorted(reasons, key=lambda r: (not r.get("blast"), -r["points"]))}


def rank_key(row: dict[str, Any]) -> tuple:
    """Riskiest first: every repository with a high-blast-radius flag above every one without, then by score;
    unreadable repositories last."""
    risk = row.get("risk")
    if risk is None:
        return (2, 0, 0, str(row.get("team")), row["source"])
    return (0 if risk.get("high_blast") else 1, -risk.get("high_blast", 0), -risk["score"], str(row["team"]), row["source"])


# ---------------------------------------------------------------- the report


def build(rows: list[dict[str, Any]], context: dict[str, Any], *, audit: dict[str, Any] | None = None,
          generated_at: str | None = None, similarity_cache: similarity.RunCache | None = None) -> dict[str, Any]:
    """The report from scanned rows and the run's context (see `command.run_context`): a pure function of the
    two, which is why shards merged (`fleet merge`) give exactly the figures of one run. `similarity_cache`
    (--incremental) only saves work: the result is the same with it or without."""
    latest, releases = context["latest"], context["releases"]
    rows.sort(key=lambda r: r["source"])  # the same order whatever order the rows came in (shards, processes)
    docs: list[similarity.Doc] = []
    for row in rows:
        row["release"] = versions.canonical(row["version"]) if row["version"] else None
        row["releases_behind"] = versions.releases_behind(row["version"], releases) if row["version"] else None
        row["on_latest"] = bool(latest and row["version"] and versions.same_release(row["version"], latest))
        row.pop("_audit_log", None)  # the scan's note for collecting audit logs
        for skill in row["skills"]["local"]:
            text = skill.pop("_text", "")
            if text and row["team"]:
                docs.append(similarity.Doc(row["team"], skill["name"], row["source"], text))
        row["risk"] = None if row["error"] and not row["version"] else risk(row)
    rows.sort(key=rank_key)
    registry_docs = [similarity.Doc(None, name, "registry", text) for name, text in context["registry_skills"].items()]
    groups = similarity.promotion_candidates(docs, registry_docs, context["threshold"], boilerplate=context.get("skill_template") or "",
                                             run_cache=similarity_cache)
    return {
        "schema": REPORT_SCHEMA,
        "schema_version": REPORT_SCHEMA_VERSION,
        "generated_at": generated_at or datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "template_root": context["template_root"],
        "latest_release": latest,
        "releases": releases,
        "release_dates": context.get("release_dates") or {},
        "posture_check": context["posture_source"],
        "similarity_threshold": context["threshold"],
        "flag_descriptions": dict(FLAGS),
        "high_blast_flags": list(HIGH_BLAST),
        "repos": rows,
        "org": org_figures(rows, latest, groups, release_dates=context.get("release_dates") or {},
                           default_skills=context.get("default_skills") or [], registry_docs=docs_count(registry_docs)),
        "audit": audit,
        "trends": None,
        "exceptions": exceptions_summary(rows, generated_at),
    }


EXPIRING_DAYS = 30


def exceptions_summary(rows: list[dict[str, Any]], generated_at: str | None) -> dict[str, Any]:
    """Every team's exceptions, dated against the report's day: expired, or expiring within 30 days."""
    today = (datetime.datetime.fromisoformat(generated_at).date() if generated_at
             else datetime.datetime.now(datetime.timezone.utc).date())
    listed = []
    for row in rows:
        for entry in row.get("exceptions") or []:
            try:
                days = (datetime.date.fromisoformat(entry["expires"]) - today).days
            except ValueError:
                days = -1  # an unreadable date counts as ended, as in check.py
            status = "expired" if days < 0 else "expiring" if days <= EXPIRING_DAYS else "live"
            listed.append({"team": row["team"], "source": row["source"], **entry, "days_left": days, "status": status})
    listed.sort(key=lambda e: (e["days_left"], str(e["team"]), e["name"]))
    return {
        "expiring_within_days": EXPIRING_DAYS,
        "total": len(listed),
        "expired": [e for e in listed if e["status"] == "expired"],
        "expiring": [e for e in listed if e["status"] == "expiring"],
        "all": listed,
    }


def docs_count(docs: list[similarity.Doc]) -> int:
    return len(docs)


def org_figures(rows: list[dict[str, Any]], latest: str | None, groups: dict[str, list[dict]], *,
                release_dates: dict[str, int] | None = None, default_skills: list[str] | None = None,
                registry_docs: int = 0) -> dict[str, Any]:
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
        "high_blast_repos": sum(1 for r in scanned if r["risk"].get("high_blast")),
        "skill_adoption": skill_adoption(scanned, groups, default_skills or []),
        "adoption_lag": adoption_lag(scanned, release_dates or {}),
        "onboarding": onboarding(scanned),
        "capabilities": capability_summary(scanned),
        "unreadable": [{"team": r["team"], "repo": r["repo"], "source": r["source"], "error": r["error"]}
                       for r in rows if r["error"]],
        "skipped_files": sum(len(r.get("skipped_files") or []) for r in rows),
        "mean_risk": round(sum(scores) / len(scores), 2) if scores else None,
        "riskiest": [
            {"team": r["team"], "repo": r["repo"], "source": r["source"], "score": r["risk"]["score"], "level": r["risk"]["level"],
             "top_reason": r["risk"]["reasons"][0]["why"] if r["risk"]["reasons"] else ""}
            for r in scanned[:10] if r["risk"]["score"] > 0
        ],
    }


# ---------------------------------------------------------------- scale health


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def skill_adoption(scanned: list[dict[str, Any]], groups: dict[str, list[dict]], defaults: list[str]) -> dict[str, Any]:
    """Per team: does it use the registry's skills, build its own, or both. A team-local skill that rewrites a
    registry skill counts as its own (it is the work the registry should have saved); the registry skills a
    render pre-selects are counted apart, since keeping a default is not a choice."""
    teams: dict[str, dict[str, Any]] = {}
    for row in scanned:
        team = teams.setdefault(row["team"] or row["source"], {"registry": set(), "own": 0})
        for skill in row["skills"]["registry"]:
            if skill["status"] != "deleted":
                team["registry"].add(skill["name"])
        team["own"] += len(row["skills"]["local"])
    counts = {"registry_only": 0, "both": 0, "own_only": 0, "none": 0}
    beyond = 0
    for team in teams.values():
        uses, own = bool(team["registry"]), team["own"] > 0
        counts["both" if uses and own else "registry_only" if uses else "own_only" if own else "none"] += 1
        beyond += bool(team["registry"] - set(defaults))
    with_skills = len(teams) - counts["none"]
    return {
        "teams": len(teams),
        **counts,
        "registry_share": round((counts["registry_only"] + counts["both"]) / with_skills, 4) if with_skills else None,
        "registry_only_share": round(counts["registry_only"] / with_skills, 4) if with_skills else None,
        "own_only_share": round(counts["own_only"] / with_skills, 4) if with_skills else None,
        "beyond_defaults_share": round(beyond / len(teams), 4) if teams else None,
        "defaults": list(defaults),
    }


def adoption_lag(scanned: list[dict[str, Any]], release_dates: dict[str, int]) -> list[dict[str, Any]]:
    """Per release: days from its tag to each repository's first commit recording it (repositories with git
    history only), and how many with history have not taken it yet."""
    with_history = [r for r in scanned if (r.get("dates") or {}).get("rendered")]
    out = []
    for release, tagged in release_dates.items():
        lags = []
        for row in with_history:
            took = row["dates"]["took"].get(release)
            if took is not None:
                lags.append(max(0.0, (git_facts.parse_iso(took) - tagged) / 86400))
        pending = sum(1 for r in with_history if release not in r["dates"]["took"]
                      and versions.compare(r["version"], release) < 0)
        out.append({"release": release, "tagged_at": git_facts.iso(tagged) if tagged else None, "repos_with_history": len(with_history),
                    "took": len(lags), "pending": pending, "median_days": _quantile(lags, 0.5), "p90_days": _quantile(lags, 0.9),
                    "max_days": round(max(lags), 2) if lags else None})
    return out


def onboarding(scanned: list[dict[str, Any]]) -> dict[str, Any]:
    """Days from a repository's first commit to the foundation's first render in it."""
    days = [r["dates"]["onboarding_days"] for r in scanned if (r.get("dates") or {}).get("onboarding_days") is not None]
    return {"repos_with_history": len(days), "rendered_in_first_commit": sum(1 for d in days if d == 0),
            "median_days": _quantile(days, 0.5), "p90_days": _quantile(days, 0.9), "max_days": round(max(days), 2) if days else None}


# ---------------------------------------------------------------- who can do what


CAPABILITY_DECISIONS = ("push", "publish", "infrastructure")


def capability_summary(scanned: list[dict[str, Any]]) -> dict[str, Any]:
    """Per capability, how many repositories let an agent do it without asking, ask, or refuse; and per team the
    most an agent can do in any of its repositories (each repository named)."""
    summary: dict[str, dict[str, int]] = {c: {"allow": 0, "ask": 0, "deny": 0} for c in CAPABILITY_DECISIONS}
    extra = {"sandbox_on": 0, "sandbox_off": 0, "with_network_hosts": 0, "with_mcp_write_tools": 0, "agents": {}}
    teams: dict[str, dict[str, Any]] = {}
    for row in scanned:
        caps = row.get("capabilities")
        if not caps:
            continue
        for capability in CAPABILITY_DECISIONS:
            summary[capability][caps[capability]] += 1
        extra["sandbox_on" if caps["sandbox"] else "sandbox_off"] += 1
        extra["with_network_hosts"] += bool(caps["network_hosts"])
        extra["with_mcp_write_tools"] += bool(caps["mcp_write_tools"])
        for agent in caps["agents"]:
            extra["agents"][agent] = extra["agents"].get(agent, 0) + 1
        team = teams.setdefault(row["team"] or row["source"], {"team": row["team"] or row["source"], "repos": [],
                                                                **{c: "deny" for c in CAPABILITY_DECISIONS},
                                                                "network_hosts": set(), "mcp_write_tools": set(),
                                                                "sandbox_off_repos": 0, "agents": set()})
        team["repos"].append(row["repo"])
        for capability in CAPABILITY_DECISIONS:
            if ORDER[caps[capability]] > ORDER[team[capability]]:
                team[capability] = caps[capability]
        team["network_hosts"].update(caps["network_hosts"])
        team["mcp_write_tools"].update(t["tool"] for t in caps["mcp_write_tools"])
        team["sandbox_off_repos"] += not caps["sandbox"]
        team["agents"].update(caps["agents"])
    by_team = [{**t, "repos": sorted(t["repos"]), "network_hosts": sorted(t["network_hosts"]),
                "mcp_write_tools": sorted(t["mcp_write_tools"]), "agents": sorted(t["agents"])}
               for t in sorted(teams.values(), key=lambda t: str(t["team"]))]
    return {"summary": summary, **extra, "agents": dict(sorted(extra["agents"].items())), "by_team": by_team}


ORDER = {"deny": 0, "ask": 1, "allow": 2}
