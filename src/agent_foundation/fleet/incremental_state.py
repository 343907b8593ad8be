"""`fleet --incremental STATE`: rescan only the repositories that changed since the last run.

A repository is unchanged when its HEAD commit is the same (a git repository: read from .git, no process
started), or, for a folder without git, when every file the scan reads has the same size, modification time
and inode. Its row from the last run is reused, which also skips its posture check and git history. Every
row is rescanned when what the rows are judged by changes: the registry, the rules, the posture check, the
scanner itself (the state's `context` key).

The promotion candidates are kept beside it, in STATE.similarity.json (see similarity.RunCache): reused whole
when no skill, registry skill, template or threshold changed; otherwise only new skill texts are analysed.

Audit logs inside repositories are not part of a row (they are gitignored, so HEAD says nothing about them):
they are read on every run.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable

from . import git_facts, scan, similarity

STATE_SCHEMA = "agent-foundation.fleet-state"
STATE_VERSION = 1
_SCANNER_FILES = ("scan.py", "repo_files.py", "git_facts.py", "posture.py")


def context_key(ctx: scan.Context, context: dict[str, Any]) -> str:
    """What every row depends on besides the repository: registry, rules, posture check, this scanner."""
    digest = hashlib.sha256()
    foundation = ctx.foundation
    for part in (foundation.policy, foundation.profiles, foundation.stacks, foundation.mcp_servers, ctx.registry_skills,
                 ctx.expected_hooks, list(ctx.deny_rules), ctx.sandbox_rendered, ctx.git_history, context["posture_source"]):
        digest.update(json.dumps(part, sort_keys=True, default=str).encode("utf-8"))
    check = Path(context["template_root"]) / "template/.claude/foundation/check.py"
    for path in [check, *(Path(__file__).parent / name for name in _SCANNER_FILES)]:
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"-")
    return digest.hexdigest()


def similarity_path(state: Path) -> Path:
    """Where the similarity cache of the state file `state` is kept."""
    state = Path(state)
    return state.with_name(state.name + ".similarity.json")


def load_similarity(state: Path) -> similarity.RunCache:
    """The similarity cache beside `state`; an empty one when it is missing or damaged (computed afresh: it only
    saves work, so a bad cache is no error)."""
    try:
        with open(similarity_path(state), encoding="utf-8") as handle:
            return similarity.RunCache(json.load(handle))
    except (OSError, ValueError):
        return similarity.RunCache()


def save_similarity(state: Path, cache: similarity.RunCache) -> None:
    """Written when the cache changed (a result reused whole leaves the file as it is)."""
    if not cache.reused_result or not similarity_path(state).exists():
        _write_atomically(similarity_path(state), cache.as_json())


def fingerprint(path: Path) -> str | None:
    """What says the repository is unchanged: its HEAD, or for a folder without git the stat of what is read."""
    head = git_facts.head(path)
    if head:
        return "head:" + head
    repo = str(path) + os.sep
    parts = []
    names = [scan.ANSWERS, scan.MANIFEST, scan.POLICY, scan.SETTINGS, scan.LOCAL_SETTINGS, scan.MCP, scan.GUARD_SCRIPT,
             scan.AUDIT_SCRIPT, ".claude", ".claude/foundation", scan.SKILLS]
    try:
        with os.scandir(repo + scan.SKILLS) as entries:
            for skill in sorted(entry.name for entry in entries):
                names += [f"{scan.SKILLS}/{skill}", f"{scan.SKILLS}/{skill}/SKILL.md"]
    except OSError:
        pass
    try:
        with open(repo + scan.MANIFEST, "rb") as handle:
            files = json.loads(handle.read(8 * 1024 * 1024)).get("files")
        if isinstance(files, dict):
            names += [name for name in files if isinstance(name, str)]
    except (OSError, ValueError, AttributeError):
        pass
    for name in names:
        try:
            info = os.lstat(repo + name)
            parts.append(f"{name}:{info.st_mode}:{info.st_size}:{info.st_mtime_ns}:{info.st_ino}")
        except OSError:
            parts.append(f"{name}:-")
    return "stat:" + hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def load(path: Path, key: str) -> dict[str, Any]:
    """The saved rows (by folder) when they were judged by the same context; otherwise an empty state."""
    state = {"schema": STATE_SCHEMA, "schema_version": STATE_VERSION, "context": key, "repos": {}}
    try:
        with open(path, encoding="utf-8") as handle:
            saved = json.load(handle)
    except FileNotFoundError:
        return state
    except (OSError, ValueError) as error:
        raise ValueError(f"--incremental {path}: cannot be read ({error}); delete it to start a fresh state") from error
    if not isinstance(saved, dict) or saved.get("schema") != STATE_SCHEMA:
        raise ValueError(f"--incremental {path} is not a fleet state file (it would be overwritten); give another path")
    if saved.get("schema_version") == STATE_VERSION and saved.get("context") == key:
        state["repos"] = saved.get("repos") or {}
    return state


def scan_with(state: dict[str, Any] | None, refs: list[Any], scan_refs: Callable[[list[Any]], list[dict[str, Any]]],
              advance: Callable[[int], None]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Rows for every ref: reused from `state` when unchanged, scanned (by `scan_refs`) otherwise."""
    if state is None:
        rows = scan_refs(refs)
        return rows, {"scanned": len(rows), "reused": 0}
    rows: list[dict[str, Any] | None] = [None] * len(refs)
    todo: list[int] = []
    for index, ref in enumerate(refs):
        key = fingerprint(ref.path) if ref.path is not None and not ref.error else None
        ref.fingerprint = key
        saved = state["repos"].get(str(ref.path)) if key else None
        if saved and saved.get("key") == key and saved["row"].get("source") == ref.label:
            rows[index] = saved["row"]  # itself, not a copy: the state is saved before the report changes rows
            advance(1)
        else:
            todo.append(index)
    for index, row in zip(todo, scan_refs([refs[i] for i in todo])):
        rows[index] = row
    return rows, {"scanned": len(todo), "reused": len(refs) - len(todo)}  # type: ignore[return-value]


def save(path: Path, state: dict[str, Any] | None, refs: list[Any], rows: list[dict[str, Any]]) -> None:
    """Write the state atomically (a killed run leaves the previous state whole); not at all when every row was
    reused and no repository came or went (the file on disk is already this state)."""
    if state is None:
        return
    repos = {}
    for ref, row in zip(refs, rows):
        key = getattr(ref, "fingerprint", None)
        if key and ref.path is not None:
            repos[str(ref.path)] = {"key": key, "row": row}
    saved = state["repos"]
    unchanged = path.exists() and repos.keys() == saved.keys() and all(
        entry["row"] is saved[name]["row"] and entry["key"] == saved[name]["key"] for name, entry in repos.items())
    state["repos"] = repos
    if not unchanged:
        _write_atomically(path, state)


def _write_atomically(path: Path, data: Any) -> None:
    """A killed run leaves the previous file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")))  # dumps: the C encoder, 5x json.dump's speed
    os.replace(partial, path)
