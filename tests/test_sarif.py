"""Posture findings as SARIF 2.1.0: the team's check.py (standard library only) and the platform's fleet report,
both validated against the SARIF 2.1.0 JSON schema (tests/schemas/, source named in its README)."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.registry_repo import cli
from tests.rendering import TEMPLATE_ROOT, render_team

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())
SARIF_MODULE = TEMPLATE_ROOT / "template/.claude/foundation/sarif.py"


def assert_valid_sarif(log: dict) -> None:
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    assert log["version"] == "2.1.0"


def test_the_schema_rejects_a_broken_log() -> None:
    """The validation can fail: a result without a message is not SARIF."""
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "r", "level": "fatal"}]}]}
    with pytest.raises(AssertionError):
        assert_valid_sarif(broken)


def run_check(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(repo / ".claude/foundation/check.py"), *args],
                          capture_output=True, text=True, timeout=60, cwd="/")


@pytest.fixture
def team(rendered_team: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(rendered_team, tmp_path / "team", symlinks=True))


def test_clean_repository_is_an_empty_valid_log(team: Path) -> None:
    result = run_check(team, "--format", "sarif")
    assert result.returncode == 0, result.stderr
    log = json.loads(result.stdout)
    assert_valid_sarif(log)
    [run] = log["runs"]
    manifest = json.loads((team / ".claude/foundation/manifest.json").read_text())
    assert run["results"] == [] and run["tool"]["driver"]["version"] == manifest["template_version"]


def test_findings_become_results_at_their_files(team: Path, tmp_path: Path) -> None:
    settings = json.loads((team / ".claude/settings.json").read_text())
    del settings["permissions"]["disableBypassPermissionsMode"]
    (team / ".claude/settings.json").write_text(json.dumps(settings, indent=2))
    with (team / ".claude/rules/org-rules.md").open("a") as handle:
        handle.write("\nlocal edit\n")
    expected = json.loads(run_check(team, "--json").stdout)["findings"]
    out = tmp_path / "posture.sarif"
    result = run_check(team, "--format", "sarif", "--output", str(out))
    assert result.returncode == 1 and result.stdout == ""
    log = json.loads(out.read_text())
    assert_valid_sarif(log)
    [run] = log["runs"]
    got = [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in run["results"]]
    assert got == [(f["code"], f["severity"], f["file"]) for f in expected]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} == {f["code"] for f in expected}
    assert all("Fix: " in r["message"]["text"] for r in run["results"])
    assert len({r["partialFingerprints"]["agentFoundationFinding/v1"] for r in run["results"]}) == len(expected)


def test_sarif_code_is_standard_library_only() -> None:
    tree = ast.parse(SARIF_MODULE.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_the_fleet_emits_one_run_per_repository(team: Path, tmp_path: Path) -> None:
    other = render_team(tmp_path / "orders", {"team_name": "Orders", "team_slug": "orders"})
    settings = json.loads((other / ".claude/settings.json").read_text())
    del settings["permissions"]["disableBypassPermissionsMode"]
    (other / ".claude/settings.json").write_text(json.dumps(settings, indent=2))
    out = tmp_path / "fleet.sarif"
    result = cli(TEMPLATE_ROOT, "fleet", str(team), str(other), "--offline", "--no-repo-audit", "--sarif", str(out), "--json", str(tmp_path / "fleet.json"))
    assert result.returncode == 0, result.stderr
    log = json.loads(out.read_text())
    assert_valid_sarif(log)
    runs = {run["automationDetails"]["id"]: run for run in log["runs"]}
    assert set(runs) == {"agent-foundation/fleet/payments-api/", "agent-foundation/fleet/orders/"}
    assert runs["agent-foundation/fleet/payments-api/"]["results"] == []
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in runs["agent-foundation/fleet/orders/"]["results"]]
    report = json.loads((tmp_path / "fleet.json").read_text())
    [orders] = [row for row in report["repos"] if row["team"] == "orders"]
    assert uris == [f"orders/{finding['file']}" for finding in orders["findings"]] and uris
