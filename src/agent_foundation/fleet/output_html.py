"""`--html`: the dashboard, one self-contained page: inline CSS, SVG charts and a small inline script that makes
every table sortable (click a heading), searchable (the box above it) and filterable (a box per column), with
every repository reachable page by page. Nothing is fetched: a Content-Security-Policy forbids any request.

Every string that comes from a team repository (team names, skill names, server names, error messages) is
HTML-escaped, and the script only moves rows it was given: a fleet report must not run what a team wrote.
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
section[id]{scroll-margin-top:48px}
nav{position:sticky;top:0;z-index:5;background:#1e293b;padding:8px 32px;display:flex;flex-wrap:wrap;gap:6px}
nav a{color:#e2e8f0;text-decoration:none;font-size:13px;padding:3px 10px;border-radius:12px;background:#334155}nav a:hover{background:#475569}
nav a.alert{background:#b91c1c}
th[data-col]{cursor:pointer;user-select:none;white-space:nowrap}th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
thead tr.filters th{background:#fff;position:static;padding:2px 4px}thead tr.filters input{width:100%;font-size:12px;padding:2px 4px;border:1px solid #cbd5e1;border-radius:3px}
.tools{display:flex;gap:10px;align-items:center;margin:6px 0}.tools input{flex:1;max-width:420px;padding:5px 8px;border:1px solid #94a3b8;border-radius:4px}
.tools button{padding:3px 10px}.tools .info{color:#475569;font-size:12px}
.allow{color:#b91c1c;font-weight:600}.ask{color:#a16207}.deny{color:#15803d}
"""

SCRIPT = """
(function () {
  function cellKey(cell) {
    var raw = cell.getAttribute("data-sort");
    if (raw === null) raw = cell.textContent.trim();
    var number = Number(raw);
    return raw !== "" && !isNaN(number) ? [0, number] : [1, raw.toLowerCase()];
  }
  function setup(table) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
    rows.forEach(function (r, i) { r._text = texts[i]; r._order = i; });
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var filterRow = table.tHead.rows[1];
    var filters = filterRow ? Array.prototype.slice.call(filterRow.querySelectorAll("input")) : [];
    var search = document.getElementById(table.id + "-search");
    var info = document.getElementById(table.id + "-info");
    var prev = document.getElementById(table.id + "-prev");
    var next = document.getElementById(table.id + "-next");
    var size = Number(table.getAttribute("data-page-size")) || 100;
    var page = 0, column = -1, ascending = true, shown = rows;
    function matches(row) {
      var query = search ? search.value.trim().toLowerCase() : "";
      if (query && row._text.indexOf(query) < 0) return false;
      for (var i = 0; i < filters.length; i++) {
        var want = filters[i].value.trim().toLowerCase();
        if (!want) continue;
        var col = Number(filters[i].getAttribute("data-col"));
        var cell = row.cells[col];
        if (!cell || cell.textContent.toLowerCase().indexOf(want) < 0) return false;
      }
      return true;
    }
    function render() {
      shown = rows.filter(matches);
      var pages = Math.max(1, Math.ceil(shown.length / size));
      if (page >= pages) page = pages - 1;
      var slice = shown.slice(page * size, (page + 1) * size);
      while (body.firstChild) body.removeChild(body.firstChild);
      slice.forEach(function (r) { body.appendChild(r); });
      if (info) info.textContent = shown.length ? ("showing " + (page * size + 1) + "-" + (page * size + slice.length) + " of " +
          shown.length + (shown.length !== rows.length ? " (filtered from " + rows.length + ")" : "")) : "no row matches";
      if (prev) prev.disabled = page === 0;
      if (next) next.disabled = page >= pages - 1;
    }
    heads.forEach(function (th, i) {
      th.setAttribute("data-col", i);
      th.setAttribute("title", "sort by " + th.textContent);
      th.addEventListener("click", function () {
        ascending = column === i ? !ascending : true;
        column = i;
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var x = cellKey(a.cells[i] || a), y = cellKey(b.cells[i] || b);
          var order = x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0) || a._order - b._order;
          return ascending ? order : -order;
        });
        page = 0;
        render();
      });
    });
    filters.concat(search ? [search] : []).forEach(function (input) {
      input.addEventListener("input", function () { page = 0; render(); });
    });
    if (prev) prev.addEventListener("click", function () { page -= 1; render(); });
    if (next) next.addEventListener("click", function () { page += 1; render(); });
    render();
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.data"), setup);
})();
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


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


def _cell(value: Any, sort: Any = None, css: str = "") -> str:
    sort_attr = f' data-sort="{_e(sort)}"' if sort is not None else ""
    class_attr = f' class="{css}"' if css else ""
    return f"<td{class_attr}{sort_attr}>{_e(value)}</td>"


def data_table(table_id: str, headers: list[str], rows: list[str], *, page_size: int = 100, note: str = "") -> str:
    """A table the page's script makes sortable, searchable and filterable per column, paged (every row is in
    the page; the script shows `page_size` at a time)."""
    filters = "".join(f'<th><input data-col="{i}" aria-label="filter {_e(h)}" placeholder="filter"></th>' for i, h in enumerate(headers))
    tools = (f'<div class="tools"><input id="{table_id}-search" type="search" placeholder="search this table" aria-label="search">'
             f'<button id="{table_id}-prev" type="button">previous</button><button id="{table_id}-next" type="button">next</button>'
             f'<span class="info" id="{table_id}-info">{len(rows)} rows</span></div>')
    if not rows:
        return f'<p class="note">{_e(note or "none")}</p>'
    return (tools + f'<table class="data" id="{table_id}" data-page-size="{page_size}"><thead><tr>'
            + "".join(f"<th>{_e(h)}</th>" for h in headers) + f'</tr><tr class="filters">{filters}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def label(row: dict[str, Any]) -> str:
    team = row.get("team") or row["source"]
    name = row.get("repo") or ""
    return team if not name or name == team else f"{team} / {name}"


def _section_id(anchor: str, title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{_e(note)}</p>' if note else ""
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{note_html}{body}</section>'


def _repo_rows(data: dict[str, Any]) -> list[str]:
    out = []
    for row in data["repos"]:
        reg = row["skills"]["registry"]
        if row["risk"] is None:
            out.append("<tr>" + _cell("error", -1) + f'<td data-sort="{_e(label(row))}"><b>{_e(label(row))}</b><br><span class="muted">{_e(row["source"])}</span></td>'
                       + _cell(row.get("release") or row["version"]) + _cell(row["profile"]) + _cell("") + _cell("", 0) + _cell("")
                       + _cell("") + f'<td class="err">{_e(row["error"])}</td></tr>')
            continue
        level = row["risk"]["level"]
        flags = "".join(f'<span class="flag" title="{_e(f["message"])}">{_e(f["code"])}</span>'
                        for f in {f["code"]: f for f in row["flags"]}.values()) or '<span class="muted">-</span>'
        unvetted = [s["name"] for s in row["mcp_servers"] if not s["vetted"]]
        behind = row["releases_behind"]
        why = "; ".join(f"{r['points']}: {r['why']}" for r in row["risk"]["reasons"])
        out.append(
            f'<tr><td data-sort="{row["risk"]["score"] + 1000 * row["risk"].get("high_blast", 0)}" title="{_e(why)}">'
            f'<span class="pill" style="background:{LEVEL_COLOURS[level]}">{row["risk"]["score"]}</span> {_e(level)}</td>'
            f'<td data-sort="{_e(label(row))}"><b>{_e(label(row))}</b><br><span class="muted">{_e(row["source"])}</span></td>'
            f'<td>{_e(row.get("release") or row["version"])}' + (f' <span class="err">({behind} behind)</span>' if behind else "") + "</td>"
            f'<td>{_e(row["profile"])}</td><td>{flags}</td><td class="num">{len(row["findings"])}</td>'
            f'<td>{len(reg)} registry ({sum(s["stale"] for s in reg)} stale, {sum(s["modified"] for s in reg)} modified), {len(row["skills"]["local"])} local</td>'
            f'<td>{len(row["mcp_servers"]) - len(unvetted)} vetted' + (f', <span class="err">unvetted: {_e(", ".join(unvetted))}</span>' if unvetted else "") + "</td>"
            f'<td>{_e(why)}' + (f'<br><span class="err">{_e(row["error"])}</span>' if row["error"] else "") + "</td></tr>")
    return out


def _capability_rows(data: dict[str, Any]) -> list[str]:
    out = []
    for row in data["repos"]:
        caps = row.get("capabilities")
        if not caps:
            continue
        tools = ", ".join(f"{t['tool']} ({t['decision']})" for t in caps["mcp_write_tools"])
        out.append("<tr>" + f'<td>{_e(label(row))}</td>'
                   + "".join(f'<td class="{caps[c]}" data-sort="{ {"allow": 0, "ask": 1, "deny": 2}[caps[c]]}">{caps[c]}</td>'
                             for c in ("push", "publish", "infrastructure"))
                   + _cell(", ".join(caps["network_hosts"]) or "-", len(caps["network_hosts"]))
                   + _cell(tools or "-", len(caps["mcp_write_tools"]))
                   + (_cell("on", 1) if caps["sandbox"] else _cell("off", 0, "allow")) + _cell(", ".join(caps["agents"])) + "</tr>")
    return out


def render(data: dict[str, Any], *, page_size: int = 100) -> str:
    org = data["org"]
    adoption = org["version_adoption"]
    trends = data.get("trends") or {}
    runs = trends.get("runs") or []
    unvetted_repos = sum(1 for r in data["repos"] if any(not s["vetted"] for s in r["mcp_servers"]))
    skills = org["skill_adoption"]

    kpis = "".join([
        _kpi(f"{org['repos']}", f"repositories · {org['teams']} teams"),
        _kpi(_pct(adoption["on_latest_fraction"]), f"on latest ({data['latest_release'] or 'unknown'})",
             "good" if (adoption["on_latest_fraction"] or 0) >= 0.8 else "bad" if adoption["on_latest_fraction"] is not None else ""),
        _kpi(_pct(skills["registry_share"]), "teams using registry skills"),
        _kpi(_pct(skills["own_only_share"]), "teams with only their own skills", "bad" if skills["own_only"] else ""),
        _kpi(str(org["high_blast_repos"]), "repos with high-blast-radius flags", "bad" if org["high_blast_repos"] else "good"),
        _kpi(str(org["teams_with_findings"]), "teams with findings", "bad" if org["teams_with_findings"] else "good"),
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
        trend_html = (line_chart(labels, [("teams using registry skills", TEAL, [r.get("registry_share") for r in runs]),
                                          ("teams with only their own", "#f97316", [r.get("own_only_share") for r in runs]),
                                          ("on latest release", BLUE, [r["on_latest"] for r in runs])], percent=True)
                      + line_chart(labels, [("posture findings", RED, [float(r["findings"]) for r in runs]),
                                            ("flagged repos", "#f59e0b", [float(r["flagged_repos"]) for r in runs]),
                                            ("teams with findings", "#7c3aed", [float(r["teams_with_findings"]) for r in runs])])
                      + (line_chart(labels, [("days to adopt the latest release (median)", BLUE, [r.get("latest_lag_days") for r in runs]),
                                             ("days from first commit to render (median)", TEAL, [r.get("onboarding_days") for r in runs])])
                         if any(r.get("latest_lag_days") is not None or r.get("onboarding_days") is not None for r in runs)
                         else '<p class="note">Adoption lag and onboarding days appear once repositories with git history are scanned.</p>'))
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
    risk_items = [(label(r), [(r["risk"]["score"], LEVEL_COLOURS[r["risk"]["level"]],
                               f"{label(r)}: {r['risk']['score']} - " + "; ".join(x["why"] for x in r["risk"]["reasons"]))])
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
        _section("Scale health over time", trend_html, trend_note),
        _section("Riskiest repositories", risk_chart),
        _section("Posture findings by team", findings_chart),
        _section("Flags", flag_chart),
        _section("MCP servers by number of teams", server_chart),
    ])

    repo_table = data_table("repos", ["risk", "team / repository", "version", "profile", "flags", "findings", "skills", "MCP servers",
                                      "why (risk reasons)"], _repo_rows(data), page_size=page_size)
    capability_table = data_table("capabilities", ["team / repository", "push", "publish", "infrastructure", "network hosts",
                                                   "MCP write tools", "sandbox", "agents"], _capability_rows(data), page_size=page_size)
    summary = org["capabilities"]["summary"]
    capability_note = (f"allow = an agent does it without asking. Push allowed in {summary['push']['allow']} repositories, publish in "
                       f"{summary['publish']['allow']}, infrastructure changes in {summary['infrastructure']['allow']}; sandbox off in "
                       f"{org['capabilities']['sandbox_off']}.")
    unreadable_table = data_table("unreadable", ["repository", "team", "error"],
                                  ["<tr>" + _cell(u["source"]) + _cell(u["team"]) + f'<td class="err">{_e(u["error"])}</td></tr>'
                                   for u in org["unreadable"]], page_size=page_size, note="every repository could be read")

    def group_rows(items: list[dict[str, Any]], registry: bool) -> list[str]:
        return ["<tr>" + (_cell(i["registry_skill"]) if registry else "") + _cell(i["name"]) + _cell(i["team_count"], i["team_count"])
                + _cell(i["copies"], i["copies"]) + _cell(f"{i['min_similarity']:.2f}", i["min_similarity"])
                + _cell(", ".join(f"{m['team']}: {m['skill']}" for m in i["members"])) + "</tr>" for i in items]

    candidates_table = data_table("candidates", ["skill", "teams", "copies", "min similarity", "members (team: skill)"],
                                  group_rows(org["promotion_candidates"], False), page_size=page_size,
                                  note="no team-local skill does the same job across two or more teams")
    duplicates_table = data_table("duplicates", ["registry skill", "skill", "teams", "copies", "min similarity", "members (team: skill)"],
                                  group_rows(org["registry_duplicates"], True), page_size=page_size, note="none")
    skipped = [(r, item) for r in data["repos"] for item in r.get("skipped_files") or []]
    skipped_table = data_table("skipped", ["team / repository", "file", "why", "size (bytes)", "link target"],
                               ["<tr>" + _cell(label(r)) + _cell(i["path"]) + _cell(i["reason"]) + _cell(i["size"], i["size"] or 0)
                                + _cell(i["target"]) + "</tr>" for r, i in skipped], page_size=page_size,
                               note="every file the fleet reads was a regular file of a sensible size")
    lag_table = data_table("lag", ["release", "tagged", "repositories took it", "pending", "median days", "p90 days", "max days"],
                           ["<tr>" + _cell(l["release"], None) + _cell((l["tagged_at"] or "-")[:10]) + _cell(l["took"], l["took"])
                            + _cell(l["pending"], l["pending"]) + _cell(l["median_days"], l["median_days"] if l["median_days"] is not None else -1)
                            + _cell(l["p90_days"], l["p90_days"] if l["p90_days"] is not None else -1)
                            + _cell(l["max_days"], l["max_days"] if l["max_days"] is not None else -1) + "</tr>"
                            for l in org["adoption_lag"]], page_size=page_size, note="no release tag in the template checkout")
    onboarding = org["onboarding"]
    health = (f'<p>{_pct(skills["registry_share"])} of the {skills["teams"] - skills["none"]} teams with skills use registry skills '
              f'({skills["registry_only"]} registry only, {skills["both"]} both); {skills["own_only"]} teams use only their own; '
              f'{_pct(skills["beyond_defaults_share"])} of teams chose a registry skill beyond the pre-selected defaults '
              f'({_e(", ".join(skills["defaults"]))}).</p>'
              f'<p>Onboarding, from a repository\'s first commit to its foundation render: median {_e(onboarding["median_days"])} days, '
              f'p90 {_e(onboarding["p90_days"])} days ({onboarding["repos_with_history"]} repositories with git history, '
              f'{onboarding["rendered_in_first_commit"]} rendered in their first commit).</p>' + lag_table)
    reuse = org["reuse"]
    reuse_table = data_table("registry-skills", ["registry skill", "repos", "current", "stale", "modified"],
                             ["<tr>" + _cell(s["name"]) + "".join(_cell(s[k], s[k]) for k in ("repos", "current", "stale", "modified")) + "</tr>"
                              for s in reuse["by_skill"]], page_size=page_size)
    audit_html = ""
    if data.get("audit"):
        audit = data["audit"]
        fam = [(f["family"], [(f["deny"], RED, f"{f['family']}: {f['deny']} denied"), (f["ask"], "#f59e0b", f"{f['family']}: {f['ask']} asked")])
               for f in audit["by_family"][:12]]
        team = [(t["team"], [(t["deny"], RED, f"{t['team']}: {t['deny']} denied"), (t["ask"], "#f59e0b", f"{t['team']}: {t['ask']} asked")])
                for t in audit["by_team"][:12]]
        audit_html = ('<div class="grid" id="audit">' + _section(f"Audit: denials and asks by family ({audit['denials']} denied, {audit['asks']} asked)",
                                                       hbar_chart(fam) + _legend([("deny", RED), ("ask", "#f59e0b")]))
                      + _section("Audit: denials and asks by team", hbar_chart(team) + _legend([("deny", RED), ("ask", "#f59e0b")])) + "</div>")

    links = [("repos", f"Repositories ({len(data['repos'])})", False), ("capabilities", "Who can do what", False),
             ("unreadable", f"Unreadable ({len(org['unreadable'])})", bool(org["unreadable"])),
             ("candidates", f"Promotion candidates ({len(org['promotion_candidates'])})", False),
             ("duplicates", f"Registry duplicates ({len(org['registry_duplicates'])})", False),
             ("skipped", f"Files not read ({len(skipped)})", bool(skipped)), ("health", "Scale health", False)]
    if audit_html:
        links.append(("audit", "Audit", False))
    nav = "<nav>" + "".join(f'<a href="#{a}-section"{" class=alert" if alert else ""}>{_e(t)}</a>' for a, t, alert in links) + "</nav>"

    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="generator" content="agent-foundation fleet (report schema {_e(data['schema_version'])})">
<title>Agent foundation fleet report</title><style>{CSS}</style></head>
<body><header><h1>Agent foundation: fleet report</h1>
<p>{_e(org['repos'])} repositories · {_e(org['teams'])} teams · latest release {_e(data['latest_release'] or 'unknown')} · generated {_e(data['generated_at'])} · mean risk {_e('-' if org['mean_risk'] is None else org['mean_risk'])}</p></header>
{nav}
<main><div class="kpis">{kpis}</div>
<div class="grid">{charts}</div>
{audit_html}
{_section_id("repos-section", "Repositories", repo_table, "riskiest first: every repository with a high-blast-radius flag above every one without; click a heading to sort, type to filter")}
{_section_id("capabilities-section", "Who can do what without asking", capability_table, capability_note)}
{_section_id("unreadable-section", f"Unreadable repositories ({len(org['unreadable'])})", unreadable_table)}
{_section_id("candidates-section", "Promotion candidates: team-local skills doing the same job across teams", candidates_table, "worth moving into the registry, with the teams named")}
{_section_id("duplicates-section", "Team-local skills that re-write a registry skill", duplicates_table, "these teams could use the registry skill instead")}
{_section_id("skipped-section", f"Files not read ({len(skipped)})", skipped_table, "links are never followed; files over 8 MB are not read")}
{_section_id("health-section", "Scale health: skills by team, adoption lag, onboarding", health)}
{_section(f"Registry skills in use (reuse fraction {_pct(reuse['fraction'])}: {reuse['registry_skills_in_use']} registry, {reuse['local_skills_in_use']} team-local)", reuse_table)}
<p class="muted">Posture findings from {_e(data['posture_check'])}. Risk score: see docs/fleet.md. Near copies: Jaccard of word 3-grams at least {_e(data['similarity_threshold'])}; the same job: TF-IDF cosine (docs/fleet.md).</p>
</main><script>{SCRIPT}</script></body></html>
"""
