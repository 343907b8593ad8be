from __future__ import annotations

from pathlib import Path

import pytest

from tests.claude_client.fixtures import *  # noqa: F401,F403  (claude_bin, mock_api, run_claude, ...)
from tests.rendering import render_team


@pytest.fixture(scope="session")
def rendered_team(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One repository rendered with the canonical answers, shared read-only by tests that only inspect it."""
    return render_team(tmp_path_factory.mktemp("team") / "payments-api")
