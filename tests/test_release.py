"""`agent-foundation release`: refusals change nothing; a release dates the CHANGELOG, commits and tags.

Also the promotion round trip of the issue: a team renders and writes a skill, the platform promotes and
releases it, a second team renders and gets it, and the first team updates and its local copy becomes the
registry's (no duplicate), which later registry releases then update.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
import yaml
from copier import run_update

from agent_foundation import registry
from agent_foundation.release import ReleaseRefused, release
from tests.registry_repo import cli, commit
from tests.rendering import git, render_team


@pytest.fixture
def repo(registry_checkout: Path) -> Path:
    return registry_checkout


def with_unreleased_entry(repo: Path) -> None:
    from agent_foundation import changelog

    text = changelog.read(repo)
    (repo / "CHANGELOG.md").write_text(changelog.add_entry(text, "Fixed", "A test fix."))
    commit(repo, "changelog entry")


def state(repo: Path) -> tuple[str, str, str, str]:
    return (
        git(repo, "rev-parse", "HEAD"),
        git(repo, "tag", "--list"),
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        (repo / "CHANGELOG.md").read_text() if (repo / "CHANGELOG.md").exists() else "",
    )


def assert_refused(repo: Path, version: str, *fragments: str, extra: tuple[str, ...] = ("--yes",), code: int = 1) -> None:
    """Refused with nothing changed; exit 2 when the command line itself is wrong, 1 for the repository's state."""
    before = state(repo)
    result = cli(repo, "release", version, *extra)
    assert result.returncode == code, result.stdout + result.stderr
    assert "release: refused:" in result.stderr and "nothing was changed" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert state(repo) == before


def test_release_moves_unreleased_commits_and_tags(repo: Path) -> None:
    with_unreleased_entry(repo)
    result = cli(repo, "release", "0.2.0", "--yes")
    assert result.returncode == 0, result.stderr
    assert "committed and tagged v0.2.0" in result.stdout
    text = (repo / "CHANGELOG.md").read_text()
    today = datetime.date.today().isoformat()
    assert f"## [Unreleased]\n\n## [0.2.0] - {today}\n" in text
    assert text.index("- A test fix.") > text.index("## [0.2.0]")
    assert "v0.2.0" in git(repo, "tag", "--list").split()
    assert git(repo, "log", "-1", "--format=%s").strip() == "release: v0.2.0"
    assert git(repo, "rev-parse", "v0.2.0^{commit}") == git(repo, "rev-parse", "HEAD")
    assert git(repo, "status", "--porcelain") == ""


def test_refuses_a_non_semver(repo: Path) -> None:
    with_unreleased_entry(repo)
    for bad in ("0.2", "v1", "1.2.3-rc1", "latest", "01.2.3"):
        assert_refused(repo, bad, "is not a semantic version", "MAJOR.MINOR.PATCH", code=2)


def test_refuses_a_version_not_greater_than_the_last_tag(repo: Path) -> None:
    with_unreleased_entry(repo)
    assert_refused(repo, "0.1.0", "v0.1.0 is not greater than the last release v0.1.0", code=2)
    assert_refused(repo, "v0.0.9", "v0.0.9 is not greater than the last release v0.1.0", code=2)


def test_refuses_a_dirty_tree(repo: Path) -> None:
    with_unreleased_entry(repo)
    (repo / "stray.txt").write_text("untracked\n")
    assert_refused(repo, "0.2.0", "the working tree is not clean", "?? stray.txt")
    (repo / "stray.txt").unlink()
    with (repo / "foundation/org-rules.md").open("a") as handle:
        handle.write("\nuncommitted\n")
    assert_refused(repo, "0.2.0", "M foundation/org-rules.md")


def test_refuses_an_empty_unreleased_section(repo: Path) -> None:
    from agent_foundation import changelog

    text = changelog.read(repo)
    body = changelog.unreleased_body(text)
    if body:
        (repo / "CHANGELOG.md").write_text(text.replace(body, "", 1))
        commit(repo, "empty unreleased")
    assert_refused(repo, "0.2.0", "nothing under ## [Unreleased]")


def test_refuses_when_the_registry_check_fails(repo: Path) -> None:
    with_unreleased_entry(repo)
    with (repo / "foundation/skills/code-review/SKILL.md").open("a") as handle:
        handle.write("\nA changed rule.\n")
    commit(repo, "change without a version bump")
    assert_refused(repo, "0.2.0", "registry check found", "changed since v0.1.0")


def test_refuses_without_yes_and_without_a_terminal(repo: Path) -> None:
    with_unreleased_entry(repo)
    assert_refused(repo, "0.2.0", "pass --yes", extra=(), code=2)


def test_release_function_raises_with_the_same_message(repo: Path) -> None:
    with pytest.raises(ReleaseRefused, match="not greater"):
        release(repo, "0.1.0", yes=True)


# ---------------------------------------------------------------- the promotion round trip

SKILL = """---
name: api-conventions
description: Applies the payments team's REST API conventions (resource naming, pagination, error envelopes, idempotency keys). Use when designing or reviewing an HTTP endpoint.
---

# API conventions

1. Plural nouns for collections.
"""


def skill_dirs_named(team: Path, name: str) -> list[Path]:
    """Every skill folder in the team repo whose SKILL.md declares `name` (a duplicate would show twice)."""
    found = []
    for skill_md in team.rglob("SKILL.md"):
        if ".git" in skill_md.parts:
            continue
        if f"\nname: {name}\n" in "\n" + skill_md.read_text():
            found.append(skill_md.parent.relative_to(team))
    return found


def test_promotion_round_trip(repo: Path, tmp_path: Path) -> None:
    # 1. a team renders the foundation (v0.1.0) and writes its own skill
    team_a = render_team(tmp_path / "payments-api", template=str(repo), vcs_ref="v0.1.0")
    local = team_a / ".claude/skills/api-conventions"
    local.mkdir(parents=True)
    (local / "SKILL.md").write_text(SKILL)
    (local / "checklist.md").write_text("- [ ] idempotency key on every POST\n")
    commit(team_a, "our API conventions skill")

    # 2. the platform promotes it and releases v0.2.0
    result = cli(repo, "promote", str(local), "--team", "payments-api", "--risk", "low", "--owner", "@org/payments", "--yes")
    assert result.returncode == 0, result.stderr
    commit(repo, "promote api-conventions from payments-api")
    result = cli(repo, "release", "0.2.0", "--yes")
    assert result.returncode == 0, result.stderr
    assert registry.check(repo) == []

    # 3. a second team renders the new release and gets the skill
    team_b = render_team(tmp_path / "search", {"team_name": "Search", "team_slug": "search",
                                               "skills": ["code-review", "api-conventions"]},
                         template=str(repo), vcs_ref="v0.2.0")
    assert (team_b / ".claude/skills/api-conventions/SKILL.md").read_text() == SKILL
    manifest_b = json.loads((team_b / ".claude/foundation/manifest.json").read_text())
    assert {"name": "api-conventions", "version": "1.0.0"}.items() <= next(
        s for s in manifest_b["skills"] if s["name"] == "api-conventions").items()

    # 4. the first team updates, choosing the registry skill: its local copy becomes the registry's
    answers = yaml.safe_load((team_a / ".copier-answers.yml").read_text())
    assert "api-conventions" not in answers["skills"]
    run_update(str(team_a), overwrite=True, defaults=True, unsafe=True, quiet=True, vcs_ref="v0.2.0",
               data={"skills": [*answers["skills"], "api-conventions"]})
    assert git(team_a, "diff", "--name-only", "--diff-filter=U") == ""
    assert skill_dirs_named(team_a, "api-conventions") == [Path(".claude/skills/api-conventions")]
    assert sorted(p.name for p in local.iterdir()) == ["SKILL.md", "checklist.md"]
    manifest_a = json.loads((team_a / ".claude/foundation/manifest.json").read_text())
    assert "api-conventions" in [s["name"] for s in manifest_a["skills"]]
    assert "api-conventions" in yaml.safe_load((team_a / ".copier-answers.yml").read_text())["skills"]
    commit(team_a, "take the registry's api-conventions")

    # 5. the copy is now the registry's: the platform's next version replaces it on the next update
    with (repo / "foundation/skills/api-conventions/SKILL.md").open("a") as handle:
        handle.write("2. Cursor pagination, never offsets.\n")
    meta = repo / "foundation/skills/api-conventions/metadata.yml"
    meta.write_text(meta.read_text().replace("version: 1.0.0", "version: 1.1.0"))
    from agent_foundation import changelog

    (repo / "CHANGELOG.md").write_text(changelog.add_entry(changelog.read(repo), "Changed", "Skill `api-conventions` 1.1.0: pagination."))
    assert cli(repo, "marketplace").returncode == 0
    commit(repo, "api-conventions 1.1.0")
    assert cli(repo, "release", "0.3.0", "--yes").returncode == 0
    run_update(str(team_a), overwrite=True, defaults=True, unsafe=True, quiet=True, vcs_ref="v0.3.0")
    assert git(team_a, "diff", "--name-only", "--diff-filter=U") == ""
    assert (local / "SKILL.md").read_text() == SKILL + "2. Cursor pagination, never offsets.\n"
    assert skill_dirs_named(team_a, "api-conventions") == [Path(".claude/skills/api-conventions")]
