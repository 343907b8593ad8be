"""The labelled tool-call corpora the guard is measured on: ours, and the peers' public ones in shared/."""

from __future__ import annotations

import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
OUR_CORPUS = REPO_ROOT / "tests" / "corpus" / "guard-corpus.jsonl"
# Written from issue 13's technique classes, labelled before any guard ran on it; each line names its `technique`.
TECHNIQUE_CORPUS = REPO_ROOT / "tests" / "corpus" / "guard-techniques.jsonl"
PEER_CORPORA = REPO_ROOT.parent / "shared" / "peer-corpora"


def load(path: Path, in_scope_only: bool = False) -> list[dict]:
    """One labelled call per JSON line; with in_scope_only, the lines our policy is scored on."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if row.get("in_scope", True)] if in_scope_only else rows


def substitute(value, repo: str):
    """A corpus entry with the `{repo}` placeholder replaced by the repository the guard protects."""
    if isinstance(value, str):
        return value.replace("{repo}", repo)
    if isinstance(value, dict):
        return {k: substitute(v, repo) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, repo) for v in value]
    return value
