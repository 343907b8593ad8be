"""The fleet never crashes on a repository's bytes: names and contents in any encoding, links (never followed,
reported), huge files (reported with their size), a corrupt answers file (a finding). Every output format - JSON
to a file and to stdout, Markdown, HTML, the terminal piped - stays valid and shows every column."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fleet_support import copy_repo, edit_json, settings_edit, template_root, validate

SCRIPT = Path(sys.executable).parent / "agent-foundation"
HUGE = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def hostile(rendered_team: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("bytes")
    root = template_root(tmp)
    repos = tmp / "repos"
    outside = tmp / "outside-secret"
    outside.mkdir()
    (outside / "SKILL.md").write_text("---\nname: stolen\n---\nthe fleet must never read this file\n", encoding="utf-8")

    odd = copy_repo(rendered_team, repos / "odd", "odd")
    skills = bytes(odd / ".claude/skills")
    os.mkdir(skills + b"/caf\xe9-\xff-skill")  # a folder name that is not UTF-8
    with open(skills + b"/caf\xe9-\xff-skill/SKILL.md", "wb") as handle:
        handle.write(b"---\nname: caf\xe9\n---\nLatin-1 text: r\xe9sum\xe9, na\xefve, \x00 and \x1b[31m red \x1b[0m\n")
    (odd / ".claude/skills/linked").symlink_to(outside)  # a link out of the repository
    huge = odd / ".claude/skills/huge/SKILL.md"
    huge.parent.mkdir()
    with open(huge, "wb") as handle:
        handle.truncate(HUGE)  # sparse: 50 MB on paper, nothing on disk
    edit_json(odd / ".claude/foundation/manifest.json",
              lambda m: m["team"].update(slug="odd|<b>bold</b>\x1b[2J", name="Team \udcff \x1b[2J<b>bold</b> | pipe", owner="o\ud800wner"))
    settings_edit(odd, lambda s: s["permissions"]["allow"].append("Bash(\udcff\x07:*)"))

    (repos / "linked-claude").mkdir(parents=True)
    (repos / "linked-claude" / ".copier-answers.yml").write_text((odd / ".copier-answers.yml").read_text(encoding="utf-8"), encoding="utf-8")
    (repos / "linked-claude" / ".claude").symlink_to(odd / ".claude")  # the whole .claude folder is a link

    corrupt = copy_repo(rendered_team, repos / "corrupt-answers", "corrupt-answers")
    (corrupt / ".copier-answers.yml").write_text("_commit: v0.3.0\n_src_path: [unclosed\n  team_slug: {{ oops\n", encoding="utf-8")
    conflicted = copy_repo(rendered_team, repos / "conflicted-answers", "conflicted-answers")
    (conflicted / ".copier-answers.yml").write_bytes(b"<<<<<<< HEAD\n_commit: v0.3.0\n=======\n_commit: v0.2.0\n>>>>>>> theirs\n")

    os.mkdir(bytes(repos) + b"/r\xe9po-\xfe")  # a repository folder whose own name is not UTF-8
    copy_repo(rendered_team, tmp / "plain", "plain")
    for item in (tmp / "plain").iterdir():
        os.rename(bytes(item), bytes(repos) + b"/r\xe9po-\xfe/" + item.name.encode())
    return {"root": root, "repos": repos, "tmp": tmp}


def _run(hostile: dict, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(SCRIPT), "--root", str(hostile["root"]), "fleet", str(hostile["repos"]), "--jobs", "1", *args],
                          capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def report(hostile: dict) -> dict:
    out = hostile["tmp"] / "report.json"
    result = _run(hostile, "--json", str(out))
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    return json.loads(out.read_text(encoding="utf-8"))


def _row(report: dict, repo: str) -> dict:
    return next(r for r in report["repos"] if r["repo"] == repo)


def test_json_report_is_valid_and_names_undecodable_bytes(report: dict) -> None:
    assert validate(report) == []
    odd = _row(report, "odd")
    local = {s["name"]: s for s in odd["skills"]["local"]}
    assert "caf\\xe9-\\xff-skill" in local, sorted(local)  # the bytes shown, not lost
    assert local["caf\\xe9-\\xff-skill"]["sha256"] and local["caf\\xe9-\\xff-skill"]["size"] > 0
    assert odd["team_name"].startswith("Team \\xff \\x1b[2J"), "an escaped undecodable byte shown as such, escape sequences made visible"
    assert odd["owner"] == "o\ufffdwner", "a lone surrogate replaced"
    assert "\x1b" not in json.dumps(report, ensure_ascii=False)
    assert _row(report, "r\\xe9po-\\xfe")["error"] is None, "a repository whose folder name is not UTF-8 is read like any other"


def test_links_are_never_followed_and_are_reported(report: dict) -> None:
    odd = _row(report, "odd")
    skipped = {s["path"]: s for s in odd["skipped_files"]}
    assert skipped[".claude/skills/linked"]["reason"] == "link"
    assert skipped[".claude/skills/linked"]["target"].endswith("outside-secret")
    assert "linked" not in {s["name"] for s in odd["skills"]["local"]}
    assert "never read this file" not in json.dumps(report)
    whole = _row(report, "linked-claude")
    assert {s["path"]: s["reason"] for s in whole["skipped_files"]} == {".claude": "link"}
    assert whole["skills"] == {"registry": [], "local": []} and whole["findings"] == [] or whole["posture_error"]
    assert any(f["code"] == "settings-unparsable" and "link" in f["message"] for f in whole["flags"]) or whole["error"]


def test_huge_files_are_reported_with_their_size(report: dict) -> None:
    odd = _row(report, "odd")
    huge = next(s for s in odd["skills"]["local"] if s["name"] == "huge")
    assert huge["size"] == HUGE and huge["sha256"] is None and "52428800 bytes" in huge["note"]
    skipped = {s["path"]: s for s in odd["skipped_files"]}
    assert skipped[".claude/skills/huge/SKILL.md"] == {"path": ".claude/skills/huge/SKILL.md", "reason": "too large", "size": HUGE, "target": None}
    assert report["org"]["skipped_files"] >= 3


def test_a_corrupt_answers_file_is_a_finding(report: dict) -> None:
    for repo in ("corrupt-answers", "conflicted-answers"):
        row = _row(report, repo)
        finding = next(f for f in row["findings"] if f["code"] == "answers-corrupt")
        assert finding["severity"] == "error" and finding["file"] == ".copier-answers.yml"
        assert "not valid YAML" in finding["message"] or "has no" in finding["message"], finding["message"]
        assert row["risk"]["score"] > 0
    clean = _row(report, "r\\xe9po-\\xfe")
    assert not any(f["code"] == "answers-corrupt" for f in clean["findings"])


def test_every_output_format_stays_valid(hostile: dict, report: dict) -> None:
    stdout_json = _run(hostile, "--json")
    assert stdout_json.returncode == 0, stdout_json.stderr
    assert validate(json.loads(stdout_json.stdout.decode("utf-8"))) == []

    md, html = hostile["tmp"] / "report.md", hostile["tmp"] / "report.html"
    result = _run(hostile, "--markdown", str(md), "--html", str(html))
    assert result.returncode == 0, result.stderr
    text = md.read_text(encoding="utf-8")  # strict UTF-8
    assert "caf\\xe9-\\xff-skill" in text or "odd" in text
    for line in text.splitlines():
        if line.startswith("| "):
            assert line.endswith(" |") and "\x1b" not in line
    assert "odd\\|&lt;b>bold&lt;/b>\\x1b[2J / odd" in text, "HTML and pipes in team data do not break the tables"
    page = html.read_text(encoding="utf-8")
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page
    assert "\x1b" not in page

    stdout_md = _run(hostile, "--markdown")
    assert stdout_md.returncode == 0 and stdout_md.stdout.decode("utf-8").startswith("# Agent foundation: fleet report")

    piped = _run(hostile, "--top", "0")
    assert piped.returncode == 0, piped.stderr
    terminal = piped.stdout.decode("utf-8")
    assert "\x1b" not in terminal, "piped output carries no escape sequence, from rich or from a team"
    header = next(line for line in terminal.splitlines() if "risk" in line and "profile" in line)
    for column in ("risk", "team / repository", "version", "profile", "flags", "find.", "skills r/s/m/l", "MCP v/u"):
        assert column in header, (column, header)
    for column in ("push", "publish", "infra", "network hosts", "MCP write tools", "sandbox", "agents"):
        assert column in terminal, column
