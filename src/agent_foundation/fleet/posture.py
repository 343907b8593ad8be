"""The team-side posture check, run by the fleet from the platform's own template checkout.

The fleet loads `template/.claude/foundation/check.py` from the checkout it runs on (`--root`), never the copy
inside a team repository, for two reasons:
  - the platform's copy knows today's rules: a team on an old release has an old check, and the fleet must
    judge every team by the same, current rules;
  - a team repository is data, never code: running a team's own check.py on the platform's machine would run
    whatever that file has been edited to do, with the platform team's credentials.
It is the same file teams run (`python3 .claude/foundation/check.py`), so findings never drift from theirs.

Until check.py exists in the checkout, a thin stand-in with the same interface reports the one thing the
manifest alone can tell: foundation-owned files edited or deleted since they were rendered.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any, Callable

from ..render import sha256

CHECK_PATH = Path("template/.claude/foundation/check.py")
MODULE_NAME = "agent_foundation_fleet_posture_check"


@dataclasses.dataclass
class Finding:
    code: str
    severity: str
    file: str
    message: str
    fix: str


def load_check(root: Path) -> tuple[Callable[[Path], list[Any]], str]:
    """(posture_findings, where it came from)."""
    path = (root / CHECK_PATH).resolve()
    if not path.is_file():
        return manifest_findings, "built-in stand-in (template/.claude/foundation/check.py not found)"
    if MODULE_NAME in sys.modules and getattr(sys.modules[MODULE_NAME], "__file__", None) == str(path):
        return sys.modules[MODULE_NAME].posture_findings, str(CHECK_PATH)
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module  # dataclasses need the module registered while it executes
    sys.path.insert(0, str(path.parent))  # check.py may import its siblings (hooks/...)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    if not callable(getattr(module, "posture_findings", None)):
        raise ImportError(f"{path} has no posture_findings(repo) function")
    return module.posture_findings, str(CHECK_PATH)


def as_dict(finding: Any) -> dict[str, str]:
    """A finding from check.py (a dataclass, a namedtuple, an object or a dict) as plain JSON data."""
    if isinstance(finding, dict):
        data = finding
    elif dataclasses.is_dataclass(finding):
        data = dataclasses.asdict(finding)
    elif hasattr(finding, "_asdict"):
        data = finding._asdict()
    else:
        data = {key: getattr(finding, key, "") for key in ("code", "severity", "file", "message", "fix")}
    return {key: str(data.get(key) or "") for key in ("code", "severity", "file", "message", "fix")}


def manifest_findings(repo: Path) -> list[Finding]:
    """The stand-in: foundation-owned files that differ from the manifest's hashes."""
    try:
        manifest = json.loads((repo / ".claude/foundation/manifest.json").read_text(encoding="utf-8"))
        files = dict(manifest["files"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        return [Finding("manifest-unreadable", "error", ".claude/foundation/manifest.json", f"cannot be read: {error}",
                        "run python3 .claude/foundation/update.py to restore the foundation's files")]
    found = []
    for path, expected in sorted(files.items()):
        try:
            actual = sha256((repo / path).read_bytes())
        except OSError:
            found.append(Finding("foundation-file-missing", "error", path, "is missing", "restore it with python3 .claude/foundation/update.py"))
            continue
        if actual != expected:
            found.append(Finding("foundation-file-edited", "warning", path, "was edited after it was rendered",
                                 "move the change into the team's answers and run python3 .claude/foundation/update.py"))
    return found
