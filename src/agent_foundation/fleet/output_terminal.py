"""The terminal view: the riskiest repositories first, then the organisation's figures."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

LEVEL_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "green"}


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


PIPED_WIDTH = 240  # piped or redirected output: wide enough that no column is dropped or squeezed
WIDE_WIDTH = 140  # below this, the narrow layout: fewer, stacked columns that rich never squeezes to nothing


def repo_label(row: dict[str, Any]) -> str:
    """`team` when the repository is named after its team, else `team / repository`: a team's second
    repository is told apart in every table."""
    team = row.get("team") or row["source"]
    name = row.get("repo") or ""
    return team if not name or name == team else f"{team} / {name}"


def show(data: dict[str, Any], *, top: int = 25, console: Console | None = None, stderr_only: bool = False) -> None:
    if console is None:
        console = Console(stderr=stderr_only)
        if not console.is_terminal:
            console = Console(stderr=stderr_only, width=PIPED_WIDTH, no_color=True)
    org = data["org"]
    adoption = org["version_adoption"]
    latest = data["latest_release"] or "unknown (no release tag; pass --latest)"
    console.print(f"[bold]Fleet report[/] - {org['repos']} repositories, {org['teams']} teams, latest release {latest}, "
                  f"posture check: {data['posture_check']}")

    rows = data["repos"]
    scanned = [row for row in rows if row["risk"] is not None]
    shown = scanned if top <= 0 else scanned[:top]
    narrow = console.width < WIDE_WIDTH
    table = _table(f"Repositories by risk ({len(shown)} of {len(scanned)} shown)", narrow)
    table.add_column("risk", justify="right", no_wrap=True)
    if narrow:  # the profile under the name, each flag on its own line, two-line headings
        table.add_column("team / repository\nprofile", overflow="fold", ratio=3)
        table.add_column("version", no_wrap=True)
        table.add_column("flags", overflow="fold", ratio=4)
        table.add_column("find", justify="right", no_wrap=True)
        table.add_column("skills\nr/s/m/l", no_wrap=True)
        table.add_column("MCP\nv/u", no_wrap=True)
    else:
        table.add_column("team / repository", no_wrap=True, max_width=48)
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
        version = (row.get("release") or row["version"] or "-") + (f" -{behind}" if behind else "")
        level = row["risk"]["level"]
        codes = list(dict.fromkeys(f["code"] for f in row["flags"]))
        mcp = f"{vetted}/" + (f"[red]{unvetted}[/]" if unvetted else "0")
        score = f"[{LEVEL_STYLE[level]}]{row['risk']['score']}[/]"
        if narrow:
            table.add_row(score, _escape(repo_label(row)) + f"\n[dim]{_escape(row['profile'] or '-')}[/]", _escape(version),
                          "\n".join(codes) or "-", str(len(row["findings"])), skills, mcp)
        else:
            table.add_row(score, _escape(repo_label(row)), _escape(version), _escape(row["profile"] or "-"),
                          ", ".join(codes) or "-", str(len(row["findings"])), skills, mcp)
    console.print(table)
    console.print("[dim]version -N: N releases behind; skills: registry/stale/modified/team-local; MCP: vetted/unvetted[/]")
    broken = org.get("unreadable") or [{"source": r["source"], "error": r["error"]} for r in rows if r["error"]]
    if broken:
        console.print(f"[bold red]Unreadable repositories ({len(broken)})[/]")
        for item in broken[: (top if top > 0 else len(broken))]:
            console.print(f"  [red]x[/] {_escape(item['source'])}: {_escape(item['error'])}")
        if top > 0 and len(broken) > top:
            console.print(f"  ... and {len(broken) - top} more (--top 0 shows all, --json lists every one)")
    skipped = [(row, item) for row in rows for item in row.get("skipped_files") or []]
    if skipped:
        console.print(f"[bold]Files not read ({len(skipped)}): links are never followed, files over 8 MB are not read[/]")
        for row, item in skipped[: (top if top > 0 else len(skipped))]:
            size = f", {item['size']} bytes" if item.get("size") is not None else ""
            target = f" -> {item['target']}" if item.get("target") else ""
            console.print(f"  {_escape(repo_label(row))}: {_escape(item['path'])} ({item['reason']}{size}){_escape(target)}")
    _capabilities(console, data, top)

    skills = org["skill_adoption"]
    console.print(f"[bold]Skills by team[/]: {pct(skills['registry_share'])} of teams with skills use registry skills "
                  f"({skills['registry_only']} registry only, {skills['both']} both), {pct(skills['own_only_share'])} only their own "
                  f"({skills['own_only']}); {pct(skills['beyond_defaults_share'])} chose registry skills beyond the pre-selected defaults")
    lag = [item for item in org["adoption_lag"] if item["took"] or item["pending"]]
    if lag:
        table = Table(title="Adoption lag: days from a release's tag to each repository taking it (repositories with git history)", title_justify="left")
        for column in ("release", "tagged", "took", "pending", "median days", "p90 days", "max days"):
            table.add_column(column)
        for item in lag[-8:]:
            table.add_row(item["release"], str(item["tagged_at"] or "-")[:10], str(item["took"]), str(item["pending"]),
                          _num(item["median_days"]), _num(item["p90_days"]), _num(item["max_days"]))
        console.print(table)
    onboarding = org["onboarding"]
    if onboarding["repos_with_history"]:
        console.print(f"Onboarding: first commit to foundation render, median {_num(onboarding['median_days'])} days, "
                      f"p90 {_num(onboarding['p90_days'])} ({onboarding['repos_with_history']} repositories with history, "
                      f"{onboarding['rendered_in_first_commit']} rendered in their first commit)")
    exceptions = data.get("exceptions") or {}
    if exceptions.get("all"):
        console.print(f"[bold]Exceptions[/] ({exceptions['total']}): {len(exceptions['expired'])} expired, "
                      f"{len(exceptions['expiring'])} expiring within {exceptions['expiring_within_days']} days")
        for entry in exceptions["expired"] + exceptions["expiring"]:
            style = "red" if entry["status"] == "expired" else "yellow"
            console.print(f"  [{style}]{entry['status']}[/] {_escape(str(entry['team']))}: {entry['kind']} "
                          f"{_escape(entry['name'])}, expires {entry['expires']} ({entry['days_left']} days), approved by {_escape(entry['approved_by'])}")
    console.print(f"[bold]Organisation[/]: on latest {adoption['on_latest']}/{org['scanned']} ({pct(adoption['on_latest_fraction'])}), "
                  f"reuse fraction {pct(org['reuse']['fraction'])} ({org['reuse']['registry_skills_in_use']} registry / "
                  f"{org['reuse']['local_skills_in_use']} team-local skills), {org['teams_with_findings']} teams with findings, "
                  f"{org['flagged_repos']} flagged repositories, {org['errors']} unreadable, mean risk {'-' if org['mean_risk'] is None else org['mean_risk']}")
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
            table = _table(title, narrow)
            for column in ("skill", "teams", "copies", "min similarity" if not narrow else "min\nsim.", "teams named"):
                table.add_column(column, overflow="fold", ratio=3 if column in ("skill", "teams named") else None)
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
        table = _table(f"Trends across {len(trends['runs'])} recorded runs", narrow)
        columns = [("recorded", lambda run: run["recorded_at"][:10] if narrow else run["recorded_at"]),
                   ("repos", lambda run: str(run["repos"])),
                   ("on latest", lambda run: pct(run["on_latest"])),
                   ("teams on registry skills", lambda run: pct(run.get("registry_share"))),
                   ("teams own only", lambda run: pct(run.get("own_only_share"))),
                   ("latest lag days", lambda run: _num(run.get("latest_lag_days"))),
                   ("onboarding days", lambda run: _num(run.get("onboarding_days"))),
                   ("teams with findings", lambda run: str(run["teams_with_findings"])),
                   ("flagged", lambda run: str(run["flagged_repos"])),
                   ("high blast", lambda run: _num(run.get("high_blast_repos"))),
                   ("mean risk", lambda run: str(run["mean_risk"]))]
        if narrow:  # the figures a lead follows week to week; --markdown and the dashboard carry every one
            keep = {"recorded", "repos", "on latest", "teams on registry skills", "flagged", "high blast", "mean risk"}
            columns = [(name.replace("teams on registry skills", "registry\nskills"), cell) for name, cell in columns if name in keep]
        for name, _ in columns:
            table.add_column(name.replace("on latest", "on\nlatest").replace("high blast", "high\nblast").replace("mean risk", "mean\nrisk") if narrow else name,
                             justify="left" if name == "recorded" else "right")
        for run in trends["runs"][-10:]:
            table.add_row(*(cell(run) for _, cell in columns))
        console.print(table)
    elif trends:
        console.print("Trends: one run recorded so far; they appear from the second --record run.")


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


DECISION_STYLE = {"allow": "bold red", "ask": "yellow", "deny": "green"}


def _capabilities(console: Console, data: dict[str, Any], top: int) -> None:
    """Who can do what: one row per repository (team / repository), most permissive first."""
    rows = [row for row in data["repos"] if row.get("capabilities")]
    if not rows:
        return
    order = {"allow": 0, "ask": 1, "deny": 2}
    rows.sort(key=lambda r: (sum(order[r["capabilities"][c]] for c in ("push", "publish", "infrastructure")),
                             r["capabilities"]["sandbox"], repo_label(r)))
    summary = data["org"]["capabilities"]["summary"]
    shown = rows if top <= 0 else rows[:top]
    title = (f"Who can do what without asking ({len(shown)} of {len(rows)} repositories; push allowed in "
             f"{summary['push']['allow']}, publish in {summary['publish']['allow']}, infrastructure in "
             f"{summary['infrastructure']['allow']})")
    narrow = console.width < WIDE_WIDTH
    table = _table(title, narrow)
    if narrow:  # hosts and MCP write tools counted (--json, --markdown and the dashboard name them)
        columns = ("team / repository", "push", "publish", "infra", "hosts", "MCP\nwrites", "sandbox", "agents")
    else:
        columns = ("team / repository", "push", "publish", "infra", "network hosts", "MCP write tools", "sandbox", "agents")
    for column in columns:
        table.add_column(column, overflow="fold", ratio=3 if column in ("team / repository", "agents") else None,
                         no_wrap=column in ("push", "publish", "infra", "sandbox"))
    for row in shown:
        caps = row["capabilities"]
        decisions = [f"[{DECISION_STYLE[caps[c]]}]{caps[c]}[/]" for c in ("push", "publish", "infrastructure")]
        sandbox = "on" if caps["sandbox"] else "[red]off[/]"
        if narrow:
            allowed = sum(1 for t in caps["mcp_write_tools"] if t["decision"] == "allow")
            writes = str(len(caps["mcp_write_tools"])) + (f" [red]({allowed} allowed)[/]" if allowed else "")
            table.add_row(_escape(repo_label(row)), *decisions, str(len(caps["network_hosts"])), writes, sandbox,
                          _escape("\n".join(caps["agents"])))
            continue
        tools = [f"{t['tool'].removeprefix('mcp__')} ({t['decision']})" for t in caps["mcp_write_tools"]]
        table.add_row(_escape(repo_label(row)), *decisions,
                      _escape(", ".join(caps["network_hosts"][:6]) + (" ..." if len(caps["network_hosts"]) > 6 else "")) or "-",
                      _escape(", ".join(tools[:4]) + (" ..." if len(tools) > 4 else "")) or "-",
                      sandbox, _escape(", ".join(caps["agents"])))
    console.print(table)


def _table(title: str, narrow: bool) -> Table:
    """A table with its title on the left; narrow: light rules and no outer edge, which leaves the columns the
    width (seven columns lose 16 characters of frame in the full grid)."""
    if narrow:
        return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
    return Table(title=title, title_justify="left")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(str(text))
