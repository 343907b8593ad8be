"""Named repository states and the two ways an update runs, shared by the update tests.

Every scenario runs through update.py and through Renovate's exact command line, so both give the same result.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.rendering import commit_all, git, render_team
from tests.template_versions import ORG_RULES_OLD, build_template_versions

VENV_BIN = str(Path(sys.executable).parent)
ENV = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ["PATH"]}
TEAM_CLAUDE_MD = "\n## Our conventions\nMoney is in integer cents.\n"
TEAM_AGENTS_MD = "Ledger rules: never touch migrations/ by hand.\n"
TEAM_SKILL = "---\nname: team-runbook\ndescription: Our on-call runbook. Use when paging.\n---\n\n# Runbook\n"
TEAM_ORG_RULES_EDIT = "\n<!-- payments: we also follow the PCI checklist in docs/pci.md -->\n"
TEAM_HOOK = {"matcher": "Bash", "hooks": [{"type": "command", "command": "echo team-hook"}]}
LOCAL_SETTINGS = '{"permissions": {"allow": ["Bash(ls:*)"]}}\n'
CUSTOM_AUDIT = ".claude/audit/payments.jsonl"
TEAM_FILES = ("CLAUDE.md", ".claude/skills/team-runbook/SKILL.md", ".claude/settings.local.json", "src/app.py")
SETTINGS = ".claude/settings.json"
MARKERS = (b"<<<<<<< ", b">>>>>>> ", b"\n=======\n")


def render_at(template: Path, dst: Path, version: str = "v0.1.0", **answers) -> Path:
    return render_team(dst, {"skills": ["code-review", "writing-tests"], "audit_log": CUSTOM_AUDIT, **answers},
                       template=template, vcs_ref=version)


def make_team_edits(repo: Path) -> None:
    """What a real team does after rendering, committed."""
    with (repo / "CLAUDE.md").open("a") as f:
        f.write(TEAM_CLAUDE_MD)
    agents = (repo / "AGENTS.md").read_text()
    (repo / "AGENTS.md").write_text(agents.replace("# Instructions for coding agents\n", "# Instructions for coding agents\n\n" + TEAM_AGENTS_MD))
    (repo / ".claude/skills/team-runbook").mkdir(parents=True)
    (repo / ".claude/skills/team-runbook/SKILL.md").write_text(TEAM_SKILL)
    (repo / ".claude/settings.local.json").write_text(LOCAL_SETTINGS)
    settings = json.loads((repo / SETTINGS).read_text())
    settings["hooks"]["PreToolUse"].append(TEAM_HOOK)
    (repo / SETTINGS).write_text(json.dumps(settings, indent=2) + "\n")
    (repo / "src").mkdir()
    (repo / "src/app.py").write_text("print('payments')\n")
    rules = (repo / ORG_RULES_OLD).read_text()  # an edit near the top, far from the release's change
    (repo / ORG_RULES_OLD).write_text(rules.replace("# Organisation rules\n", "# Organisation rules\n" + TEAM_ORG_RULES_EDIT, 1))
    commit_all(repo, "team edits")


def clone_state(state: Path, dst: Path) -> Path:
    """A private copy of a named repository state (rendering is the expensive part; copying is not)."""
    shutil.copytree(state, dst, symlinks=True)
    return dst


def update_py(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["python3", ".claude/foundation/update.py", *args], cwd=repo, env=ENV,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def renovate(repo: Path, version: str) -> subprocess.CompletedProcess[str]:
    """Renovate's copier manager, exactly: `copier update --skip-answered --defaults --trust --answers-file ... --vcs-ref`."""
    return subprocess.run(["copier", "update", "--skip-answered", "--defaults", "--trust", "--answers-file",
                           ".copier-answers.yml", "--vcs-ref", version], cwd=repo, env=ENV,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


RUNNERS = {
    "update.py": lambda repo, version, *args: update_py(repo, "--vcs-ref", version, *args),
    "renovate": lambda repo, version, *args: renovate(repo, version),
}


def snapshot(repo: Path) -> dict[str, str]:
    """Every file's hash (ignored ones included, .git excluded) plus git's own view."""
    files = {str(p.relative_to(repo)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(repo.rglob("*")) if p.is_file() and ".git" not in p.relative_to(repo).parts}
    files["<git status>"] = git(repo, "status", "--porcelain", "--ignored")
    files["<HEAD>"] = git(repo, "rev-parse", "HEAD")
    return files


def tree(repo: Path) -> dict[str, str]:
    return {k: v for k, v in snapshot(repo).items() if not k.startswith("<")}


def team_bytes(repo: Path, paths: tuple[str, ...] = TEAM_FILES) -> dict[str, bytes]:
    return {path: (repo / path).read_bytes() for path in paths}


def answers(repo: Path) -> dict:
    return yaml.safe_load((repo / ".copier-answers.yml").read_text())


def settings(repo: Path) -> dict:
    return json.loads((repo / SETTINGS).read_text())


def edit_settings(repo: Path, change, message: str = "hand edit of settings.json", raw: str | None = None) -> None:
    data = settings(repo)
    change(data)
    (repo / SETTINGS).write_text(raw if raw is not None else json.dumps(data, indent=2) + "\n")
    commit_all(repo, message)


def assert_safe_after_update(repo: Path, version: str, flagged: tuple[str, ...] = ()) -> None:
    """What every successful update leaves, whichever command ran it: the new version, no conflict marker
    anywhere, every JSON file parses, and the posture check passes."""
    manifest = json.loads((repo / ".claude/foundation/manifest.json").read_text())
    assert manifest["template_version"] == version.lstrip("v")
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(repo).parts:
            content = path.read_bytes()
            assert not path.name.endswith(".rej"), path
            assert not any(marker in content for marker in MARKERS[:2]), path
            if path.suffix == ".json":
                json.loads(content)
    assert [f for f in posture_errors(repo) if f["code"] not in flagged] == []


def posture_errors(repo: Path, kept_edits: tuple[str, ...] = (".md",)) -> list[dict]:
    """The posture check's errors, but for a foundation text file the team edited (kept, and flagged)."""
    check = subprocess.run(["python3", ".claude/foundation/check.py", "--json"], cwd=repo, capture_output=True,
                           text=True, timeout=60)
    findings = json.loads(check.stdout)["findings"]
    return [f for f in findings if f["severity"] == "error"
            and not (f["code"] == "foundation-file-edited" and f["file"].endswith(kept_edits))]


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory) -> Path:
    return build_template_versions(tmp_path_factory.mktemp("template") / "agent-foundation")


@pytest.fixture(scope="module")
def edited_team(template_repo, tmp_path_factory) -> Path:
    """The named state most update tests start from: rendered at v0.1.0, with a team's everyday edits
    committed (copied for each test: rendering is the slow part)."""
    repo = render_at(template_repo, tmp_path_factory.mktemp("state") / "payments-api")
    make_team_edits(repo)
    return repo


@pytest.fixture
def team(edited_team, tmp_path) -> Path:
    return clone_state(edited_team, tmp_path / "payments-api")
