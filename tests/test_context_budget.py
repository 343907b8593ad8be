"""The foundation's per-request cost (org rules + skill listing) against the budget in foundation/, as
`registry check` reports and enforces it; and proof that the measure is what the real client sends."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from agent_foundation import context_budget, render
from agent_foundation.foundation import FoundationError, load_foundation
from tests.registry_repo import cli
from tests.rendering import TEMPLATE_ROOT, canonical_answers

FOUNDATION = load_foundation(TEMPLATE_ROOT / "foundation")


def test_measure_counts_the_rendered_rules_and_every_listing_line() -> None:
    costs = {cost.part: cost for cost in context_budget.measure(FOUNDATION)}
    org_rules = len(render.team_org_rules(FOUNDATION, {}).strip())  # the rendered file's leading HTML comment is not sent
    listing = sum(len(f"- {name}: {skill.description}\n") for name, skill in FOUNDATION.skills.items())
    assert (costs["org_rules"].chars, costs["skill_listing"].chars, costs["total"].chars) == (org_rules, listing, org_rules + listing)
    assert costs["total"].budget == FOUNDATION.context_budget["per_request"]["total"]
    assert not any(cost.over for cost in costs.values()), "the committed foundation is within its own budget"


def test_registry_check_reports_the_cost() -> None:
    result = cli(TEMPLATE_ROOT, "registry", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    org_rules = len(render.team_org_rules(FOUNDATION, {}).strip())
    assert f"org_rules: {org_rules:,} of {FOUNDATION.context_budget['per_request']['org_rules']:,} characters per request" in result.stdout
    data = json.loads(cli(TEMPLATE_ROOT, "registry", "check", "--json").stdout)
    assert {c["part"]: c["chars"] for c in data["context"]}["org_rules"] == org_rules


def test_over_budget_fails_naming_the_part_and_the_fix(registry_checkout: Path) -> None:
    path = registry_checkout / "foundation/context-budget.yml"
    data = yaml.safe_load(path.read_text())
    data["per_request"]["org_rules"] = 1000
    path.write_text(yaml.safe_dump(data))
    result = cli(registry_checkout, "registry", "check")
    assert result.returncode == 1
    org_rules = len(render.team_org_rules(FOUNDATION, {}).strip())
    assert f"org_rules: {org_rules:,} of 1,000 characters per request" in result.stdout and "OVER BUDGET" in result.stdout
    assert (f"foundation/context-budget.yml: per_request.org_rules: .claude/rules/org-rules.md add {org_rules:,} characters "
            f"to every request, over the budget of 1,000 by {org_rules - 1000:,}") in result.stdout
    assert "shorten the org rules" in result.stdout


@pytest.mark.parametrize("edit, field", [
    (lambda d: d["per_request"].update(total="6k"), "per_request.total"),
    (lambda d: d["per_request"].pop("skill_listing"), "per_request.skill_listing"),
    (lambda d: d.update(chars_per_token=0), "chars_per_token"),
])
def test_a_broken_budget_names_file_field_and_fix(tmp_path: Path, edit, field: str) -> None:
    copy = tmp_path / "foundation"
    shutil.copytree(TEMPLATE_ROOT / "foundation", copy)
    data = yaml.safe_load((copy / "context-budget.yml").read_text())
    edit(data)
    (copy / "context-budget.yml").write_text(yaml.safe_dump(data))
    with pytest.raises(FoundationError) as error:
        load_foundation(copy)
    [problem] = error.value.problems
    assert problem.file.endswith("context-budget.yml") and problem.field == field and problem.fix


@pytest.mark.client
def test_the_measure_is_what_the_client_sends(rendered_team: Path, run_claude, tmp_path: Path) -> None:
    repo = Path(shutil.copytree(rendered_team, tmp_path / "team", symlinks=True))  # the session's copy stays untouched
    run = run_claude(repo, [], trusted=True)
    [first] = [r for r in run.requests if r.method == "POST"][:1]
    sent = json.dumps(first.body)
    rules = (repo / ".claude/rules/org-rules.md").read_text()
    assert rules == render.org_rules(FOUNDATION, canonical_answers())
    assert "<!--" in rules and "<!-- Managed by" not in sent, "the client strips the file's HTML comment"
    assert json.dumps(context_budget.sent_instructions(rules))[1:-1] in sent, "the rest goes into the request verbatim"
    for name in canonical_answers()["skills"]:
        line = context_budget.skill_listing_line(name, FOUNDATION.skills[name].description).rstrip("\n")
        assert json.dumps(line)[1:-1] in sent, f"listing line of {name} not in the request"
