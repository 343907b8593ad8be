"""`--sarif FILE`: every repository's posture findings as one SARIF 2.1.0 log, for the platform repository's code
scanning. Built by the same code as a team's `check.py --format sarif` (template/.claude/foundation/sarif.py,
loaded from the checkout the fleet runs on): one run per repository, its results at `<team>/<file>`."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

SARIF_PATH = Path("template/.claude/foundation/sarif.py")


def _sarif_module(root: Path) -> Any:
    spec = importlib.util.spec_from_file_location("agent_foundation_fleet_sarif", Path(root) / SARIF_PATH)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {Path(root) / SARIF_PATH}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(data: dict[str, Any], root: Path) -> dict[str, Any]:
    sarif = _sarif_module(root)
    runs = []
    for row in data["repos"]:
        name = row.get("team") or row["source"]
        runs.append(sarif.run(row.get("findings") or [], version=str(row.get("version") or ""),
                              automation_id=f"agent-foundation/fleet/{name}/", uri_prefix=f"{name}/"))
    return sarif.log(runs)
