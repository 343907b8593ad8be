"""Bad answers and a broken foundation fail the render with a clear message and leave nothing behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.rendering import TEMPLATE_ROOT, commit_all, copy_template

COPIER = str(Path(sys.executable).with_name("copier"))


def copier_copy(template: Path, dst: Path, **data: object) -> subprocess.CompletedProcess[str]:
    args = [COPIER, "copy", "--trust", "--defaults", "--vcs-ref", "HEAD"]
    for key, value in data.items():
        args += ["--data", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
    return subprocess.run([*args, str(template), str(dst)], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"team_slug": "Bad_Slug"}, ["team_slug", "lowercase letters", "payments-api"]),
        ({"team_slug": "x"}, ["team_slug", "2-39"]),
        ({"owner": "nobody"}, ["owner", "payments@example.com"]),
        ({"skills": ["no-such-skill"]}, ["skills", "no-such-skill", "code-review"]),
        ({"mcp_servers": ["evil-server"]}, ["mcp_servers", "evil-server"]),
        ({"permission_profile": "god-mode"}, ["permission_profile", "god-mode", "standard"]),
        ({"extra_allow": ["Bash(*)"]}, ["extra_allow", "Bash(*)", "the foundation denies it"]),
        ({"extra_allow": ["Bash"]}, ["extra_allow", "'Bash' would allow"]),
        ({"extra_allow": ["Read(.env)"]}, ["extra_allow", "Read(.env)", "secret"]),
        ({"extra_allow": ["Read(**)"]}, ["extra_allow", "secret"]),
        ({"extra_allow": ["Bash(git push:*)"]}, ["extra_allow", "git-force-push"]),
        ({"extra_allow": ["Edit(.claude/**)"]}, ["extra_allow", "belongs to the foundation"]),
        ({"extra_allow": ["bash(ls)"]}, ["extra_allow", "capitalised"]),
        ({"extra_ask": ["Bash(make deploy:*"]}, ["extra_ask", "parentheses"]),
        ({"extra_network_hosts": ["https://pkgs.example.com/simple"]}, ["extra_network_hosts", "without scheme", "artifacts.internal.example.com"]),
        ({"extra_network_hosts": ["*"]}, ["extra_network_hosts", "'*'", "wildcard"]),
        ({"extra_network_hosts": ["*.com"]}, ["extra_network_hosts", "'*.com'"]),
        ({"extra_network_hosts": "pkgs.example.com"}, ["extra_network_hosts", "YAML list"]),
        ({"audit_log": "/var/log/agent.jsonl"}, ["audit_log", ".claude/audit/"]),
        ({"audit_log": "logs/agent.jsonl"}, ["audit_log", "git-ignored"]),
    ],
)
def test_bad_answer_fails_clearly_and_leaves_nothing(tmp_path, data, expected):
    dst = tmp_path / "team"
    run = copier_copy(TEMPLATE_ROOT, dst, **data)
    assert run.returncode != 0
    for text in expected:
        assert text in run.stderr, run.stderr[-2000:]
    assert not dst.exists()
    (question,) = data
    if question not in CHOICE_QUESTIONS:
        # a validator's refusal: the message alone, naming the answer, not Copier's forty-line traceback
        assert "Traceback" not in run.stderr, run.stderr[-3000:]
        assert any(line.startswith(f"{question}: ") for line in run.stderr.splitlines()), run.stderr


# Copier checks a choice before any validator runs, and lets the refusal out as a traceback; its last line
# names the answer and the valid choices.
CHOICE_QUESTIONS = {"permission_profile", "stacks", "skills", "mcp_servers"}


def test_narrow_extra_rules_are_accepted(tmp_path):
    dst = tmp_path / "team"
    run = copier_copy(TEMPLATE_ROOT, dst, extra_allow=["Bash(make test:*)", "Read(./docs/**)"],
                      extra_ask=["Bash(make deploy:*)"])
    assert run.returncode == 0, run.stderr[-2000:]
    allow = json.loads((dst / ".claude/settings.json").read_text())["permissions"]["allow"]
    assert "Bash(make test:*)" in allow and "Read(./docs/**)" in allow


@pytest.fixture
def template_copy(tmp_path: Path) -> Path:
    """A throwaway copy of this template, to break on purpose."""
    return copy_template(tmp_path / "template", tag=None)


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (("skills/code-review/metadata.yml", "risk: low", "risk: extreme"),
         ["foundation/skills/code-review/metadata.yml", "risk", "'extreme'", "low, medium or high"]),
        (("skills/code-review/metadata.yml", "version: 1.0.0", "version: one"),
         ["foundation/skills/code-review/metadata.yml", "version", "MAJOR.MINOR.PATCH"]),
        (("skills/writing-tests/SKILL.md", "name: writing-tests", "name: Writing_Tests"),
         ["foundation/skills/writing-tests/SKILL.md", "name", "lowercase"]),
        (("mcp-servers.yml", "version: \"2026.8.31\"", "version: latest"),
         ["foundation/mcp-servers.yml", "version", "exact version"]),
        (("profiles.yml", "\"Bash(git push:*)\"", "\"bash(git push:*)\""),
         ["foundation/profiles.yml", "profiles.standard.allow", "capitalised"]),
        (("client.yml", "fail_if_unavailable: true", "fail_if_unavailable: maybe"),
         ["foundation/client.yml", "sandbox.fail_if_unavailable", "true or false"]),
        (("client.yml", 'minimum_version: "2.1.332"', "minimum_version: latest"),
         ["foundation/client.yml", "minimum_version", "oldest client release"]),
        (("stacks.yml", '"python.artifacts.example.com"', '"https://python.artifacts.example.com/simple"'),
         ["foundation/stacks.yml", "stacks.python.network[0]", "without scheme"]),
        (("profiles.yml", '"*.k8s.example.com"', '"*"'),
         ["foundation/profiles.yml", "profiles.elevated.network[0]", "wildcard"]),
        (("policy.yml", "decision: deny", "decision: maybe"),
         ["foundation/policy.yml", "decision", "deny or ask"]),
    ],
)
def test_broken_registry_entry_fails_naming_file_field_and_fix(template_copy, tmp_path, breakage, expected):
    relative, old, new = breakage
    path = template_copy / "foundation" / relative
    text = path.read_text()
    assert old in text, f"test out of date: {old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1))
    commit_all(template_copy, "break it")
    dst = tmp_path / "team"
    run = copier_copy(template_copy, dst)
    assert run.returncode != 0
    for text in expected:
        assert text in run.stderr, run.stderr[-2000:]
    assert "Traceback" not in run.stderr  # a data problem is reported as a message, not a crash
    assert not dst.exists()
