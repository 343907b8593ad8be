"""The team's own part of the other agents' files the foundation renders, kept across every render.

Each agent module lists, in TEAM_FILES, the files a team may add its own keys to (Codex's config.toml and hooks,
Copilot's repository settings and the editor's MCP servers, Cursor's CLI permissions, hooks and MCP servers). The
team's part lives in the answers (extra_codex_config for .codex/config.toml, extra_agent_config by file for the
others, extra_mcp_servers for MCP servers in any of them): the foundation renders its own part and composes the
team's under it, so the foundation's keys and entries always win and the team's sit beside them.

A hand edit of one of these files, or a file a repository already had when it adopted the foundation, is read
the same way Claude Code's settings.json is (carry.py): what the team added is carried into those answers, what
the foundation wrote comes back. Only PyYAML and the standard library may be imported here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

ANSWER = "extra_agent_config"


@dataclass(frozen=True)
class TeamFile:
    """One agent file a team may add to. `owned`: top-level keys the foundation alone sets (any change comes
    back, nothing is added inside); `servers`: the key holding MCP servers (carried into extra_mcp_servers);
    `rules`: (key, subkey) of a list of permission rules, with their kind ("allow", "deny") and `to_claude`, which
    reads one as Claude Code's rule (None when it cannot be one), so the team's are vetted as extra_allow is."""

    path: str
    answer: str = ANSWER
    format: str = "json"
    owned: frozenset[str] = frozenset()
    servers: str | None = None
    rules: dict[tuple[str, str], str] = field(default_factory=dict)
    to_claude: Callable[[str], str | None] | None = None


def merge_under(ours: Any, theirs: Any) -> Any:
    """The foundation's value with the team's composed under it: the team's keys beside the foundation's, the
    team's list entries after the foundation's; where both set one value, the foundation's."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        merged = dict(ours)
        for key, value in theirs.items():
            merged[key] = merge_under(ours[key], value) if key in ours else value
        return merged
    if isinstance(ours, list) and isinstance(theirs, list):
        return ours + [item for item in theirs if item not in ours]
    return ours


def team_part(answers: dict[str, Any], path: str) -> dict[str, Any]:
    part = (answers.get(ANSWER) or {}).get(path) if isinstance(answers.get(ANSWER), dict) else None
    return json.loads(json.dumps(part)) if isinstance(part, dict) else {}


def with_team_part(answers: dict[str, Any], path: str, document: dict[str, Any]) -> dict[str, Any]:
    return merge_under(document, team_part(answers, path))


# ---------------------------------------------------------------- reading a file back into answers


Note = Callable[[str, str], None]  # (kind, text), as carry.Carry.note


def carry_value(current: Any, rendered: Any, team: Any, where: str, path: str, note: Note) -> Any:
    """The team's part after an edit. `rendered` is what was rendered (the foundation's part with `team`, the
    team's part then, under it); returns the team's part now: what the edit added joins it, what it removed
    leaves it, and a change to the foundation's part is undone (named in a note)."""
    if isinstance(current, dict) and isinstance(rendered, dict):
        team = dict(team) if isinstance(team, dict) else {}
        for key in [*rendered, *[k for k in current if k not in rendered]]:
            here = f"{where}.{key}" if where else str(key)
            if key not in rendered:
                team[key] = current[key]
            elif key not in current:
                if key in team:
                    del team[key]
                else:
                    note("restored", f"the foundation's {here} was removed from {path}: it is restored")
            elif current[key] != rendered[key]:
                changed = carry_value(current[key], rendered[key], team.get(key), here, path, note)
                if changed in (None, {}, []):
                    team.pop(key, None)
                else:
                    team[key] = changed
        return team
    if isinstance(current, list) and isinstance(rendered, list):
        team = list(team) if isinstance(team, list) else []
        # An entry of the foundation's edited in place (a guard hook that lost failClosed) is not a new entry of
        # the team's: it comes back as it was.
        edited = {i for i in range(min(len(current), len(rendered)))
                  if current[i] not in rendered and rendered[i] not in current and rendered[i] not in team}
        team += [item for i, item in enumerate(current) if item not in rendered and item not in team and i not in edited]
        for i, item in enumerate(rendered):
            if item not in current:
                if item in team:
                    team.remove(item)
                else:
                    what = "changed in" if i in edited else "removed from"
                    note("restored", f"the foundation's entry {json.dumps(item)[:60]}... in {where} was {what} {path}: it is restored")
        return team
    if team is not None:
        return current  # a value of the team's own, changed by the team
    note("restored", f"the foundation's {where} was changed in {path}: it is restored to {json.dumps(rendered)[:80]}")
    return None


def _server_as_claude(config: Any, spec: TeamFile) -> Any:
    """An agent's MCP server entry in .mcp.json's shape (the shape extra_mcp_servers holds)."""
    if not isinstance(config, dict):
        return config
    config = dict(config)
    if config.get("type") == "stdio":
        del config["type"]
    if spec.format == "toml":
        if "http_headers" in config:
            config["headers"] = config.pop("http_headers")
        if "url" in config:
            config = {"type": "http", **config}
    return config


def carry_servers(current: dict[str, Any], rendered: dict[str, Any], spec: TeamFile, vetted: set[str],
                  extra: dict[str, Any], note: Note) -> None:
    """MCP servers added to an agent's file go to extra_mcp_servers (every agent then gets them, and the posture
    check flags them until they are vetted); the chosen servers' pinned entries, and their presence, come back."""
    for name, config in current.items():
        if rendered.get(name) == config:
            continue
        if name in vetted:
            note("restored", f"the vetted MCP server {name} in {spec.path} is rendered from your answer mcp_servers: "
                             "its pinned entry is restored (choose or drop it there, for every agent at once)")
        else:
            extra[name] = _server_as_claude(config, spec)
            note("carried", f"your MCP server {name} in {spec.path} is carried into the answer extra_mcp_servers (every "
                            "agent gets it); it is not vetted, so the posture check flags it (ask the platform team to vet it)")
    for name in rendered:
        if name not in current:
            note("restored", f"the MCP server {name} was removed from {spec.path} only: it is restored (remove it from "
                             "your answers, mcp_servers or extra_mcp_servers, to drop it for every agent)")


def carry_file(spec: TeamFile, current: dict[str, Any], rendered: dict[str, Any], answers: dict[str, Any],
               vetted: set[str], note: Note) -> dict[str, Any]:
    """What one edited (or, at adoption, pre-existing: `rendered` is {}) agent file means for the answers:
    {answer: new value} for the answers it changes (the team's part of this file, extra_mcp_servers)."""
    changed: dict[str, Any] = {}
    current, rendered = dict(current), dict(rendered)
    if spec.servers:
        extra = dict(answers.get("extra_mcp_servers") or {})
        cur = current.pop(spec.servers, None)
        ren = rendered.pop(spec.servers, None)
        carry_servers(cur if isinstance(cur, dict) else {}, ren if isinstance(ren, dict) else {}, spec, vetted, extra, note)
        if extra != (answers.get("extra_mcp_servers") or {}):
            changed["extra_mcp_servers"] = extra
    for key in spec.owned:
        cur, ren = current.pop(key, None), rendered.pop(key, None)
        if cur != ren and (cur is not None or ren is not None):
            note("restored", f"{spec.path}: {key} is the foundation's posture setting: it is restored"
                             + (f" to {json.dumps(ren)[:80]}" if ren is not None else " (removed)"))
    if spec.answer == ANSWER:
        team = team_part(answers, spec.path)
    else:
        team = json.loads(json.dumps(answers.get(spec.answer) or {}))
    team = carry_value(current, rendered, team, "", spec.path, note) or {}
    if spec.answer == ANSWER:
        whole = json.loads(json.dumps(answers.get(ANSWER) or {})) if isinstance(answers.get(ANSWER), dict) else {}
        if team:
            whole[spec.path] = team
        else:
            whole.pop(spec.path, None)
        if whole != (answers.get(ANSWER) or {}):
            changed[ANSWER] = whole
    elif team != (answers.get(spec.answer) or {}):
        changed[spec.answer] = team
    if spec.answer in changed:
        where = f"{ANSWER} (under {spec.path})" if spec.answer == ANSWER else spec.answer
        note("carried", f"your own keys in {spec.path} ({', '.join(map(str, team)) or 'none left'}) are carried into the answer {where}")
    return changed


def parse(spec: TeamFile, text: str) -> dict[str, Any]:
    """The file's content as a mapping; ValueError when it does not parse (the agent would ignore it)."""
    if spec.format == "toml":
        try:
            import tomllib
        except ImportError:  # Python 3.10
            raise ValueError("reading TOML needs Python 3.11 or later (run Copier with it)") from None
        return tomllib.loads(text)
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    return document


# ---------------------------------------------------------------- the answer


def team_rules(spec: TeamFile, part: dict[str, Any], kind: str) -> list[str]:
    """The team's own permission rules of `kind` in its part of one file, as the agent writes them."""
    rules = []
    for (key, subkey), rule_kind in spec.rules.items():
        found = part.get(key).get(subkey) if isinstance(part.get(key), dict) else None
        if rule_kind == kind and isinstance(found, list):
            rules += [str(rule) for rule in found]
    return rules


def answer_errors(files: dict[str, TeamFile], extra: Any,
                  rule_errors: Callable[[list[str], str], list[str]] = lambda rules, kind: []) -> list[str]:
    """Why extra_agent_config cannot be accepted, fix first; empty when it can. `rule_errors` vets permission
    rules (in Claude Code's form) as the answers extra_allow and extra_deny are vetted."""
    if extra in (None, "", {}):
        return []
    if not isinstance(extra, dict):
        return [f'{ANSWER} must be a mapping of file to your own keys, e.g. {{".cursor/hooks.json": {{"hooks": {{...}}}}}}']
    errors = []
    known = sorted(path for path, spec in files.items() if spec.answer == ANSWER)
    for path, part in extra.items():
        spec = files.get(path)
        if spec is None or spec.answer != ANSWER:
            instead = f" (use {spec.answer})" if spec else ""
            errors.append(f"{ANSWER}: use one of {', '.join(known)} as the file{instead}; {path!r} is not a file it composes")
            continue
        if not isinstance(part, dict):
            errors.append(f"{ANSWER}: give {path} a mapping of your own keys, not {type(part).__name__}")
            continue
        for key in sorted(spec.owned & set(part)):
            errors.append(f"{ANSWER}: drop {key} from {path}: it is the foundation's posture setting")
        if spec.servers and spec.servers in part:
            errors.append(f"{ANSWER}: put the servers of {path} in extra_mcp_servers (or choose vetted ones in mcp_servers)")
        for kind in ("allow", "deny"):
            for rule in team_rules(spec, part, kind):
                claude = spec.to_claude(rule) if spec.to_claude else None
                if claude is None:
                    errors.append(f"{ANSWER}: write {path} {kind} rules like Shell(make) or Read(docs/**); {rule!r} cannot be vetted")
                else:
                    errors += [f"{ANSWER}: {path} {kind} rule {rule!r}: {why}" for why in rule_errors([claude], kind)]
    return errors
