"""The rollout report as a terminal table (rich) and as Markdown; `--json` is the data itself (fleet's writer)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..fleet.output_markdown import table as md_table

STATUS_WORD = {"updated": "updated", "current": "already current", "branch-pushed": "branch already pushed",
               "conflict": "conflict", "failed": "failed"}
STATUS_STYLE = {"updated": "green", "current": "dim", "branch-pushed": "cyan", "conflict": "bold yellow", "failed": "bold red"}


def _name(row: dict[str, Any]) -> str:
    return str(row["team"] or row["source"])


def _versions(row: dict[str, Any]) -> str:
    old, new = row["from_version"] or "-", row["to_version"]
    return f"{old} -> {new}" if new and new != old else old


def detail(row: dict[str, Any], push: bool) -> str:
    status = row["status"]
    if status == "updated":
        where = "pushed" if row["pushed"] else ("committed, not pushed" if not push else "committed")
        how = ", rendered directly" if row.get("path") == "fast" else ""
        return f"{row['branch']} @ {str(row['commit'])[:10]} ({where}{how})"
    if status == "current":
        return "nothing to do"
    if status == "branch-pushed":
        return f"{row['branch']} is already on the remote (open or merge its pull request)"
    if status == "conflict":
        return f"conflicts in {', '.join(row['conflicts'])}; resolve locally: {row['resolve']} - {row['reason'].split('To finish: ')[-1]}"
    return str(row["reason"])


def totals_line(data: dict[str, Any]) -> str:
    t = data["totals"]
    line = (f"{t['repos']} repositories: {t['updated']} updated ({t.get('fast', 0)} by the fast path), "
            f"{t['current']} already current, {t['branch-pushed']} branch already pushed, {t['conflict']} conflict, "
            f"{t['failed']} failed")
    if not data.get("complete", True):
        expected = len(range(data["shard"]["index"] - 1, data["sources"], data["shard"]["count"])) if data.get("shard") else data["sources"]
        line += f" - INCOMPLETE: {expected - t['repos']} of {expected} not done (the run was stopped)"
    return line


def scope(data: dict[str, Any]) -> str:
    shard = data.get("shard")
    return f"shard {shard['index']} of {shard['count']}" if shard else "all sources"


def show(data: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    mode = "pushed to each remote" if data["push"] else "committed in the work clones only (no --push)"
    console.print(f"[bold]Rollout of {data['version']}[/] on branch {escape(data['branch'])} ({scope(data)}) - {mode}; "
                  f"work folder {escape(str(data['workdir']))}; {data['seconds']} s")
    table = Table(title_justify="left", show_lines=False)
    table.add_column("status", no_wrap=True)
    table.add_column("repository", no_wrap=True, max_width=32)
    table.add_column("version", no_wrap=True)
    table.add_column("details", overflow="fold")
    for row in data["repos"]:
        style = STATUS_STYLE[row["status"]]
        table.add_row(f"[{style}]{STATUS_WORD[row['status']]}[/]", escape(_name(row)), escape(_versions(row)),
                      escape(detail(row, data["push"])))
    console.print(table)
    style = "green" if data["ok"] else "bold red"
    console.print(f"[{style}]{totals_line(data)}[/]")
    if not data["push"] and data["totals"]["updated"]:
        console.print("Nothing left this machine. Run again with --push to push the branches (the commits are kept).")


def markdown(data: dict[str, Any]) -> str:
    mode = "pushed to each remote" if data["push"] else "committed locally, not pushed"
    lines = [f"# Agent foundation: rollout of {data['version']}", "",
             f"Generated {data['generated_at']} - branch `{data['branch']}`, {scope(data)}, {mode}.", "",
             f"**{totals_line(data)}**", ""]
    lines += md_table(["status", "repository", "version", "details"],
                      [[STATUS_WORD[r["status"]], _name(r), _versions(r), detail(r, data["push"])] for r in data["repos"]])
    stuck = [r for r in data["repos"] if r["status"] == "conflict"]
    if stuck:
        lines += ["## Resolve locally", ""]
        for row in stuck:
            lines += [f"- **{_name(row)}**: conflicts in {', '.join(f'`{c}`' for c in row['conflicts'])}", "",
                      "  ```", f"  {row['resolve']}", "  ```", "", f"  {row['reason']}", ""]
    return "\n".join(lines).rstrip() + "\n"
