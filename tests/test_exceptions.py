"""Exceptions that expire: a team's `exceptions` answer turns a posture finding into a warning until its date,
fails after it, naming the date; a malformed one fails the render; the fleet lists every exception and what
expires within 30 days."""

from __future__ import annotations

import datetime
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.registry_repo import cli
from tests.rendering import TEMPLATE_ROOT, render_team
from tests.test_render_errors import copier_copy

TODAY = datetime.date.today()
ROGUE = {"rogue-tracker": {"command": "npx", "args": ["-y", "rogue-tracker-mcp@1.0.0"]}}


def exception(days: int, **overrides: str) -> dict[str, str]:
    return {"kind": "mcp-server", "name": "rogue-tracker", "reason": "pilot with the vendor",
            "approved_by": "security@example.com", "expires": (TODAY + datetime.timedelta(days=days)).isoformat(), **overrides}


def load_check():
    spec = importlib.util.spec_from_file_location("posture_check_exceptions", TEMPLATE_ROOT / "template/.claude/foundation/check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


check = load_check()


def run_check(repo: Path) -> tuple[int, list[dict]]:
    result = subprocess.run([sys.executable, str(repo / ".claude/foundation/check.py"), "--json"],
                            capture_output=True, text=True, timeout=60, cwd="/")
    return result.returncode, json.loads(result.stdout)["findings"]


@pytest.fixture(scope="module")
def teams(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("exceptions")
    return {
        "live": render_team(root / "live", {"team_name": "Live", "team_slug": "live-team", "extra_mcp_servers": ROGUE,
                                             "exceptions": [exception(90)]}),
        "expiring": render_team(root / "expiring", {"team_name": "Soon", "team_slug": "soon-team", "extra_mcp_servers": ROGUE,
                                                     "exceptions": [exception(10)]}),
        "expired": render_team(root / "expired", {"team_name": "Late", "team_slug": "late-team", "extra_mcp_servers": ROGUE,
                                                   "exceptions": [exception(-1)]}),
    }


def test_without_an_exception_the_unvetted_server_fails(tmp_path: Path) -> None:
    repo = render_team(tmp_path / "team", {"extra_mcp_servers": ROGUE})
    code, findings = run_check(repo)
    assert code == 1 and {f["code"] for f in findings} == {"mcp-server-unvetted"}
    assert all("exceptions=" in f["fix"] for f in findings), "the fix points at the exceptions answer, not at a hand edit"


def test_a_live_exception_makes_the_finding_a_warning(teams: dict[str, Path]) -> None:
    code, findings = run_check(teams["live"])
    assert code == 0, findings
    assert findings and all(f["code"] == "mcp-server-unvetted" and f["severity"] == "warning" for f in findings)
    assert all(f"Excepted until {exception(90)['expires']} (approved by security@example.com: pilot with the vendor)" in f["message"]
               for f in findings)


def test_an_expired_exception_fails_naming_the_expiry(teams: dict[str, Path]) -> None:
    code, findings = run_check(teams["expired"])
    assert code == 1
    assert findings and all(f["severity"] == "error" for f in findings)
    assert all(f"Its exception expired on {exception(-1)['expires']}" in f["message"] for f in findings)
    assert all("renew the exception" in f["fix"] for f in findings)


def test_an_exception_that_excuses_nothing_is_a_warning() -> None:
    findings = check.apply_exceptions([], [exception(5, name="gone")], TODAY)
    assert [(f.code, f.severity, f.subject) for f in findings] == [("exception-unused", "warning", "gone")]


def test_the_last_day_is_still_live_and_other_findings_are_untouched() -> None:
    finding = check.Finding("mcp-server-unvetted", "error", ".mcp.json", "m.", "f.", subject="rogue-tracker")
    other = check.Finding("foundation-file-edited", "error", ".claude/rules/org-rules.md", "m.", "f.", subject=".claude/rules/org-rules.md")
    [excused, untouched] = check.apply_exceptions([finding, other], [exception(0)], TODAY)
    assert excused.severity == "warning" and untouched == other
    [late] = check.apply_exceptions([finding], [exception(0)], TODAY + datetime.timedelta(days=1))
    assert late.severity == "error"


@pytest.mark.parametrize("bad, expected", [
    ([{**exception(5), "kind": "shell"}], "exceptions[0].kind 'shell' is not one of mcp-server, foundation-file"),
    ([{**exception(5), "expires": "31/12/2026"}], "exceptions[0].expires '31/12/2026' is not a date YYYY-MM-DD"),
    ([{**exception(5), "expires": "2026-02-30"}], "exceptions[0].expires '2026-02-30' is not a date YYYY-MM-DD"),
    ([{k: v for k, v in exception(5).items() if k != "approved_by"}], "exceptions[0].approved_by is missing"),
    ([{**exception(5), "until": "2027-01-01"}], "exceptions[0]: until is not a field of an exception"),
    ({"kind": "mcp-server"}, "exceptions must be a list of exceptions"),
])
def test_a_malformed_exception_fails_the_render_clearly(tmp_path: Path, bad, expected: str) -> None:
    run = copier_copy(TEMPLATE_ROOT, tmp_path / "team", exceptions=bad)
    assert run.returncode != 0
    assert expected in run.stderr, run.stderr
    assert not (tmp_path / "team").exists() or not any((tmp_path / "team").iterdir())


def test_the_fleet_lists_every_exception_and_what_expires_soon(teams: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "fleet.json"
    result = cli(TEMPLATE_ROOT, "fleet", *(str(p) for p in teams.values()), "--offline", "--no-repo-audit", "--json", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads(out.read_text())["exceptions"]
    assert summary["total"] == 3 and summary["expiring_within_days"] == 30
    assert [(e["team"], e["status"], e["days_left"]) for e in summary["all"]] == [
        ("late-team", "expired", -1), ("soon-team", "expiring", 10), ("live-team", "live", 90)]
    assert [e["team"] for e in summary["expired"]] == ["late-team"] and [e["team"] for e in summary["expiring"]] == ["soon-team"]
    markdown = cli(TEMPLATE_ROOT, "fleet", *(str(p) for p in teams.values()), "--offline", "--no-repo-audit", "--markdown").stdout
    assert "## Exceptions (3; 1 expired, 1 expiring within 30 days)" in markdown
