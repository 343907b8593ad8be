"""The HTML report: one self-contained page, rendered in headless Chromium and checked to be a real picture.

Needs Debian's `chromium` package (the CI script installs it); a missing browser fails this test."""

from __future__ import annotations

import importlib.util
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from agent_foundation.cli import main
from tests.fleet_support import copy_repo, edit_json, template_root
from tests.rendering import TEMPLATE_ROOT

_spec = importlib.util.spec_from_file_location("fleet_bench", TEMPLATE_ROOT / "benchmarks" / "fleet_bench.py")
fleet_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fleet_bench)


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit PNG, decoded with the standard library."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line) if channels == 3 else bytes(v for k, v in enumerate(line) if k % 4 != 3))
        previous = line
    return width, height, rows


@pytest.fixture(scope="module")
def page(rendered_team: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("html")
    root = template_root(tmp, ["v1.0.0", "v1.2.0", "v1.3.0", "v1.4.0"])
    base = {p.relative_to(rendered_team).as_posix(): p.read_bytes()
            for p in sorted(rendered_team.rglob("*")) if p.is_file() and ".git" not in p.relative_to(rendered_team).parts}
    db = tmp / "history.sqlite"
    # three weekly runs of a drifting 60-team fleet, then the page
    for week, seed in enumerate((1, 2, 3)):
        fleet = tmp / f"fleet-{week}"
        fleet_bench.generate(fleet, 60, base, seed=seed)
        if week == 2:
            evil = copy_repo(rendered_team, fleet / "evil", "evil", "v1.4.0")
            edit_json(evil / ".claude/foundation/manifest.json",
                      lambda m: m["team"].update(slug="<script>alert('x')</script>", name="<img src=x onerror=alert(1)>"))
        args = ["--root", str(root), "fleet", str(fleet), "--record", str(db), "--recorded-at", f"2026-01-{5 + 7 * week:02d}T09:00:00+00:00",
                "--json", str(tmp / "report.json")]
        if week == 2:
            args += ["--html", str(tmp / "fleet.html")]
        assert main(args) == 0
    return tmp / "fleet.html"


def test_page_is_self_contained_and_escapes_team_data(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    for needle in ("<script", "<link", "src=\"http", "href=\"http", "@import", "url(http"):
        assert needle not in html.lower(), needle
    assert "&lt;script&gt;alert(" in html and "<img src=x" not in html
    for title in ("Version adoption", "Reuse, adoption and findings over time", "Riskiest teams", "Posture findings by team",
                  "MCP servers by number of teams", "Promotion candidates", "Audit: denials and asks by family"):
        assert title in html, title
    assert "<polyline" in html, "the trend lines are drawn from the three recorded runs"
    assert "Share of repositories per version, by recorded run" in html


def test_page_renders_in_headless_chromium(page: Path, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is not installed: apt-get install -y chromium (the CI script installs it)"
    shot = tmp_path / "fleet.png"
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri()],
        capture_output=True, text=True, timeout=90)
    assert shot.is_file() and shot.stat().st_size > 10_000, (result.returncode, result.stderr[-2000:])
    keep = TEMPLATE_ROOT / "build" / "fleet-screenshot.png"  # for a human to look at; build/ is not committed
    keep.parent.mkdir(exist_ok=True)
    shutil.copyfile(shot, keep)
    width, height, rows = read_png(shot)
    assert (width, height) == (1280, 2000)
    sample = [row[x * 3:x * 3 + 3] for row in rows[::8] for x in range(0, width, 8)]
    colours = set(sample)
    background = max(colours, key=sample.count)
    painted = sum(1 for px in sample if px != background) / len(sample)
    assert len(colours) > 50, f"only {len(colours)} colours: the page looks blank"
    assert painted > 0.15, f"only {painted:.0%} of the page differs from its background"
    # the dark header band is at the top, the charts' colours below it
    assert sum(rows[20][:300]) / 300 < 80, "the dark header is missing"
    assert any(px in colours for px in (bytes((0x0d, 0x94, 0x88)), bytes((0x25, 0x63, 0xeb)), bytes((0xdc, 0x26, 0x26)))), "no chart colours"
