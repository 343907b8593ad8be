"""Throwaway, tagged template repositories built inside the tests (never this repository's own tags).

v0.1.0 is this checkout as it is. Later versions apply the kinds of change a platform team ships: a new deny
rule, a better org rule, a fixed hook, an updated and a new registry skill, a renamed foundation file, a
renamed answer and a retired skill, each with the CHANGELOG entry and migration a real release carries.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.rendering import commit_all, copy_template, git

ORG_RULES_OLD = ".claude/rules/org-rules.md"
ORG_RULES_NEW = ".claude/rules/organisation.md"
NEW_ORG_RULE = "- Never paste production data into a prompt, even redacted."
BETTER_ORG_RULE_V3 = "- Prefer the smallest change that fixes the problem, and say what you did not verify."
HOOK_FIX = "# 0.2.0: the guard reads its policy once per call"
V3_HOOK_FIX = "# 0.3.0: clearer block messages"


def _replace(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path}: {old!r} not found; the test's release recipe is out of date"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + text + "\n", encoding="utf-8")


def _changelog(root: Path, version: str, lines: list[str]) -> None:
    entry = f"## [{version}] - 2026-12-01\n\n### Changed\n" + "".join(f"- {line}\n" for line in lines) + "\n"
    _replace(root / "CHANGELOG.md", "## [Unreleased]\n\n", "## [Unreleased]\n\n" + entry)


def add_migration(root: Path, block: str) -> None:
    _replace(root / "foundation/migrations.yml", "migrations: []", "migrations:\n" + block)


def _deny_rule(rule_id: str, program: str) -> str:
    return (
        f"  - id: {rule_id}\n    family: filesystem-destruction\n    decision: deny\n"
        f"    reason: {program} wipes a shared production system.\n    instead: Ask the on-call engineer.\n"
        f'    settings: ["Bash({program}:*)"]\n    match: {{program: {program}}}\n'
        f'    examples: ["{program} --all"]\n'
    )


def release_0_2_0(root: Path) -> None:
    policy = root / "foundation/policy.yml"
    _replace(policy, "\n# WebFetch and MCP tools", "\n" + _deny_rule("prod-db-reset", "prod-db-reset") + "\n# WebFetch and MCP tools")
    _append(root / "foundation/org-rules.md", NEW_ORG_RULE)
    _append(root / "template/.claude/foundation/hooks/guard.py", HOOK_FIX)
    skill = root / "foundation/skills/code-review"
    _append(skill / "SKILL.md", "\n## Also check\n\n- Every new endpoint has an authorisation test.")
    _replace(skill / "metadata.yml", "version: 1.0.0", "version: 1.1.0")
    new_skill = root / "foundation/skills/api-design"
    new_skill.mkdir()
    (new_skill / "SKILL.md").write_text(
        "---\nname: api-design\ndescription: Review an HTTP API design for consistency and evolvability. Use when "
        "adding or changing endpoints.\n---\n\n# API design\n\n1. Nouns for resources.\n2. Version in the path.\n"
    )
    (new_skill / "metadata.yml").write_text(
        "owner: platform-team\nversion: 1.0.0\nrisk: low\nrecommended: true\norigin_team: platform-team\n"
        "summary: Review HTTP API designs.\n"
    )
    # A renamed foundation file: every reference moves, the template file moves.
    for path in [*root.joinpath("src").rglob("*.py"), *root.joinpath("foundation").glob("*.yml"), root / "copier.yml"]:
        text = path.read_text(encoding="utf-8")
        if ORG_RULES_OLD in text:
            path.write_text(text.replace(ORG_RULES_OLD, ORG_RULES_NEW), encoding="utf-8")
    template_rules = root / "template/.claude/rules"
    (template_rules / "org-rules.md.jinja").rename(template_rules / "organisation.md.jinja")
    _replace(template_rules / "organisation.md.jinja", ORG_RULES_OLD, ORG_RULES_NEW)
    # A renamed answer.
    for path in (root / "copier.yml", root / "extensions/foundation_context.py", root / "src/agent_foundation/render.py"):
        path.write_text(re.sub(r"\baudit_log\b", "audit_log_file", path.read_text(encoding="utf-8")), encoding="utf-8")
    # A retired skill.
    shutil.rmtree(root / "foundation/skills/writing-tests")
    add_migration(root, (
        "  - version: 0.2.0\n"
        f"    renamed_files: [{{from: {ORG_RULES_OLD}, to: {ORG_RULES_NEW}}}]\n"
        "    renamed_answers: [{from: audit_log, to: audit_log_file}]\n"
        "    retired_skills: [writing-tests]\n"
    ))
    _changelog(root, "0.2.0", ["New deny rule prod-db-reset.", "Org rules move to .claude/rules/organisation.md.",
                               "Answer audit_log is now audit_log_file.", "Skill writing-tests is retired."])


def release_0_3_0(root: Path) -> None:
    policy = root / "foundation/policy.yml"
    _replace(policy, "\n# WebFetch and MCP tools", "\n" + _deny_rule("prod-cache-flush", "prod-cache-flush") + "\n# WebFetch and MCP tools")
    _append(root / "foundation/org-rules.md", BETTER_ORG_RULE_V3)
    _append(root / "template/.claude/foundation/hooks/guard.py", V3_HOOK_FIX)
    _changelog(root, "0.3.0", ["New deny rule prod-cache-flush.", "A better org rule."])


def build_template_versions(dst: Path, releases: dict[str, object] | None = None) -> Path:
    """A git repository of this template tagged v0.1.0, v0.2.0, v0.3.0 (or the given releases)."""
    copy_template(dst, "v0.1.0")
    for version, release in (releases or {"v0.2.0": release_0_2_0, "v0.3.0": release_0_3_0}).items():
        release(dst)
        commit_all(dst, version)
        git(dst, "tag", version)
    git(dst, "repack", "-adq")  # as a template repository arrives from a git host: packed
    return dst
