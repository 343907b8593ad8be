"""The agent-foundation command as a new platform engineer meets it: bad input exits 2 with one clear line,
output piped into `head` ends quietly, and an installed wheel run outside the checkout says where to run it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.registry_repo import cli
from tests.rendering import TEMPLATE_ROOT

AGENT_FOUNDATION = [sys.executable, "-m", "agent_foundation.cli"]


def run(*args: str, cwd: Path = TEMPLATE_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AGENT_FOUNDATION, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("extra", [[], ["--fail-on-risk", "1"]])
def test_fleet_of_a_folder_that_does_not_exist_is_bad_usage(tmp_path: Path, extra: list[str]) -> None:
    result = run("fleet", str(tmp_path / "no-such-dir"), *extra)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{tmp_path / 'no-such-dir'} does not exist" in result.stderr
    assert "a git URL" in result.stderr and result.stdout == ""


def test_fleet_that_reads_no_repository_fails_and_never_says_none(tmp_path: Path) -> None:
    result = run("fleet", str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "could be read" in result.stderr
    assert "mean risk -" in " ".join(result.stdout.split()) and "None" not in result.stdout


def test_fail_on_risk_fails_when_a_repository_cannot_be_read(rendered_team: Path, tmp_path: Path) -> None:
    """Risk unknown is not risk zero: CI gating on risk must not pass over a repository it could not read."""
    unreadable = tmp_path / "not-a-team"
    unreadable.mkdir()
    assert run("fleet", str(rendered_team), "--fail-on-risk", "100", "--json", str(tmp_path / "r.json")).returncode == 0
    result = run("fleet", str(rendered_team), str(unreadable), "--fail-on-risk", "100", "--json", str(tmp_path / "r.json"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 repositories could not be read, so their risk is unknown" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fleet", "/no/such/dir"], "does not exist"),
        (["release", "banana", "--yes"], "is not a semantic version"),
        (["promote", "/no/such/skill", "--team", "payments-api"], "is not a folder"),
        (["fleet", "--similarity", "7", "."], "--similarity must be between 0 and 1"),
        (["rollout", "v0.2.0", ".", "--jobs", "0"], "--jobs must be at least 1"),
        (["rollout", "v0.2.0", "/no/such/dir"], "/no/such/dir does not exist"),
        (["managed-settings"], "the following arguments are required: --out"),
        (["no-such-command"], "invalid choice"),
    ],
)
def test_every_command_exits_2_for_bad_usage(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr


def test_a_root_that_is_not_a_checkout_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run("--root", str(tmp_path), "marketplace", "--check")
    assert result.returncode == 2
    assert result.stderr.strip() == (f"agent-foundation: --root {tmp_path} is not an agent-foundation checkout (no copier.yml "
                                     "beside a foundation/ folder); pass the folder you cloned the template into")


def test_output_piped_into_a_reader_that_stops_ends_quietly(rendered_team: Path) -> None:
    """`agent-foundation fleet ... | head -1`: the reader closes the pipe; no BrokenPipeError traceback."""
    for args in (["fleet", str(rendered_team)], ["fleet", str(rendered_team), "--json"], ["registry", "check", "--json"]):
        process = subprocess.Popen([*AGENT_FOUNDATION, *args], cwd=TEMPLATE_ROOT, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        process.stdout.close()  # the reader has gone before the first line
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=120) == 1, stderr
        assert stderr == "", stderr


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project built as a wheel and installed into a fresh virtual environment, as `pip install` would.

    The environment reaches this one's site-packages for the dependencies only (a .pth entry adds the folder
    without running the editable install's hook inside it), so agent_foundation comes from the wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    project = tmp / "project"  # built from a copy: setuptools writes build/ and *.egg-info beside the sources
    shutil.copytree(TEMPLATE_ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(TEMPLATE_ROOT / name, project / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
                    "--wheel-dir", str(tmp / "dist"), str(project)], check=True, capture_output=True, timeout=300)
    wheel = next((tmp / "dist").glob("agent_foundation-*.whl"))
    assert not any(name.startswith("foundation/") for name in zipfile.ZipFile(wheel).namelist())
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
                    "--no-deps", "--disable-pip-version-check", str(wheel)], check=True, capture_output=True, timeout=300)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return venv / "bin" / "agent-foundation"


@pytest.mark.parametrize("args", [["fleet", "."], ["marketplace"], ["managed-settings", "--out", "out"]])
def test_the_installed_command_outside_the_checkout_says_where_to_run_it(installed_wheel: Path, tmp_path: Path,
                                                                         args: list[str]) -> None:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run([str(installed_wheel), *args], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"agent-foundation: {tmp_path} is not inside an agent-foundation checkout; run it inside the checkout of the "
        "template, or pass --root PATH"
    ]
    assert result.stdout == "" and list(tmp_path.iterdir()) == []
    inside = subprocess.run([str(installed_wheel), "registry", "check"], cwd=TEMPLATE_ROOT, capture_output=True,
                            text=True, timeout=120, stdin=subprocess.DEVNULL, env=env)
    assert inside.returncode == 0 and "registry check: ok" in inside.stdout, inside.stderr
