"""The terminal view: the riskiest repositories first, then the organisation's figures."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

LEVEL_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "green"}


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def show(data: dict[str, Any], *, top: int = 25, console: Console | None = None, stderr_only: bool = False) -> None:
    console = console or Console(stderr=stderr_only)
    org = data["org"]
    adoption = org["version_adoption"]
    latest = data["latest_release"] or "unknown (no release tag; pass --latest)"
    console.print(f"[bold]Fleet report[/] - {org['repos']} repositories, {org['teams']} teams, latest release {latest}, "
                  f"posture check: {data['posture_check']}")

    rows = data["repos"]
    scanned = [row for row in rows if row["risk"] is not None]
    shown = scanned if top <= 0 else scanned[:top]
    table = Table(title=f"Repositories by risk ({len(shown)} of {len(scanned)} shown)", title_justify="left")
    table.add_column("risk", justify="right", no_wrap=True)
    table.add_column("team", no_wrap=True, max_width=28)
    table.add_column("version", no_wrap=True)
    table.add_column("profile", no_wrap=True)
    table.add_column("flags", overflow="fold")
    table.add_column("find.", justify="right", no_wrap=True)
    table.add_column("skills r/s/m/l", no_wrap=True)
    table.add_column("MCP v/u", no_wrap=True)
    for row in shown:
        reg = row["skills"]["registry"]
        skills = f"{len(reg)}/{sum(s['stale'] for s in reg)}/{sum(s['modified'] for s in reg)}/{len(row['skills']['local'])}"
        vetted = sum(1 for s in row["mcp_servers"] if s["vetted"])
        unvetted = len(row["mcp_servers"]) - vetted
        behind = row["releases_behind"]
        version = (row["version"] or "-") + (f" [red]-{behind}[/]" if behind else "")
        level = row["risk"]["level"]
        table.add_row(f"[{LEVEL_STYLE[level]}]{row['risk']['score']}[/]", _team(row), version, row["profile"] or "-",
                      ", ".join(dict.fromkeys(f["code"] for f in row["flags"])) or "-", str(len(row["findings"])),
                      skills, f"{vetted}/" + (f"[red]{unvetted}[/]" if unvetted else "0"))
    console.print(table)
    console.print("[dim]version -N: N releases behind; skills: registry/stale/modified/team-local; MCP: vetted/unvetted[/]")
    broken = [row for row in rows if row["error"]]
    if broken:
        console.print(f"[bold red]Repositories with errors ({len(broken)})[/]")
        for row in broken[: (top if top > 0 else len(broken))]:
            console.print(f"  [red]x[/] {_escape(row['source'])}: {_escape(row['error'])}")
        if top > 0 and len(broken) > top:
            console.print(f"  ... and {len(broken) - top} more (--top 0 shows all, --json lists every one)")

    console.print(f"[bold]Organisation[/]: on latest {adoption['on_latest']}/{org['scanned']} ({pct(adoption['on_latest_fraction'])}), "
                  f"reuse fraction {pct(org['reuse']['fraction'])} ({org['reuse']['registry_skills_in_use']} registry / "
                  f"{org['reuse']['local_skills_in_use']} team-local skills), {org['teams_with_findings']} teams with findings, "
                  f"{org['flagged_repos']} flagged repositories, {org['errors']} unreadable, mean risk {org['mean_risk']}")
    versions = Table(title="Version adoption", title_justify="left")
    versions.add_column("version")
    versions.add_column("repos", justify="right")
    versions.add_column("share", justify="right")
    for item in adoption["versions"][:12]:
        versions.add_row(item["version"] + (" (latest)" if item["is_latest"] else ""), str(item["repos"]), pct(item["fraction"]))
    console.print(versions)
    if org["flags_by_code"]:
        flags = Table(title="High-blast-radius flags", title_justify="left")
        flags.add_column("flag")
        flags.add_column("repos", justify="right")
        flags.add_column("meaning")
        for item in org["flags_by_code"]:
            flags.add_row(item["code"], str(item["repos"]), item["description"])
        console.print(flags)
    if org["mcp_servers"]:
        servers = Table(title="MCP servers by teams", title_justify="left")
        for column in ("server", "teams", "repos", "vetted", "risk"):
            servers.add_column(column)
        for item in org["mcp_servers"][:15]:
            servers.add_row(_escape(item["name"]), str(item["teams"]), str(item["repos"]),
                            "yes" if item["vetted"] else f"[red]no ({item['unvetted_repos']} repos)[/]", item["risk"])
        console.print(servers)
    for title, key in (("Promotion candidates (team-local skills alike across teams)", "promotion_candidates"),
                       ("Team-local skills that re-write a registry skill", "registry_duplicates")):
        if org[key]:
            table = Table(title=title, title_justify="left")
            for column in ("skill", "teams", "copies", "min similarity", "teams named"):
                table.add_column(column, overflow="fold")
            for item in org[key][:10]:
                name = item["name"] + (f" ~ {item['registry_skill']}" if "registry_skill" in item else "")
                table.add_row(_escape(name), str(item["team_count"]), str(item["copies"]), f"{item['min_similarity']:.2f}",
                              _escape(", ".join(item["teams"][:8]) + (" ..." if len(item["teams"]) > 8 else "")))
            console.print(table)
    if data.get("audit"):
        audit = data["audit"]
        table = Table(title=f"Audit logs: {audit['denials']} denials, {audit['asks']} asks ({audit['files']} logs)", title_justify="left")
        for column in ("family", "deny", "ask"):
            table.add_column(column)
        for item in audit["by_family"][:12]:
            table.add_row(item["family"], str(item["deny"]), str(item["ask"]))
        console.print(table)
    trends = data.get("trends")
    if trends and len(trends["runs"]) >= 2:
        table = Table(title=f"Trends across {len(trends['runs'])} recorded runs", title_justify="left")
        for column in ("recorded", "repos", "on latest", "reuse", "teams with findings", "flagged", "mean risk"):
            table.add_column(column)
        for run in trends["runs"][-10:]:
            table.add_row(run["recorded_at"], str(run["repos"]), pct(run["on_latest"]), pct(run["reuse_fraction"]),
                          str(run["teams_with_findings"]), str(run["flagged_repos"]), str(run["mean_risk"]))
        console.print(table)
    elif trends:
        console.print("Trends: one run recorded so far; they appear from the second --record run.")


def _team(row: dict[str, Any]) -> str:
    return _escape(row["team"] or row["source"])


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(str(text))
