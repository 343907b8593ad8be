"""The fleet report on a known fleet: every flag where planted and nowhere else, versions, skills, MCP servers,
risk ranking, promotion candidates, audit logs, bad repositories as rows, and the JSON schema."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agent_foundation.cli import main
from agent_foundation.fleet import report as report_module
from agent_foundation.fleet.command import build_report
from tests.fleet_support import SCHEMA, add_skill, copy_repo, edit_json, settings_edit, template_root, validate
from tests.rendering import TEMPLATE_ROOT

CHECKLIST = """---
name: deploy-checklist
description: Walk through our deployment checklist before shipping a service to production.
---

# Deploy checklist

Before you deploy, confirm the change has been reviewed and the continuous integration pipeline is green on
the exact commit you will ship. Read the migration notes and check whether the database schema changes are
backwards compatible with the version currently running. Make sure feature flags default to off for the new
code paths, and that the rollback procedure is written down in the pull request description.

During the deploy, watch the error rate, latency and saturation dashboards for at least fifteen minutes. If
the error budget burn rate doubles, roll back first and investigate afterwards. Announce the deploy in the
team channel with a link to the change and the person on call.

After the deploy, verify the health checks, close the change ticket, and write down anything surprising in
the runbook so the next person does not trip over it.
"""
# the same skill, renamed and lightly edited by another team
CHECKLIST_COPY = (CHECKLIST.replace("name: deploy-checklist", "name: shipping-checklist")
                  .replace("fifteen minutes", "twenty minutes").replace("team channel", "release channel")
                  .replace("# Deploy checklist", "# Shipping checklist"))
UNRELATED = """---
name: oncall-handover
description: Hand over the on-call pager at the end of a shift.
---

# On-call handover

Summarise open incidents, silenced alerts and anything paged twice. Name the owner of each open item and
the next step. Link the dashboards you watched. Remind the next person where the escalation policy lives.
"""

# repository -> the flags planted in it (every other repository must have none)
PLANTED = {
    "clean": set(),
    "broad": {"broad-allow"},
    "bypass-default": {"bypass-possible"},
    "bypass-allowed": {"bypass-possible"},
    "hooks-removed": {"hooks-removed"},
    "hooks-edited": {"hooks-edited"},
    "guard-edited": {"hooks-edited"},
    "mcp-write": {"mcp-write-unapproved"},
    "unparsable": {"settings-unparsable"},
    "deny-removed": {"deny-rules-removed"},
    "sandbox-off": {"sandbox-off"},
    "unvetted": set(),
    "old": set(),
    "skills": set(),
    "alpha": set(),
    "beta": set(),
    "gamma": set(),
}


@pytest.fixture(scope="module")
def fleet(rendered_team: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("fleet")
    root = template_root(tmp)
    repos = tmp / "repos"
    repos.mkdir()
    made = {name: copy_repo(rendered_team, repos / name, name) for name in PLANTED}

    settings_edit(made["broad"], lambda s: s["permissions"]["allow"].append("Bash(*)"))
    settings_edit(made["bypass-default"], lambda s: s["permissions"].update(defaultMode="bypassPermissions"))
    settings_edit(made["bypass-allowed"], lambda s: s["permissions"].pop("disableBypassPermissionsMode"))
    settings_edit(made["hooks-removed"], lambda s: s["hooks"].pop("PreToolUse"))
    settings_edit(made["hooks-edited"], lambda s: s["hooks"]["PreToolUse"][0].update(matcher="Bash"))
    guard = made["guard-edited"] / ".claude/foundation/hooks/guard.py"
    guard.write_text(guard.read_text(encoding="utf-8") + "\n# allow everything on Fridays\n", encoding="utf-8")
    settings_edit(made["mcp-write"], lambda s: s["permissions"]["allow"].append("mcp__memory__create_entities"))
    settings_edit(made["deny-removed"], lambda s: s["permissions"].update(deny=[]))
    settings_edit(made["sandbox-off"], lambda s: s["sandbox"].update(enabled=False))
    settings = made["unparsable"] / ".claude/settings.json"
    settings.write_text("<<<<<<< HEAD\n" + settings.read_text(encoding="utf-8") + "=======\n{}\n>>>>>>> theirs\n", encoding="utf-8")
    edit_json(made["unvetted"] / ".mcp.json", lambda m: m["mcpServers"].update(
        {"jira-helper": {"command": "npx", "args": ["-y", "jira-helper-mcp@0.4.0"]}}))
    copy_repo(rendered_team, repos / "old-tmp", "old", "v0.1.0")
    (repos / "old").rename(repos / "old-gone")
    (repos / "old-tmp").rename(repos / "old")
    import shutil
    shutil.rmtree(repos / "old-gone")
    edit_json(made["skills"] / ".claude/foundation/manifest.json", lambda m: m["skills"][2].update(version="0.9.0"))
    review = made["skills"] / ".claude/skills/code-review/SKILL.md"
    review.write_text(review.read_text(encoding="utf-8") + "\nAlso check the changelog.\n", encoding="utf-8")
    add_skill(made["alpha"], "deploy-checklist", CHECKLIST)
    add_skill(made["beta"], "shipping-checklist", CHECKLIST_COPY)
    add_skill(made["gamma"], "oncall-handover", UNRELATED)
    notes = (TEMPLATE_ROOT / "foundation/skills/release-notes/SKILL.md").read_text(encoding="utf-8")
    add_skill(made["gamma"], "our-release-notes", notes.replace("name: release-notes", "name: our-release-notes") + "\nWe also post them in chat.\n")

    (repos / "not-a-repo").mkdir()
    (repos / "not-a-repo" / "README.md").write_text("just a folder\n")
    corrupt = copy_repo(rendered_team, repos / "corrupt", "corrupt")
    (corrupt / ".claude/foundation/manifest.json").write_text('{"schema": 1, "files": {', encoding="utf-8")

    log = made["clean"] / ".claude/audit/audit.jsonl"
    log.parent.mkdir(parents=True)
    records = [
        {"event": "PreToolUse", "team": "clean", "tool": "Bash", "decision": "deny", "reason": "Blocked by the organisation's policy (rule pipe-to-shell): x"},
        {"event": "PreToolUse", "team": "clean", "tool": "Bash", "decision": "deny", "reason": "Blocked by the organisation's policy (rule pipe-to-shell): x"},
        {"event": "PreToolUse", "team": "clean", "tool": "Bash", "decision": "ask", "reason": "Blocked by the organisation's policy (rule publish-package): x"},
        {"event": "PreToolUse", "team": "clean", "tool": "Bash", "decision": "allow", "reason": "no rule matched"},
        {"event": "PostToolUse", "team": "clean", "tool": "Bash"},
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in records) + "not json\n", encoding="utf-8")
    external = tmp / "central-audit.jsonl"
    external.write_text(json.dumps({"team": "beta", "tool": "Read", "decision": "deny",
                                    "reason": "Blocked by the organisation's policy (rule secrets-read): .env holds secrets"}) + "\n")

    data = build_report(root, [str(repos)], audit_paths=[external], jobs=1)
    return {"root": root, "repos": repos, "report": data, "rows": {Path(r["source"]).name: r for r in data["repos"]}}


def test_every_flag_is_found_where_planted_and_nowhere_else(fleet: dict) -> None:
    rows = fleet["rows"]
    found = {name: {f["code"] for f in rows[name]["flags"]} for name in PLANTED}
    assert found == PLANTED
    for name, codes in PLANTED.items():
        for flag in rows[name]["flags"]:
            assert flag["message"] and flag["file"], flag


def test_clean_repository_has_no_findings_and_no_risk(fleet: dict) -> None:
    clean = fleet["rows"]["clean"]
    assert clean["error"] is None and clean["posture_error"] is None
    assert clean["findings"] == []
    assert clean["risk"] == {"score": 0, "level": "low", "high_blast": 0, "reasons": []}
    assert fleet["report"]["posture_check"] == "template/.claude/foundation/check.py"


def test_posture_findings_come_from_the_team_side_check(fleet: dict) -> None:
    sys.path.insert(0, str(TEMPLATE_ROOT / "template/.claude/foundation"))
    try:
        import importlib.util
        spec = importlib.util.spec_from_file_location("check_direct", TEMPLATE_ROOT / "template/.claude/foundation/check.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["check_direct"] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)
    for name in ("broad", "unvetted", "hooks-removed", "skills"):
        direct = [f.code for f in module.posture_findings(fleet["repos"] / name)]
        assert direct, name
        assert [f["code"] for f in fleet["rows"][name]["findings"]] == direct


def test_versions_and_how_far_behind(fleet: dict) -> None:
    data, rows = fleet["report"], fleet["rows"]
    assert data["latest_release"] == "0.3.0" and data["releases"] == ["0.1.0", "0.2.0", "0.3.0"]
    assert rows["old"]["version"] == "0.1.0" and rows["old"]["releases_behind"] == 2 and not rows["old"]["on_latest"]
    assert rows["clean"]["releases_behind"] == 0 and rows["clean"]["on_latest"]
    adoption = data["org"]["version_adoption"]
    # the corrupt repository still tells its version through its answers, so it counts
    assert {v["version"]: v["repos"] for v in adoption["versions"]} == {"0.3.0": len(PLANTED), "0.1.0": 1}
    assert adoption["on_latest"] == len(PLANTED)
    assert any("2 release(s) behind" == r["why"] for r in rows["old"]["risk"]["reasons"])


def test_latest_override(fleet: dict) -> None:
    data = build_report(fleet["root"], [str(fleet["repos"] / "old")], latest="v0.2.0", jobs=1)
    assert data["latest_release"] == "0.2.0" and data["repos"][0]["releases_behind"] == 1
    with pytest.raises(ValueError, match="not a release version"):
        build_report(fleet["root"], [str(fleet["repos"] / "old")], latest="latest", jobs=1)


def test_registry_skills_current_stale_modified_and_local(fleet: dict) -> None:
    rows = fleet["rows"]
    clean = {s["name"]: s["status"] for s in rows["clean"]["skills"]["registry"]}
    assert clean == {"code-review": "current", "security-review": "current", "writing-tests": "current"}
    skills = {s["name"]: s for s in rows["skills"]["skills"]["registry"]}
    assert skills["code-review"]["status"] == "modified" and skills["code-review"]["modified"]
    assert skills["writing-tests"]["status"] == "stale" and skills["writing-tests"]["version"] == "0.9.0"
    assert skills["security-review"]["status"] == "current"
    assert [s["name"] for s in rows["gamma"]["skills"]["local"]] == ["oncall-handover", "our-release-notes"]
    assert all(not r["skills"]["local"] for n, r in rows.items() if n in PLANTED and n not in ("alpha", "beta", "gamma"))
    reuse = fleet["report"]["org"]["reuse"]
    assert reuse["local_skills_in_use"] == 4
    assert reuse["fraction"] == round(reuse["registry_skills_in_use"] / (reuse["registry_skills_in_use"] + 4), 4)


def test_mcp_servers_vetted_and_unvetted(fleet: dict) -> None:
    unvetted = {s["name"]: s for s in fleet["rows"]["unvetted"]["mcp_servers"]}
    assert unvetted["jira-helper"]["vetted"] is False and unvetted["jira-helper"]["risk"] == "unknown"
    assert unvetted["jira-helper"]["package"] == "jira-helper-mcp" and unvetted["jira-helper"]["version"] == "0.4.0"
    assert unvetted["memory"]["vetted"] and unvetted["memory"]["risk"] == "low" and unvetted["memory"]["enabled"]
    servers = {s["name"]: s for s in fleet["report"]["org"]["mcp_servers"]}
    assert servers["jira-helper"] == {"name": "jira-helper", "teams": 1, "repos": 1, "unvetted_repos": 1, "vetted": False, "risk": "unknown"}
    assert servers["memory"]["vetted"] and servers["memory"]["teams"] == len(PLANTED) + 1  # with the corrupt one
    for name, row in fleet["rows"].items():
        if name in PLANTED and name != "unvetted":
            assert all(s["vetted"] for s in row["mcp_servers"]), name


def test_risk_ranks_high_blast_radius_first_and_says_why(fleet: dict) -> None:
    data = fleet["report"]
    order = [Path(r["source"]).name for r in data["repos"]]
    blast = {"unparsable", "deny-removed", "hooks-removed", "bypass-default", "bypass-allowed", "sandbox-off"}
    assert set(order[:len(blast)]) == blast, order[:8]
    for row in data["repos"][:len(blast)]:
        assert row["risk"]["level"] == "critical" and row["risk"]["high_blast"] >= 1
        top = row["risk"]["reasons"][0]
        assert top["blast"] and top["why"].startswith("high blast radius: ") and top["points"] >= 50
    # a repository with every deny rule removed outranks one carrying every lesser problem at once
    others = [r for r in data["repos"][len(blast):] if r["risk"]]
    assert all(not r["risk"]["high_blast"] for r in others)
    assert fleet["rows"]["deny-removed"]["risk"]["score"] > max(r["risk"]["score"] for r in others)
    assert "refuses what the organisation forbids" in fleet["rows"]["deny-removed"]["risk"]["reasons"][0]["why"] or \
        "no longer refuses" in fleet["rows"]["deny-removed"]["risk"]["reasons"][0]["why"]
    scores = [r["risk"]["score"] for r in others]
    assert scores == sorted(scores, reverse=True)
    assert order[-1] == "not-a-repo"
    assert data["org"]["high_blast_repos"] == len(blast)
    for name in ("broad", "bypass-default", "hooks-removed", "mcp-write", "unvetted"):
        assert fleet["rows"][name]["risk"]["score"] > 0


def test_bad_repositories_are_rows_with_a_clear_error(fleet: dict) -> None:
    rows = fleet["rows"]
    assert "not a foundation repository" in rows["not-a-repo"]["error"] and rows["not-a-repo"]["risk"] is None
    assert "manifest.json" in rows["corrupt"]["error"] and "not valid JSON" in rows["corrupt"]["error"]
    assert fleet["report"]["org"]["errors"] == 2
    for name in PLANTED:
        assert rows[name]["error"] is None, (name, rows[name]["error"])


def test_promotion_candidates_and_registry_duplicates(fleet: dict) -> None:
    org = fleet["report"]["org"]
    assert len(org["promotion_candidates"]) == 1
    candidate = org["promotion_candidates"][0]
    assert candidate["teams"] == ["alpha", "beta"] and candidate["copies"] == 2
    assert {m["skill"] for m in candidate["members"]} == {"deploy-checklist", "shipping-checklist"}
    assert candidate["min_similarity"] >= 0.5
    assert len(org["registry_duplicates"]) == 1
    duplicate = org["registry_duplicates"][0]
    assert duplicate["registry_skill"] == "release-notes" and duplicate["teams"] == ["gamma"]


def test_audit_logs_by_family_and_team(fleet: dict) -> None:
    audit = fleet["report"]["audit"]
    assert audit["files"] == 2 and audit["unreadable_lines"] == 0
    assert audit["denials"] == 3 and audit["asks"] == 1
    families = {f["family"]: (f["deny"], f["ask"]) for f in audit["by_family"]}
    assert families == {"remote-code-execution": (2, 0), "publishing": (0, 1), "secrets": (1, 0)}
    teams = {t["team"]: (t["deny"], t["ask"]) for t in audit["by_team"]}
    assert teams == {"clean": (2, 1), "beta": (1, 0)}


def test_json_output_validates_against_the_documented_schema(fleet: dict) -> None:
    data = json.loads(json.dumps(fleet["report"]))
    assert validate(data) == []
    # the validator can fail: a missing key, a wrong type and an unknown flag are all caught
    broken = json.loads(json.dumps(data))
    del broken["org"]["reuse"]
    broken["repos"][0]["risk"]["score"] = "high"
    broken["repos"][1]["flags"].append({"code": "made-up", "file": "x", "message": "y"})
    errors = validate(broken)
    assert any("reuse" in e for e in errors) and any("score" in e for e in errors) and any("made-up" in e for e in errors)


def test_json_schema_is_stable() -> None:
    """Changing these is an incompatible change: bump schema_version and say so in docs/fleet.md."""
    assert SCHEMA["$id"] == "agent-foundation.fleet-report/2"
    assert SCHEMA["properties"]["schema_version"] == {"const": report_module.REPORT_SCHEMA_VERSION} == {"const": 2}
    assert SCHEMA["required"] == ["schema", "schema_version", "generated_at", "template_root", "latest_release", "releases",
                                  "release_dates", "posture_check", "similarity_threshold", "flag_descriptions",
                                  "high_blast_flags", "repos", "org", "audit", "trends"]
    assert SCHEMA["$defs"]["repo"]["required"] == ["source", "repo", "url", "path", "team", "team_name", "owner", "error", "version",
                                                   "release", "profile", "stacks", "agents", "skills", "mcp_servers", "flags",
                                                   "findings", "posture_error", "exceptions", "capabilities", "skipped_files", "dates",
                                                   "releases_behind", "on_latest", "risk"]
    assert SCHEMA["$defs"]["flag"]["properties"]["code"]["enum"] == list(report_module.FLAGS)
    assert set(SCHEMA["$defs"]["org"]["required"]) == set(report_module.org_figures([], None, {"promotion_candidates": [], "registry_duplicates": []}))
    assert set(SCHEMA["$defs"]["repo"]["properties"]) == set(SCHEMA["$defs"]["repo"]["required"])
    docs = (TEMPLATE_ROOT / "docs" / "fleet.md").read_text(encoding="utf-8")
    assert "fleet-schema.json" in docs and "schema_version" in docs


def test_cli_json_markdown_and_terminal(fleet: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    md = tmp_path / "report.md"
    code = main(["--root", str(fleet["root"]), "fleet", str(fleet["repos"]), "--json", str(out), "--markdown", str(md), "--no-repo-audit"])
    assert code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert validate(data) == [] and data["audit"] is None
    text = md.read_text(encoding="utf-8")
    assert "# Agent foundation: fleet report" in text and "| alpha: deploy-checklist, beta: shipping-checklist |" in text
    assert "settings-unparsable" in text and "not a foundation repository" in text
    terminal = capsys.readouterr().out
    assert "Repositories by risk" in terminal and "unparsable" in terminal and "Promotion candidates" in terminal
    assert main(["--root", str(fleet["root"]), "fleet", str(fleet["repos"]), "--json", str(out), "--fail-on-risk", "50"]) == 1


def test_console_script_end_to_end(fleet: dict) -> None:
    script = Path(sys.executable).parent / "agent-foundation"
    result = subprocess.run([str(script), "--root", str(fleet["root"]), "fleet", str(fleet["repos"] / "clean"), "--json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [r["team"] for r in data["repos"]] == ["clean"] and data["repos"][0]["risk"]["score"] == 0


def test_fleet_never_writes_to_team_repositories(fleet: dict) -> None:
    def snapshot() -> dict[str, tuple[int, int]]:
        return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for p in fleet["repos"].rglob("*")}

    before = snapshot()
    build_report(fleet["root"], [str(fleet["repos"])], jobs=1)
    assert snapshot() == before
    assert not list(fleet["repos"].rglob("__pycache__"))


def test_links_pipes_and_devices_are_not_followed(rendered_team: Path, tmp_path: Path) -> None:
    root = template_root(tmp_path)
    repo = copy_repo(rendered_team, tmp_path / "repos" / "tricky", "tricky")
    settings = repo / ".claude/settings.json"
    settings.unlink()
    settings.symlink_to("/dev/zero")
    pipe = repo / ".claude/skills/pipe-skill"
    pipe.mkdir()
    import os
    os.mkfifo(pipe / "SKILL.md")
    script = Path(sys.executable).parent / "agent-foundation"
    result = subprocess.run([str(script), "--root", str(root), "fleet", str(repo), "--json"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)["repos"][0]
    assert [f["code"] for f in row["flags"]] == ["settings-unparsable"]
    assert "symbolic link" in row["flags"][0]["message"]
    assert "posture check was not run" in row["posture_error"] and ".claude/settings.json" in row["posture_error"]
    assert any(r["why"] == "the posture check could not run" for r in row["risk"]["reasons"])
    assert [s["name"] for s in row["skills"]["local"]] == ["pipe-skill"] and row["skills"]["local"][0]["sha256"] is None


def test_progress_bar_on_a_large_fleet_does_not_disturb_the_report(fleet: dict) -> None:
    from agent_foundation.fleet.command import RichProgress

    data = build_report(fleet["root"], [str(fleet["repos"])], jobs=1, progress=RichProgress())
    assert len(data["repos"]) == len(fleet["report"]["repos"])


def run_in_terminal(args: list[str], columns: int, rows: int = 50) -> str:
    """The CLI's output in a real terminal (a pseudo-terminal of `columns` x `rows`), ANSI codes removed."""
    import fcntl
    import os
    import pty
    import re
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
    process = subprocess.Popen([str(Path(sys.executable).parent / "agent-foundation"), *args], stdin=follower,
                               stdout=follower, stderr=follower, env={**env, "TERM": "xterm-256color"}, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) in (0, 1)
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", "", text)


def test_the_terminal_report_is_readable_at_80_columns(fleet: dict) -> None:
    """At 80 columns nothing is squeezed away: every flag, team and heading is whole, no line wider than the
    terminal; the wide layout (a wide terminal, piped output) keeps every column."""
    from rich.cells import cell_len

    out = run_in_terminal(["--root", str(fleet["root"]), "fleet", str(fleet["repos"]), "--no-repo-audit", "--top", "0"], 80)
    lines = out.splitlines()
    assert "Repositories by risk" in out, out
    assert max(cell_len(line.rstrip()) for line in lines) <= 80, "\n".join(line for line in lines if cell_len(line.rstrip()) > 80)
    assert "…" not in out, "a column was cut short:\n" + out
    data = build_report(fleet["root"], [str(fleet["repos"])], jobs=1, repo_audit=False)
    words = {word for line in lines for word in re.split(r"[\s,│┃]+", line) if word}
    for row in data["repos"]:
        if row["risk"] is None:
            continue
        assert row["team"] in words, f"{row['team']} is not shown whole:\n{out}"
        for flag in row["flags"]:
            assert flag["code"] in words, f"{flag['code']} ({row['team']}) is not shown whole:\n{out}"
    table = out[out.index("Repositories by risk"):out.index("version -N")]
    assert "team / repository" in table and re.search(r"profile\s+version\s+flags\s+find", table), table

    wide = run_in_terminal(["--root", str(fleet["root"]), "fleet", str(fleet["repos"]), "--no-repo-audit"], 200)
    assert re.search(r"team / repository\s*┃\s*version\s*┃\s*profile\s*┃\s*flags", wide), wide
    assert "network hosts" in wide and "MCP write tools" in wide
