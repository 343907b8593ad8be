"""The foundation's per-request cost: what the org rules and the skill listing add to every request of every
session, measured against the budget in foundation/context-budget.yml (`registry check` reports and enforces it).

Measured as the client sends it (tests/test_context_budget.py checks this against real requests): the rendered
`.claude/rules/org-rules.md` without its HTML comments (the client strips them), and one `- name: description`
line per skill in the Skill tool's listing.
"""

from __future__ import annotations

import dataclasses
import re

from . import render
from .foundation import Foundation, Problem

BUDGET_FILE = "foundation/context-budget.yml"


HTML_COMMENT = re.compile(r"<!--.*?-->\n?", re.S)


def sent_instructions(text: str) -> str:
    """An instructions file as the client puts it into the request: HTML comments removed."""
    return HTML_COMMENT.sub("", text).strip()


def skill_listing_line(name: str, description: str) -> str:
    """The line the client lists a skill with, in every request."""
    return f"- {name}: {description}\n"


@dataclasses.dataclass(frozen=True)
class Cost:
    part: str
    chars: int
    budget: int
    what: str

    @property
    def over(self) -> bool:
        return self.chars > self.budget


def measure(foundation: Foundation) -> list[Cost]:
    budget = foundation.context_budget["per_request"]
    # A team's rules name its support channel; the budget is measured with the placeholder a team without one gets.
    org_rules = len(sent_instructions(render.org_rules(foundation, {})))
    listing = sum(len(skill_listing_line(name, skill.description)) for name, skill in foundation.skills.items())
    return [
        Cost("org_rules", org_rules, budget["org_rules"], ".claude/rules/org-rules.md"),
        Cost("skill_listing", listing, budget["skill_listing"], f"the listing of all {len(foundation.skills)} registry skills"),
        Cost("total", org_rules + listing, budget["total"], "both"),
    ]


def report(foundation: Foundation) -> list[str]:
    ratio = foundation.context_budget["chars_per_token"]
    return [
        f"{cost.part}: {cost.chars:,} of {cost.budget:,} characters per request (about {round(cost.chars / ratio):,} tokens; {cost.what})"
        + ("  OVER BUDGET" if cost.over else "")
        for cost in measure(foundation)
    ]


def problems(foundation: Foundation) -> list[Problem]:
    return [
        Problem(BUDGET_FILE, f"per_request.{cost.part}",
                f"{cost.what} add {cost.chars:,} characters to every request, over the budget of {cost.budget:,} by {cost.chars - cost.budget:,}",
                "shorten the org rules or the skill descriptions, or raise the budget in a reviewed release")
        for cost in measure(foundation) if cost.over
    ]
