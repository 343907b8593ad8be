"""`agent-foundation registry check`: every problem is found, named (file, field, fix) and fails the exit code."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agent_foundation import registry
from tests.registry_repo import cli, commit
from tests.rendering import TEMPLATE_ROOT


@pytest.fixture
def repo(registry_checkout: Path) -> Path:
    return registry_checkout


def problems_of(repo: Path) -> list[registry.Problem]:
    return registry.check(repo)


def find(problems: list[registry.Problem], file_part: str, message_part: str) -> registry.Problem:
    for problem in problems:
        if file_part in problem.file and message_part in problem.message:
            return problem
    raise AssertionError(f"no problem in {file_part!r} mentioning {message_part!r}; got:\n" + "\n".join(map(str, problems)))


def skill_md(repo: Path, name: str = "code-review") -> Path:
    return repo / "foundation" / "skills" / name / "SKILL.md"


def test_the_committed_registry_passes() -> None:
    result = cli(TEMPLATE_ROOT, "registry", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "registry check: ok" in result.stdout


def test_a_copy_passes_and_json_output_is_clean(repo: Path) -> None:
    result = cli(repo, "registry", "check", "--json")
    assert result.returncode == 0, result.stdout
    data = json.loads(result.stdout)
    assert (data["ok"], data["problems"]) == (True, [])
    assert [cost["part"] for cost in data["context"]] == ["org_rules", "skill_listing", "total"]


def test_every_problem_is_listed_at_once_with_file_field_and_fix(repo: Path) -> None:
    text = skill_md(repo).read_text()
    skill_md(repo).write_text(text.replace("name: code-review", "name: Code_Review"))
    (repo / "foundation/skills/writing-tests/metadata.yml").write_text("owner: x\nversion: 1.0.0\nrisk: low\n")
    result = cli(repo, "registry", "check", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    fields = {(p["file"], p["field"]) for p in report["problems"]}
    assert ("foundation/skills/code-review/SKILL.md", "name") in fields
    assert ("foundation/skills/writing-tests/metadata.yml", "recommended") in fields
    assert all(p["fix"] for p in report["problems"])
    text_result = cli(repo, "registry", "check")
    assert text_result.returncode == 1
    assert "fix:" in text_result.stdout and "problem(s)" in text_result.stdout


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        (lambda t: t.replace("name: code-review", "name: review-code"), "name", "does not match its folder"),
        (lambda t: t.replace("name: code-review\n", ""), "name", "is missing"),
        (lambda t: "\n".join(l for l in t.splitlines() if not l.startswith("description:")) + "\n", "description", "is missing"),
        (lambda t: t.replace("description: ", "description: " + "x" * 1100 + " ", 1), "description", "over 1024"),
        (lambda t: t.replace("name: code-review", "name: claude-review"), "name", "reserved word"),
    ],
    ids=["name-mismatch", "name-missing", "description-missing", "description-too-long", "reserved-word"],
)
def test_frontmatter_within_client_limits(repo: Path, edit, field: str, message: str) -> None:
    skill_md(repo).write_text(edit(skill_md(repo).read_text()))
    problem = find(problems_of(repo), "code-review/SKILL.md", message)
    assert problem.field == field


def test_metadata_must_be_complete_and_known(repo: Path) -> None:
    meta = repo / "foundation/skills/code-review/metadata.yml"
    meta.write_text(meta.read_text().replace("risk: low\n", "") + "recomended: true\n")
    problems = problems_of(repo)
    assert find(problems, "code-review/metadata.yml", "is missing").field == "risk"
    meta.write_text(meta.read_text() + "risk: low\n")
    assert find(problems_of(repo), "code-review/metadata.yml", "not a metadata key").field == "recomended"
    meta.write_text(meta.read_text().replace("owner: platform-team", "owner: ''"))
    assert find(problems_of(repo), "code-review/metadata.yml", "is empty").field == "owner"


@pytest.mark.parametrize(
    ("path", "char", "kind"),
    [
        ("foundation/skills/code-review/SKILL.md", "\u202e", "RIGHT-TO-LEFT OVERRIDE"),
        ("foundation/skills/code-review/SKILL.md", "\u200b", "ZERO WIDTH SPACE"),
        ("foundation/org-rules.md", "\U000e0041", "TAG LATIN CAPITAL LETTER A"),
        ("foundation/policy.yml", "\u2066", "LEFT-TO-RIGHT ISOLATE"),
    ],
    ids=["bidi-override-in-skill", "zero-width-in-skill", "tag-char-in-rules", "isolate-in-policy"],
)
def test_hidden_and_bidirectional_unicode_anywhere_in_foundation(repo: Path, path: str, char: str, kind: str) -> None:
    target = repo / path
    lines = target.read_text().splitlines(keepends=True)
    lines.insert(3, f"# harmless{char} looking line\n")
    target.write_text("".join(lines))
    problem = find(problems_of(repo), path, "hidden or bidirectional Unicode")
    assert kind in problem.message
    assert problem.field == "line 4, column 11"
    assert "delete the character" in problem.fix


@pytest.mark.parametrize(
    "secret",
    [
        "AKIA" + "Q3ZT7LKP0VWS9RMX",
        "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        "-----BEGIN " + "OPENSSH PRIVATE KEY-----",
        'api_key = "' + "q8Zt3LkP0vWs9RmX2yB" + '"',
        "https://deploy:" + "s3cr3tPassw0rd@git.internal.test/repo.git",
    ],
    ids=["aws", "github", "private-key", "assignment", "url-credentials"],
)
def test_secret_looking_strings(repo: Path, secret: str) -> None:
    target = repo / "foundation/skills/code-review/notes.md"
    target.write_text(f"Use this:\n{secret}\n")
    problem = find(problems_of(repo), "code-review/notes.md", "secret-looking string")
    assert problem.field == "line 2"
    assert "rotate" in problem.fix


def test_placeholders_are_not_secrets() -> None:
    text = 'api_key = "${API_KEY}"\ntoken: "<your-token-here>"\npassword = "changeme-please"\n'
    assert registry.secret_strings(text) == []


def test_files_a_skill_may_not_carry(repo: Path, tmp_path: Path) -> None:
    folder = repo / "foundation/skills/code-review"
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    outside = tmp_path / "outside.md"
    outside.write_text("outside the registry\n")
    os.symlink(outside, folder / "linked.md")
    (folder / "refs").mkdir()
    (folder / "refs" / "deep.md").write_text("nested\n")
    problems = problems_of(repo)
    assert "binary" in find(problems, "code-review/logo.png", "binary").message
    assert "symbolic link" in find(problems, "code-review/linked.md", "symbolic link").message
    assert "flat files" in find(problems, "code-review/refs/", "subfolder").message


def test_content_change_without_version_bump_since_last_tag(repo: Path) -> None:
    with skill_md(repo).open("a") as handle:
        handle.write("\nOne more rule.\n")
    problem = find(problems_of(repo), "code-review/metadata.yml", "changed since v0.1.0")
    assert problem.field == "version"
    assert "1.0.1" in problem.fix and "1.1.0" in problem.fix
    meta = repo / "foundation/skills/code-review/metadata.yml"
    meta.write_text(meta.read_text().replace("version: 1.0.0", "version: 1.0.1"))
    assert not [p for p in problems_of(repo) if p.field == "version"]


def test_a_version_may_not_go_backwards(repo: Path) -> None:
    from tests.rendering import git

    meta = repo / "foundation/skills/code-review/metadata.yml"
    meta.write_text(meta.read_text().replace("version: 1.0.0", "version: 1.2.0"))
    with skill_md(repo).open("a") as handle:
        handle.write("\nMore.\n")
    from agent_foundation import marketplace
    from agent_foundation.foundation import load_foundation

    marketplace.write(repo, load_foundation(repo / "foundation"))
    commit(repo, "1.2.0")
    git(repo, "tag", "-a", "v0.2.0", "-m", "v0.2.0")
    meta.write_text(meta.read_text().replace("version: 1.2.0", "version: 1.1.0"))
    assert "lower than 1.2.0" in find(problems_of(repo), "code-review/metadata.yml", "lower than").message


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ('version: "4.1.1"', 'version: "^4.1.1"', "servers.context7.version", "not an exact version"),
        ('version: "4.1.1"', 'version: "latest"', "servers.context7.version", "not an exact version"),
        ('package: "@upstash/context7-mcp"', 'package: "@upstash/context7-mcp@latest"', "servers.context7.package", "carries a version"),
    ],
    ids=["range", "latest", "tag-in-package"],
)
def test_mcp_servers_pinned_to_exact_versions(repo: Path, old: str, new: str, field: str, message: str) -> None:
    path = repo / "foundation/mcp-servers.yml"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    assert find(problems_of(repo), "mcp-servers.yml", message).field == field


def test_profiles_refer_to_existing_policy_and_stacks(repo: Path) -> None:
    profiles = repo / "foundation/profiles.yml"
    text = profiles.read_text()
    profiles.write_text(text.replace('    allow:\n', '    allow:\n      - "Bash(sudo:*)"\n', 1).replace("    stack_commands: [test, lint]", "    stack_commands: [test, lint]\n    stacks: [cobol]", 1))
    problems = problems_of(repo)
    assert "the policy denies" in find(problems, "profiles.yml", "the policy denies").message
    assert find(problems, "profiles.yml", "'cobol' does not exist").field == "profiles.restricted.stacks"
    copier_yml = repo / "copier.yml"
    copier_yml.write_text(copier_yml.read_text().replace("  default: standard", "  default: permissive"))
    assert find(problems_of(repo), "copier.yml", "not a profile").field == "permission_profile.default"


def test_stale_marketplace_manifest(repo: Path) -> None:
    path = repo / ".claude-plugin/marketplace.json"
    data = json.loads(path.read_text())
    data["plugins"][0]["description"] = "hand edited"
    path.write_text(json.dumps(data, indent=2) + "\n")
    problem = find(problems_of(repo), ".claude-plugin/marketplace.json", "stale")
    assert "agent-foundation marketplace" in problem.fix
    path.unlink()
    assert find(problems_of(repo), ".claude-plugin/marketplace.json", "missing")


def test_hidden_unicode_scanner_names_each_character() -> None:
    found = registry.hidden_unicode("ok\nab\u202ecd\u200d\n")
    assert found == [
        "line 2, column 3: U+202E RIGHT-TO-LEFT OVERRIDE (bidirectional control)",
        "line 2, column 6: U+200D ZERO WIDTH JOINER (invisible character)",
    ]
    assert registry.hidden_unicode("tabs\tand accents: café, naïve, 日本\n") == []
