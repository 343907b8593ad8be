"""`--html`: one self-contained page (inline CSS and SVG charts; no script, font or style from elsewhere).

Every string that comes from a team repository (team names, skill names, server names, error messages) is
HTML-escaped: a fleet report must not run what a team repository wrote.
"""

from __future__ import annotations

from html import escape
from typing import Any

LEVEL_COLOURS = {"critical": "#b91c1c", "high": "#ea580c", "medium": "#ca8a04", "low": "#16a34a"}
SEVERITY_COLOURS = {"critical": "#7f1d1d", "error": "#dc2626", "high": "#dc2626", "warning": "#f59e0b", "medium": "#f59e0b"}
BLUE, TEAL, GREY, RED = "#2563eb", "#0d9488", "#94a3b8", "#dc2626"
VERSION_PALETTE = ["#0d9488", "#2563eb", "#60a5fa", "#a78bfa", "#f59e0b", "#f97316", "#94a3b8"]  # newest first

CSS = """
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#0f172a;background:#f1f5f9}
header{background:#0f172a;color:#f8fafc;padding:20px 32px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#cbd5e1}
main{padding:20px 32px;max-width:1400px;margin:auto}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-bottom:16px}
.kpi{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 2px #0001}.kpi b{display:block;font-size:26px}
.kpi span{color:#475569;font-size:12px;text-transform:uppercase;letter-spacing:.04em}.kpi.bad b{color:#b91c1c}.kpi.good b{color:#15803d}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}@media(max-width:900px){.grid{grid-template-columns:1fr}}
section{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 2px #0001;margin-bottom:16px;overflow:auto}
section h2{font-size:15px;margin:0 0 8px}section p.note{color:#64748b;margin:4px 0}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e2e8f0;vertical-align:top}
th{background:#f8fafc;position:sticky;top:0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pill{display:inline-block;border-radius:10px;padding:0 8px;color:#fff;font-size:12px;font-weight:600}
.flag{display:inline-block;background:#fee2e2;color:#991b1b;border-radius:4px;padding:0 5px;margin:1px;font-size:12px}
.err{color:#b91c1c}.muted{color:#64748b}svg text{font-family:inherit}
.legend span{display:inline-block;margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
"""


def _e(value: Any) -> str:
    return escape(str(value if value is not None else "-"), quote=True)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


# ---------------------------------------------------------------- charts (inline SVG)


def hbar_chart(items: list[tuple[str, list[tuple[float, str, str]]]], *, width: int = 600, label_width: int = 170,
               value_format: str = "{:g}", empty: str = "nothing to show") -> str:
    """Horizontal (stacked) bars: items = [(label, [(value, colour, tooltip), ...])]."""
    if not items:
        return f'<p class="note">{_e(empty)}</p>'
    bar_h, gap = 18, 6
    height = len(items) * (bar_h + gap) + 4
    top = max((sum(v for v, _, _ in parts) for _, parts in items), default=0) or 1
    room = width - label_width - 60
    out = [f'<svg role="img" viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">']
    for i, (label, parts) in enumerate(items):
        y = i * (bar_h + gap) + 2
        shown = label if len(label) <= 26 else label[:25] + "…"
        out.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end" font-size="12" fill="#334155"><title>{_e(label)}</title>{_e(shown)}</text>')
        x = float(label_width)
        for value, colour, tip in parts:
            w = room * value / top
            if w > 0:
                out.append(f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1.5):.1f}" height="{bar_h}" rx="3" fill="{colour}"><title>{_e(tip)}</title></rect>')
            x += w
        total = sum(v for v, _, _ in parts)
        out.append(f'<text x="{x + 6:.1f}" y="{y + 13}" font-size="12" fill="#0f172a">{_e(value_format.format(total))}</text>')
    out.append("</svg>")
    return "".join(out)


def line_chart(labels: list[str], series: list[tuple[str, str, list[float | None]]], *, width: int = 600, height: int = 220,
               percent: bool = False) -> str:
    """Lines over recorded runs: series = [(name, colour, values per label)]."""
    left, right, top, bottom = 44, 16, 12, 40
    values = [v for _, _, vs in series for v in vs if v is not None]
    y_max = 1.0 if percent else max(values + [1]) * 1.15
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(labels)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return x, top + plot_h * (1 - v / y_max)

    out = [f'<svg role="img" viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">']
    for k in range(5):
        v = y_max * k / 4
        y = top + plot_h * (1 - k / 4)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        text = f"{v * 100:.0f}%" if percent else f"{v:.0f}"
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#64748b">{text}</text>')
    step = max(1, n // 6)
    for i, label in enumerate(labels):
        if i % step == 0 or i == n - 1:
            x, _ = xy(i, 0)
            anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
            out.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="{anchor}" font-size="11" fill="#64748b">{_e(label[:10])}</text>')
    for name, colour, vs in series:
        points = [xy(i, v) for i, v in enumerate(vs) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for (x, y), v in zip(points, [v for v in vs if v is not None]):
            shown = f"{v * 100:.1f}%" if percent else f"{v:g}"
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{_e(name)}: {shown}</title></circle>')
    legend_x = left
    for name, colour, _ in series:
        out.append(f'<rect x="{legend_x}" y="{height - 14}" width="10" height="10" rx="2" fill="{colour}"/>'
                   f'<text x="{legend_x + 14}" y="{height - 5}" font-size="12" fill="#334155">{_e(name)}</text>')
        legend_x += 24 + 7 * len(name)
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------- the page


def _kpi(value: str, label: str, tone: str = "") -> str:
    return f'<div class="kpi {tone}"><b>{_e(value)}</b><span>{_e(label)}</span></div>'


def _section(title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{_e(note)}</p>' if note else ""
    return f"<section><h2>{_e(title)}</h2>{note_html}{body}</section>"


def _legend(entries: list[tuple[str, str]]) -> str:
    return '<div class="legend">' + "".join(f'<span><i style="background:{c}"></i>{_e(n)}</span>' for n, c in entries) + "</div>"


def render(data: dict[str, Any], *, max_rows: int = 300) -> str:
    org = data["org"]
    adoption = org["version_adoption"]
    trends = data.get("trends") or {}
    runs = trends.get("runs") or []
    unvetted_repos = sum(1 for r in data["repos"] if any(not s["vetted"] for s in r["mcp_servers"]))

    kpis = "".join([
        _kpi(f"{org['repos']}", f"repositories · {org['teams']} teams"),
        _kpi(_pct(adoption["on_latest_fraction"]), f"on latest ({data['latest_release'] or 'unknown'})",
             "good" if (adoption["on_latest_fraction"] or 0) >= 0.8 else "bad" if adoption["on_latest_fraction"] is not None else ""),
        _kpi(_pct(org["reuse"]["fraction"]), "reuse fraction (registry skills)"),
        _kpi(str(org["teams_with_findings"]), "teams with findings", "bad" if org["teams_with_findings"] else "good"),
        _kpi(str(org["flagged_repos"]), "repos with high-blast-radius flags", "bad" if org["flagged_repos"] else "good"),
        _kpi(str(unvetted_repos), "repos with unvetted MCP servers", "bad" if unvetted_repos else "good"),
        _kpi(str(org["errors"]), "unreadable repositories", "bad" if org["errors"] else ""),
    ])

    version_items = [(v["version"] + (" (latest)" if v["is_latest"] else ""),
                      [(v["repos"], TEAL if v["is_latest"] else BLUE, f"{v['version']}: {v['repos']} repos ({_pct(v['fraction'])})")])
                     for v in adoption["versions"][:15]]
    adoption_chart = hbar_chart(version_items, empty="no repository could be read")
    if len(runs) >= 2:
        from .. import versions as versions_module

        known = sorted({v for r in runs for v in r["versions"]}, key=versions_module.key, reverse=True)
        palette = {v: VERSION_PALETTE[min(i, len(VERSION_PALETTE) - 1)] for i, v in enumerate(known)}
        over_time = []
        for run in runs[-12:]:
            total = sum(run["versions"].values()) or 1
            over_time.append((str(run["recorded_at"])[:10], [(100 * run["versions"].get(v, 0) / total, palette[v],
                                                               f"{run['recorded_at']}: {v} on {run['versions'].get(v, 0)} repos")
                                                              for v in known if run["versions"].get(v)]))
        adoption_chart += ('<p class="note">Share of repositories per version, by recorded run</p>'
                           + hbar_chart(over_time, value_format="{:.0f}%") + _legend([(v, palette[v]) for v in known[:8]]))

    if len(runs) >= 2:
        labels = [str(r["recorded_at"]) for r in runs]
        trend_html = (line_chart(labels, [("reuse fraction", TEAL, [r["reuse_fraction"] for r in runs]),
                                          ("on latest release", BLUE, [r["on_latest"] for r in runs])], percent=True)
                      + line_chart(labels, [("posture findings", RED, [float(r["findings"]) for r in runs]),
                                            ("flagged repos", "#f59e0b", [float(r["flagged_repos"]) for r in runs]),
                                            ("teams with findings", "#7c3aed", [float(r["teams_with_findings"]) for r in runs])]))
        trend_note = f"{len(runs)} recorded runs"
    else:
        trend_html = ('<p class="note">Trends appear after two recorded runs: run the fleet report with '
                      '<code>--record fleet-history.sqlite</code> on a schedule.</p>')
        trend_note = ""

    severities = sorted({s for t in org["findings_by_team"] for s in t["by_severity"]},
                        key=lambda s: list(SEVERITY_COLOURS).index(s) if s in SEVERITY_COLOURS else 99)
    findings_items = [(t["team"], [(n, SEVERITY_COLOURS.get(sev, GREY), f"{t['team']}: {n} {sev}") for sev, n in t["by_severity"].items()])
                      for t in org["findings_by_team"][:15]]
    findings_chart = hbar_chart(findings_items, empty="no posture findings anywhere") + (
        _legend([(s, SEVERITY_COLOURS.get(s, GREY)) for s in severities]) if severities else "")

    scanned = [r for r in data["repos"] if r["risk"] is not None]
    risk_items = [(r["team"] or r["source"], [(r["risk"]["score"], LEVEL_COLOURS[r["risk"]["level"]],
                                               f"{r['team']}: {r['risk']['score']} - " + "; ".join(x["why"] for x in r["risk"]["reasons"]))])
                  for r in scanned[:15] if r["risk"]["score"] > 0]
    risk_chart = hbar_chart(risk_items, empty="no repository carries any risk") + _legend(list(LEVEL_COLOURS.items()))

    flag_items = [(f["code"], [(f["repos"], RED, f"{f['code']}: {f['description']}")]) for f in org["flags_by_code"]]
    flag_chart = hbar_chart(flag_items, empty="no high-blast-radius flag anywhere")
    server_items = [(s["name"], [(s["teams"], BLUE if s["vetted"] else RED,
                                  f"{s['name']}: {s['teams']} teams, {'vetted' if s['vetted'] else 'UNVETTED in ' + str(s['unvetted_repos']) + ' repos'}, risk {s['risk']}")])
                    for s in org["mcp_servers"][:15]]
    server_chart = hbar_chart(server_items, empty="no MCP server in use") + _legend([("vetted", BLUE), ("unvetted somewhere", RED)])

    charts = "".join([
        _section("Version adoption", adoption_chart),
        _section("Reuse, adoption and findings over time", trend_html, trend_note),
        _section("Riskiest teams", risk_chart),
        _section("Posture findings by team", findings_chart),
        _section("High-blast-radius flags", flag_chart),
        _section("MCP servers by number of teams", server_chart),
    ])

    rows_html = []
    for row in data["repos"][:max_rows]:
        if row["risk"] is None:
            rows_html.append(f'<tr><td><span class="pill" style="background:#475569">error</span></td><td>{_e(row["team"] or row["source"])}</td>'
                             f'<td colspan="6" class="err">{_e(row["error"])}</td></tr>')
            continue
        reg = row["skills"]["registry"]
        level = row["risk"]["level"]
        flags = "".join(f'<span class="flag" title="{_e(f["message"])}">{_e(f["code"])}</span>'
                        for f in {f["code"]: f for f in row["flags"]}.values()) or '<span class="muted">-</span>'
        unvetted = [s["name"] for s in row["mcp_servers"] if not s["vetted"]]
        behind = row["releases_behind"]
        rows_html.append(
            f'<tr><td><span class="pill" style="background:{LEVEL_COLOURS[level]}">{row["risk"]["score"]}</span></td>'
            f'<td><b>{_e(row["team"])}</b><br><span class="muted">{_e(row["source"])}</span></td>'
            f'<td>{_e(row["version"])}' + (f' <span class="err">({behind} behind)</span>' if behind else "") + "</td>"
            f'<td>{_e(row["profile"])}</td><td>{flags}</td><td class="num">{len(row["findings"])}</td>'
            f'<td>{len(reg)} registry ({sum(s["stale"] for s in reg)} stale, {sum(s["modified"] for s in reg)} modified), {len(row["skills"]["local"])} local</td>'
            f'<td>{len(row["mcp_servers"]) - len(unvetted)} vetted' + (f', <span class="err">unvetted: {_e(", ".join(unvetted))}</span>' if unvetted else "")
            + (f'<br><span class="err">{_e(row["error"])}</span>' if row["error"] else "") + "</td></tr>")
    more = f"showing {min(max_rows, len(data['repos']))} of {len(data['repos'])}, riskiest first" if len(data["repos"]) > max_rows else "riskiest first"
    repo_table = ("<table><thead><tr><th>risk</th><th>team</th><th>version</th><th>profile</th><th>flags</th><th>findings</th>"
                  "<th>skills</th><th>MCP servers</th></tr></thead><tbody>" + "".join(rows_html) + "</tbody></table>")

    def group_table(items: list[dict[str, Any]], registry: bool) -> str:
        if not items:
            return '<p class="note">none</p>'
        head = "<th>registry skill</th>" if registry else ""
        body = "".join(
            "<tr>" + (f"<td>{_e(i['registry_skill'])}</td>" if registry else "")
            + f'<td>{_e(i["name"])}</td><td class="num">{i["team_count"]}</td><td class="num">{i["copies"]}</td>'
            f'<td class="num">{i["min_similarity"]:.2f}</td><td>{_e(", ".join(i["teams"][:12]) + (" …" if len(i["teams"]) > 12 else ""))}</td></tr>'
            for i in items[:30])
        return (f"<table><thead><tr>{head}<th>skill</th><th>teams</th><th>copies</th><th>min similarity</th><th>teams named</th></tr></thead>"
                f"<tbody>{body}</tbody></table>")

    reuse = org["reuse"]
    reuse_table = ("<table><thead><tr><th>registry skill</th><th>repos</th><th>current</th><th>stale</th><th>modified</th></tr></thead><tbody>"
                   + "".join(f'<tr><td>{_e(s["name"])}</td><td class="num">{s["repos"]}</td><td class="num">{s["current"]}</td>'
                             f'<td class="num">{s["stale"]}</td><td class="num">{s["modified"]}</td></tr>' for s in reuse["by_skill"])
                   + "</tbody></table>")
    audit_html = ""
    if data.get("audit"):
        audit = data["audit"]
        fam = [(f["family"], [(f["deny"], RED, f"{f['family']}: {f['deny']} denied"), (f["ask"], "#f59e0b", f"{f['family']}: {f['ask']} asked")])
               for f in audit["by_family"][:12]]
        team = [(t["team"], [(t["deny"], RED, f"{t['team']}: {t['deny']} denied"), (t["ask"], "#f59e0b", f"{t['team']}: {t['ask']} asked")])
                for t in audit["by_team"][:12]]
        audit_html = ('<div class="grid">' + _section(f"Audit: denials and asks by family ({audit['denials']} denied, {audit['asks']} asked)",
                                                       hbar_chart(fam) + _legend([("deny", RED), ("ask", "#f59e0b")]))
                      + _section("Audit: denials and asks by team", hbar_chart(team) + _legend([("deny", RED), ("ask", "#f59e0b")])) + "</div>")

    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="generator" content="agent-foundation fleet (report schema {_e(data['schema_version'])})">
<title>Agent foundation fleet report</title><style>{CSS}</style></head>
<body><header><h1>Agent foundation: fleet report</h1>
<p>{_e(org['repos'])} repositories · {_e(org['teams'])} teams · latest release {_e(data['latest_release'] or 'unknown')} · generated {_e(data['generated_at'])} · mean risk {_e(org['mean_risk'])}</p></header>
<main><div class="kpis">{kpis}</div>
<div class="grid">{charts}</div>
{audit_html}
{_section("Repositories", repo_table, more)}
<div class="grid">{_section("Promotion candidates: team-local skills alike across teams", group_table(org["promotion_candidates"], False), "worth moving into the registry, with the teams named")}
{_section("Team-local skills that re-write a registry skill", group_table(org["registry_duplicates"], True), "these teams could use the registry skill instead")}</div>
{_section(f"Registry skills in use (reuse fraction {_pct(reuse['fraction'])}: {reuse['registry_skills_in_use']} registry, {reuse['local_skills_in_use']} team-local)", reuse_table)}
<p class="muted">Posture findings from {_e(data['posture_check'])}. Risk score: see docs/fleet.md. Similarity threshold {_e(data['similarity_threshold'])} (Jaccard of word 3-grams).</p>
</main></body></html>
"""
