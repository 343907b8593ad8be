from __future__ import annotations

from pathlib import Path

import pytest

from tests.claude_client.fixtures import *  # noqa: F401,F403  (claude_bin, mock_api, run_claude, ...)
from tests.rendering import copy_template, git, render_team


@pytest.fixture(scope="session")
def rendered_team(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One repository rendered with the canonical answers, shared read-only by tests that only inspect it."""
    return render_team(tmp_path_factory.mktemp("team") / "payments-api")


@pytest.fixture(scope="session")
def pristine_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout copied once into a throwaway repository tagged v0.1.0 (never this repository's tags)."""
    return copy_template(tmp_path_factory.mktemp("template") / "pristine")


@pytest.fixture
def registry_checkout(pristine_template: Path, tmp_path: Path) -> Path:
    """A fresh clone of the pristine copy per test, for the platform commands to change (cheap, tags kept)."""
    git(tmp_path, "clone", "-q", str(pristine_template), "checkout")
    return tmp_path / "checkout"
