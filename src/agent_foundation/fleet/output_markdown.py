"""`--markdown`: the report as Markdown, for a pull request, an issue or a wiki page."""

from __future__ import annotations

from typing import Any

from .output_terminal import repo_label


def _cell(text: Any) -> str:
    """One table cell: pipes and line breaks that would end it, and HTML tags, made inert."""
    text = str(text if text is not None else "-")
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ").replace("<", "&lt;")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out + [""]


def table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    """A Markdown table as lines (cells escaped), then a blank line; shared with `rollout --markdown`."""
    return _table(headers, rows)


def render(data: dict[str, Any]) -> str:
    org = data["org"]
    adoption = org["version_adoption"]
    lines = [
        "# Agent foundation: fleet report",
        "",
        f"Generated {data['generated_at']} - {org['repos']} repositories, {org['teams']} teams, "
        f"latest release {data['latest_release'] or 'unknown'}.",
        "",
        f"- On the latest release: {adoption['on_latest']} of {org['scanned']} ({_pct(adoption['on_latest_fraction'])})",
        f"- Teams using registry skills: {_pct(org['skill_adoption']['registry_share'])} of teams with skills "
        f"({org['skill_adoption']['registry_only']} registry only, {org['skill_adoption']['both']} both); only their own: "
        f"{_pct(org['skill_adoption']['own_only_share'])}; chose beyond the defaults: {_pct(org['skill_adoption']['beyond_defaults_share'])}",
        f"- Reuse fraction (skill copies): {_pct(org['reuse']['fraction'])} ({org['reuse']['registry_skills_in_use']} registry skills, "
        f"{org['reuse']['local_skills_in_use']} team-local skills in use)",
        f"- Repositories with a high-blast-radius flag: {org['high_blast_repos']}",
        f"- Teams with posture findings: {org['teams_with_findings']} ({org['findings_total']} findings)",
        f"- Repositories with high-blast-radius flags: {org['flagged_repos']}",
        f"- Unreadable repositories: {org['errors']}",
        f"- Mean risk score: {org['mean_risk'] if org['mean_risk'] is not None else '-'}",
        "",
        "## Repositories by risk",
        "",
    ]
    rows = []
    for row in data["repos"]:
        if row["risk"] is None:
            rows.append(["error", repo_label(row), row["version"], row["profile"], "", "", "", "", row["error"]])
            continue
        reg = row["skills"]["registry"]
        vetted = sum(1 for s in row["mcp_servers"] if s["vetted"])
        rows.append([
            f"{row['risk']['score']} ({row['risk']['level']})", repo_label(row), row.get("release") or row["version"], row["profile"],
            row["releases_behind"] if row["releases_behind"] is not None else "-",
            ", ".join(dict.fromkeys(f["code"] for f in row["flags"])) or "-",
            len(row["findings"]),
            f"{len(reg)} registry ({sum(s['stale'] for s in reg)} stale, {sum(s['modified'] for s in reg)} modified), {len(row['skills']['local'])} local",
            f"{vetted} vetted, {len(row['mcp_servers']) - vetted} unvetted" + (f"; {row['error']}" if row["error"] else ""),
        ])
    lines += _table(["risk", "team / repository", "version", "profile", "behind", "flags", "findings", "skills", "MCP servers"], rows)
    lines += ["## Who can do what without asking", ""]
    capable = [row for row in data["repos"] if row.get("capabilities")]
    lines += _table(["team / repository", "push", "publish", "infrastructure", "network hosts", "MCP write tools", "sandbox", "agents"],
                    [[repo_label(r), r["capabilities"]["push"], r["capabilities"]["publish"], r["capabilities"]["infrastructure"],
                      ", ".join(r["capabilities"]["network_hosts"]) or "-",
                      ", ".join(f"{t['tool']} ({t['decision']})" for t in r["capabilities"]["mcp_write_tools"]) or "-",
                      "on" if r["capabilities"]["sandbox"] else "off", ", ".join(r["capabilities"]["agents"])] for r in capable])
    if org["unreadable"]:
        lines += [f"## Unreadable repositories ({len(org['unreadable'])})", ""]
        lines += _table(["repository", "team", "error"], [[u["source"], u["team"], u["error"]] for u in org["unreadable"]])
    skipped = [(r, item) for r in data["repos"] for item in r.get("skipped_files") or []]
    if skipped:
        lines += [f"## Files not read ({len(skipped)})", "", "Links are never followed; files over 8 MB are not read.", ""]
        lines += _table(["team / repository", "file", "why", "size (bytes)", "link target"],
                        [[repo_label(r), i["path"], i["reason"], i["size"], i["target"]] for r, i in skipped])
    lines += ["## Scale health", ""]
    lines += _table(["release", "tagged", "repositories took it", "pending", "median days", "p90 days", "max days"],
                    [[l["release"], (l["tagged_at"] or "-")[:10], l["took"], l["pending"], l["median_days"], l["p90_days"], l["max_days"]]
                     for l in org["adoption_lag"]])
    onboarding = org["onboarding"]
    lines += [f"Onboarding (first commit to foundation render, {onboarding['repos_with_history']} repositories with git history): "
              f"median {onboarding['median_days'] if onboarding['median_days'] is not None else '-'} days, p90 "
              f"{onboarding['p90_days'] if onboarding['p90_days'] is not None else '-'} days.", ""]
    lines += ["## Version adoption", ""]
    lines += _table(["version", "repositories", "share"],
                    [[v["version"] + (" (latest)" if v["is_latest"] else ""), v["repos"], _pct(v["fraction"])] for v in adoption["versions"]])
    if org["flags_by_code"]:
        lines += ["## High-blast-radius flags", ""]
        lines += _table(["flag", "repositories", "meaning"], [[f["code"], f["repos"], f["description"]] for f in org["flags_by_code"]])
    if org["findings_by_code"]:
        lines += ["## Posture findings", ""]
        lines += _table(["finding", "count"], [[f["code"], f["count"]] for f in org["findings_by_code"]])
    exceptions = data.get("exceptions") or {}
    if exceptions.get("all"):
        lines += [f"## Exceptions ({exceptions['total']}; {len(exceptions['expired'])} expired, "
                  f"{len(exceptions['expiring'])} expiring within {exceptions['expiring_within_days']} days)", ""]
        lines += _table(["team", "kind", "name", "expires", "days left", "status", "approved by", "reason"],
                        [[e["team"], e["kind"], e["name"], e["expires"], e["days_left"], e["status"], e["approved_by"], e["reason"]]
                         for e in exceptions["all"]])
    lines += ["## Registry skills in use", ""]
    lines += _table(["skill", "repositories", "current", "stale", "modified"],
                    [[s["name"], s["repos"], s["current"], s["stale"], s["modified"]] for s in org["reuse"]["by_skill"]])
    if org["mcp_servers"]:
        lines += ["## MCP servers by teams", ""]
        lines += _table(["server", "teams", "repositories", "vetted", "risk"],
                        [[s["name"], s["teams"], s["repos"], "yes" if s["vetted"] else f"no ({s['unvetted_repos']} repos)", s["risk"]]
                         for s in org["mcp_servers"]])
    lines += ["## Promotion candidates", ""]
    if org["promotion_candidates"]:
        lines += _table(["skill", "teams", "copies", "min similarity", "members (team: skill)"],
                        [[c["name"], c["team_count"], c["copies"], f"{c['min_similarity']:.2f}",
                          ", ".join(f"{m['team']}: {m['skill']}" for m in c["members"])] for c in org["promotion_candidates"]])
    else:
        lines += ["No team-local skill is alike across two or more teams.", ""]
    if org["registry_duplicates"]:
        lines += ["## Team-local skills that re-write a registry skill", ""]
        lines += _table(["registry skill", "local copies", "teams"],
                        [[d["registry_skill"], d["copies"], ", ".join(d["teams"])] for d in org["registry_duplicates"]])
    if data.get("audit"):
        audit = data["audit"]
        lines += [f"## Audit logs ({audit['denials']} denials, {audit['asks']} asks)", ""]
        lines += _table(["family", "deny", "ask"], [[f["family"], f["deny"], f["ask"]] for f in audit["by_family"]])
        lines += _table(["team", "deny", "ask"], [[t["team"], t["deny"], t["ask"]] for t in audit["by_team"]])
    trends = data.get("trends")
    if trends and trends["runs"]:
        lines += [f"## Trends ({len(trends['runs'])} recorded runs)", ""]
        lines += _table(["recorded", "repositories", "on latest", "teams on registry skills", "teams own only", "latest lag days",
                         "onboarding days", "teams with findings", "flagged", "mean risk"],
                        [[r["recorded_at"], r["repos"], _pct(r["on_latest"]), _pct(r.get("registry_share")), _pct(r.get("own_only_share")),
                          r.get("latest_lag_days"), r.get("onboarding_days"), r["teams_with_findings"], r["flagged_repos"], r["mean_risk"]]
                         for r in trends["runs"]])
    return "\n".join(lines).rstrip() + "\n"
