"""The HTML report: one self-contained page, rendered in headless Chromium and checked to be a real picture, then
worked in the real browser through WebDriver the way a lead works in it: sort, search, filter, page through every
repository, jump to the unreadable repositories and the promotion candidates.

Needs Debian's `chromium` and `chromium-driver` packages (the CI script installs them) and the `selenium`
client (the test extras); a missing browser, driver or client fails these tests, never skips them."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from agent_foundation.cli import main
from agent_foundation.fleet import output_html
from tests.fleet_support import add_skill, copy_repo, edit_json, template_root
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
            # a team's second repository, and a skill two teams wrote for the same job
            second = copy_repo(rendered_team, fleet / "payments-ledger", "team-00001", "v1.4.0")
            add_skill(second, "deploy-checklist", DEPLOY)
            add_skill(fleet / "team-00002", "release-readiness", DEPLOY.replace("deploy-checklist", "release-readiness"))
        args = ["--root", str(root), "fleet", str(fleet), "--record", str(db), "--recorded-at", f"2026-01-{5 + 7 * week:02d}T09:00:00+00:00",
                "--json", str(tmp / "report.json")]
        if week == 2:
            args += ["--html", str(tmp / "fleet.html")]
        assert main(args) == 0
    return tmp / "fleet.html"


DEPLOY = """---
name: deploy-checklist
description: Walk through the deployment checklist before shipping a service to production.
---
Confirm review and a green pipeline on the commit you ship, backwards compatible migrations, flags off by default and
a written rollback plan. Watch error rate and latency during the canary; roll back when the error budget burns.
"""


def test_page_is_self_contained_and_escapes_team_data(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert re.findall(r"<script[^>]*>", html) == ["<script>"], "one inline script, nothing loaded from elsewhere"
    for needle in ("<script src", "<link", "src=\"http", "href=\"http", "@import", "url(http", "fetch(", "xmlhttprequest"):
        assert needle not in html.lower(), needle
    assert "default-src 'none'" in html, "the Content-Security-Policy forbids every request"
    assert "&lt;script&gt;alert(" in html and "<img src=x" not in html
    for title in ("Version adoption", "Scale health over time", "Riskiest repositories", "Posture findings by team",
                  "MCP servers by number of teams", "Promotion candidates", "Audit: denials and asks by family",
                  "Who can do what without asking", "Unreadable repositories", "Scale health: skills by team"):
        assert title in html, title
    assert "<polyline" in html, "the trend lines are drawn from the three recorded runs"
    assert "Share of repositories per version, by recorded run" in html


@pytest.mark.browser
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


# ---------------------------------------------------------------- the dashboard in the real browser


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("the selenium WebDriver client is missing: pip install -e '.[test]'")
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
    assert binary, "chromium is not installed: apt-get install -y chromium chromium-driver (the CI script installs them)"
    assert driver_path, "chromium-driver is not installed: apt-get install -y chromium-driver (the CI script installs it)"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                     "--disable-background-networking", "--disable-component-update", "--no-first-run",
                     f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _visible_rows(driver, table_id: str) -> list[list[str]]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' tbody tr'))"
        ".map(r => Array.from(r.cells).map(c => c.innerText.trim().split('\\n')[0]))", table_id)


def _info(driver, table_id: str) -> str:
    return driver.find_element("id", f"{table_id}-info").text


@pytest.mark.browser
def test_dashboard_sorts_searches_and_filters_in_chromium(page: Path, browser) -> None:
    from selenium.webdriver.common.by import By

    data = json.loads((page.parent / "report.json").read_text(encoding="utf-8"))
    browser.get(page.as_uri())
    assert browser.execute_script("return document.querySelectorAll('table.data').length") >= 6
    first = _visible_rows(browser, "repos")
    assert len(first) == len(data["repos"]), "every repository is on the page (one page of 100)"
    assert _info(browser, "repos") == f"showing 1-{len(data['repos'])} of {len(data['repos'])}"

    # click the risk heading: lowest first; again: highest first
    heading = browser.find_element(By.CSS_SELECTOR, "#repos thead tr:first-child th:nth-child(1)")
    heading.click()
    assert heading.get_attribute("aria-sort") == "ascending"
    ascending = [float(browser.execute_script("return arguments[0].getAttribute('data-sort')", cell))
                 for cell in browser.find_elements(By.CSS_SELECTOR, "#repos tbody tr td:first-child")]
    assert ascending == sorted(ascending) and ascending[0] < ascending[-1]
    heading.click()
    assert heading.get_attribute("aria-sort") == "descending"
    assert _visible_rows(browser, "repos")[0][1] == first[0][1] or "critical" in _visible_rows(browser, "repos")[0][0]

    # sort by team name: alphabetical
    browser.find_element(By.CSS_SELECTOR, "#repos thead tr:first-child th:nth-child(2)").click()
    names = [row[1] for row in _visible_rows(browser, "repos")]
    assert names == sorted(names, key=str.lower)

    # type in the search box: only the matching rows remain, and the count says so
    search = browser.find_element(By.ID, "repos-search")
    search.send_keys("team-00001")
    rows = _visible_rows(browser, "repos")
    assert sorted(row[1] for row in rows) == ["team-00001", "team-00001 / payments-ledger"], "the team's two repositories, told apart"
    assert _info(browser, "repos") == f"showing 1-2 of 2 (filtered from {len(data['repos'])})"
    search.clear()
    search.send_keys("x")  # clear() sends no input event in every driver; retype then erase
    search.send_keys("\b")
    assert len(_visible_rows(browser, "repos")) == len(data["repos"])

    # a filter per column: the flags column
    flag_filter = browser.find_element(By.CSS_SELECTOR, "#repos thead tr.filters input[data-col='4']")
    flag_filter.send_keys("hooks-removed")
    flagged = _visible_rows(browser, "repos")
    expected = sum(1 for r in data["repos"] if any(f["code"] == "hooks-removed" for f in r["flags"]))
    assert expected > 0 and len(flagged) == expected and all("hooks-removed" in row[4] for row in flagged)

    # who can do what: filter to the repositories where an agent pushes without asking
    push_filter = browser.find_element(By.CSS_SELECTOR, "#capabilities thead tr.filters input[data-col='1']")
    push_filter.send_keys("allow")
    allowed = _visible_rows(browser, "capabilities")
    expected = sum(1 for r in data["repos"] if r["capabilities"] and r["capabilities"]["push"] == "allow")
    assert len(allowed) == expected and all(row[1] == "allow" for row in allowed)


@pytest.mark.browser
def test_unreadable_repositories_and_promotion_candidates_are_one_click_away(page: Path, browser) -> None:
    from selenium.webdriver.common.by import By

    data = json.loads((page.parent / "report.json").read_text(encoding="utf-8"))
    browser.get(page.as_uri())
    unreadable = data["org"]["unreadable"]
    assert unreadable, "the generated fleet plants repositories that cannot be read"
    browser.find_element(By.CSS_SELECTOR, "nav a[href='#unreadable-section']").click()
    assert browser.execute_script("return location.hash") == "#unreadable-section"
    top = browser.execute_script("return document.getElementById('unreadable-section').getBoundingClientRect().top")
    assert 30 <= top < 200, f"the section is scrolled into view, below the sticky navigation ({top})"
    assert sorted(row[0] for row in _visible_rows(browser, "unreadable")) == sorted(u["source"] for u in unreadable)

    browser.find_element(By.CSS_SELECTOR, "nav a[href='#candidates-section']").click()
    candidates = _visible_rows(browser, "candidates")
    assert len(candidates) == len(data["org"]["promotion_candidates"]) >= 1
    assert any("team-00001: deploy-checklist" in row[4] and "team-00002: release-readiness" in row[4] for row in candidates)


@pytest.mark.browser
def test_every_repository_is_reachable_page_by_page(page: Path, browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    data = json.loads((page.parent / "report.json").read_text(encoding="utf-8"))
    small_pages = tmp_path / "paged.html"
    small_pages.write_text(output_html.render(data, page_size=7), encoding="utf-8")
    browser.get(small_pages.as_uri())
    seen = []
    for _ in range(100):
        seen += [row[1] for row in _visible_rows(browser, "repos")]
        button = browser.find_element(By.ID, "repos-next")
        if not button.is_enabled():
            break
        button.click()
    assert len(seen) == len(data["repos"]) == len(set(seen)), "each repository once, none beyond reach"
    assert _info(browser, "repos").endswith(f"of {len(data['repos'])}")
