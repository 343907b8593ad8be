"""A labelled set of team skills for the promotion-candidate measure: which pairs do the same job.

Each job is written by several teams in their own words (a different name, structure and vocabulary, as
teams really write them), plus a near copy; six unrelated skills are built from the org's skill template
(foundation/skill-template.md), so they share its headings and advice but no job. Two skills do the same job
exactly when they have the same job label. tests/test_fleet_similarity.py measures precision and recall.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

TEMPLATE = (Path(__file__).resolve().parent.parent / "foundation" / "skill-template.md").read_text(encoding="utf-8")


def from_template(name: str, description: str, title: str, job: str, steps: list[str]) -> str:
    """A skill written the way the org's template asks: its skeleton kept, the job filled in."""
    text = TEMPLATE.replace("name: your-skill-name", f"name: {name}")
    text = text.replace(text.splitlines()[2], f"description: {description}")
    text = text.replace("# Your skill's title", f"# {title}")
    text = text.replace("State the job in one paragraph: what the agent produces, for whom, and what done looks like.", job)
    return text.replace("## Steps\n", "## Steps\n\n" + "\n".join(f"- {step}" for step in steps) + "\n")


# (team, skill name, job label, text)
SKILLS: list[tuple[str, str, str, str]] = [
    ("payments", "deploy-checklist", "deploy", """---
name: deploy-checklist
description: Walk through the deployment checklist before shipping a service to production.
---
# Deploy checklist
Before you deploy, confirm the change was reviewed and the CI pipeline is green on the exact commit you ship.
Check that database schema changes are backwards compatible with the running version. Feature flags for new
code paths default to off. Write the rollback procedure into the pull request. During the deploy watch error
rate, latency and saturation dashboards for fifteen minutes; if the error budget burn doubles, roll back first.
Announce the deploy in the team channel with the on-call person. Afterwards verify health checks and close the
change ticket.
"""),
    ("search", "release-readiness", "deploy", """---
name: release-readiness
description: Decide whether a build is ready to go to production and guide the rollout.
---
# Is it ready to ship?
## Gate
- Green pipeline on the commit being released; approved review.
- Migrations must work with the old and the new version side by side.
- New behaviour hidden behind a flag that starts disabled.
- A written rollback plan.
## Rollout
Ship to a canary first. Keep an eye on errors, latency and saturation; if the burn rate of the error budget
jumps, roll back immediately and investigate later. Tell the channel and the on-call engineer when production
changes. Close the change request when health checks pass.
"""),
    ("ledger", "prod-deploy", "deploy", """---
name: prod-deploy
description: Production deployment runbook for our services, with canary, monitoring and rollback.
---
Production deploys follow this order. One: the CI pipeline passed and someone reviewed the code. Two: schema
migrations are compatible in both directions. Three: flags for unfinished features are off. Four: we know how
to roll back. Deploy the canary, watch the latency and error dashboards, and roll back when the error budget
burns too fast. Post in the deploy channel, page nobody unless it breaks, and close the ticket after the
health checks are green.
"""),
    ("mobile", "deploy-checklist-copy", "deploy", """---
name: deploy-checklist-copy
description: Walk through the deployment checklist before shipping a service to production.
---
# Deploy checklist
Before you deploy, confirm the change was reviewed and the CI pipeline is green on the exact commit you ship.
Check that database schema changes are backwards compatible with the running version. Feature flags for new
code paths default to off. Write the rollback procedure into the pull request. During the deploy watch error
rate, latency and saturation dashboards for twenty minutes; if the error budget burn doubles, roll back first.
Announce the deploy in the release channel with the on-call person. Afterwards verify health checks.
"""),
    ("payments", "flaky-tests", "flaky", """---
name: flaky-tests
description: Find out why a test fails intermittently and either fix it or quarantine it.
---
# Flaky tests
Rerun the failing test many times in a loop to measure how often it fails. Look for timing assumptions,
sleeps, shared state between tests, test order dependence, network calls and random seeds. Fix the root
cause when you can; otherwise quarantine the test with a tracking issue and an owner, so CI stays green
without hiding the flakiness forever.
"""),
    ("search", "intermittent-failures", "flaky", """---
name: intermittent-failures
description: Triage CI tests that pass and fail without code changes (nondeterministic tests).
---
## When CI is red but nothing changed
1. Reproduce: run the test repeatedly (pytest --count or a shell loop) and record the failure rate.
2. Suspects: sleeps and timeouts, order dependence, global state leaking between tests, clocks and time zones,
   unseeded randomness, real network.
3. Repair the nondeterminism. If it cannot be repaired today, quarantine the test, open an issue with an owner
   and a date, and keep the pipeline trustworthy.
"""),
    ("ledger", "test-quarantine", "flaky", """---
name: test-quarantine
description: Handle nondeterministic tests in our pipeline - measure the flake rate, fix or quarantine.
---
A flaky test erodes trust in CI. Loop the test to get its failure rate. Check ordering between tests, shared
fixtures and global state, sleeps, timeouts, random seeds and calls to the network. Fix it, or move it to
quarantine with an issue and an owner so that the flakiness is tracked rather than retried away.
"""),
    ("payments", "migration-review", "migration", """---
name: migration-review
description: Review a database schema migration for locking, data loss and rollback safety.
---
# Migration review
Read the migration and the model change together. Adding a column with a default or an index on a large table
can lock it: use concurrent index creation and batched backfills. Never drop or rename a column in the same
release that stops using it; expand first, contract later. Check the down migration restores the schema, and
estimate how long the migration runs against production table sizes.
"""),
    ("mobile", "schema-change-check", "migration", """---
name: schema-change-check
description: Check SQL schema changes (ALTER TABLE, indexes, backfills) before they reach production.
---
- Long locks: ALTER TABLE on big tables, indexes built without CONCURRENTLY, backfills in one transaction.
- Expand and contract: add the new column, migrate the data in batches, switch the code, drop the old column
  in a later release. Renames and drops never ship together with the code change.
- The down migration must work. Time the migration on a copy of the production table sizes.
"""),
    ("infra", "db-migration-safety", "migration", """---
name: db-migration-safety
description: Keep database migrations safe - no table locks, no data loss, reversible.
---
Our rule for database migrations: a migration must not lock a large table, must not lose data and must be
reversible. Create indexes concurrently, backfill in batches, and split destructive changes (dropping or
renaming columns) into a later release after the code stopped reading them. Test the rollback migration and
measure the run time against production-sized tables.
"""),
    ("web", "oncall-handover", "handover", """---
name: oncall-handover
description: Hand over the on-call pager at the end of a shift.
---
# On-call handover
Summarise open incidents, silenced alerts and anything that paged twice. Name the owner of each open item and
the next step. Link the dashboards you watched. Remind the next person where the escalation policy lives.
"""),
    ("infra", "shift-change-notes", "handover", """---
name: shift-change-notes
description: Write the notes the next on-call engineer needs when the pager changes hands.
---
At shift change, list every incident still open, every alert you silenced and why, and alerts that fired
repeatedly. For each open item give an owner and the next action. Add links to the dashboards and the
escalation policy for whoever takes the pager next.
"""),
    ("ledger", "pager-handoff", "handover", """---
name: pager-handoff
description: Pager handoff summary between on-call shifts.
---
## Handoff
- Open incidents and their owners
- Silenced alerts, with the reason and when they unsilence
- Alerts that paged more than once
- Next steps for each open item
- Dashboards watched; where the escalation policy is
"""),
    # six unrelated jobs built from the org's skill template: they share its skeleton, not a job
    ("payments", "rotate-logs", "t-logs", from_template(
        "rotate-logs", "Rotate and compress application log files that grew too large.", "Log rotation",
        "Compress log files older than a week and delete those older than ninety days, keeping the service running.",
        ["Find log directories with du.", "Configure logrotate with compression.", "Check the service reopens its log file."])),
    ("search", "write-adr", "t-adr", from_template(
        "write-adr", "Write an architecture decision record for a design choice.", "Architecture decision records",
        "Record one architecture decision: its context, the options considered, the decision and its consequences.",
        ["Number the record after the last one in docs/adr.", "Describe alternatives fairly.", "Link the record from the README."])),
    ("ledger", "support-triage", "t-support", from_template(
        "support-triage", "Triage a customer support ticket into a bug, a question or a feature request.", "Support ticket triage",
        "Classify an incoming customer ticket, reproduce bugs, and route it to the owning team with a priority.",
        ["Reproduce the customer's steps.", "Search for duplicate tickets.", "Assign severity from customer impact."])),
    ("mobile", "readme-refresh", "t-readme", from_template(
        "readme-refresh", "Bring a README up to date with how the project builds and runs today.", "README refresh",
        "Update the README so a newcomer can install, build, test and run the project from a clean machine.",
        ["Try every command in the README.", "Fix outdated badges and links.", "Add a troubleshooting section."])),
    ("web", "terraform-plan-review", "t-terraform", from_template(
        "terraform-plan-review", "Review a terraform plan before it is applied.", "Terraform plan review",
        "Read a terraform plan and point out resources that would be destroyed or replaced, and any security group opened to the internet.",
        ["Run terraform plan with -out.", "List every destroy and replace.", "Flag 0.0.0.0/0 ingress rules."])),
    ("infra", "meeting-notes", "t-notes", from_template(
        "meeting-notes", "Summarise meeting notes into decisions and action items.", "Meeting notes",
        "Turn raw meeting notes into a list of decisions, open questions and action items with owners and dates.",
        ["Separate decisions from discussion.", "Give each action an owner.", "Send the summary to attendees."])),
]


def labelled_pairs() -> dict[tuple[int, int], bool]:
    """(i, j) -> whether skills i and j do the same job."""
    return {(i, j): SKILLS[i][2] == SKILLS[j][2] for i, j in combinations(range(len(SKILLS)), 2)}
