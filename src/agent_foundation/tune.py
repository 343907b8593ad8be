"""`agent-foundation tune`: propose rule changes from the decisions teams actually made.

    agent-foundation tune TEAM_REPO... [--audit PATH]... [--otel PATH]... [--out DIR] [--json]

Reads the audit logs (each team repository's `.claude/audit/*.jsonl`, and shipped logs given with --audit) and
OpenTelemetry exports of the client's `tool_decision` events (--otel: OTLP JSON, one export per line), and
proposes, never applies:

- **allow candidates**: calls that asked a human and were approved every time (at least --min-asks times) become
  an allow rule in that team's `extra_allow`, unless the rule would allow what the foundation denies or the
  call asks on purpose (an ask rule of the policy or the team's settings);
- **removal candidates**: allow rules no call used: a team's `extra_allow` entries, and the allow rules of a
  profile (foundation/profiles.yml) no team on that profile used;
- **most-hit denies**: the guard's deny rules by how often teams hit them, with the commands, so the rule or its
  message can be improved.

Each proposal is a unified diff under --out (`foundation.diff` for foundation/, `<team>.diff` for a team's
`.copier-answers.yml`, with the update.py command that applies it); nothing is written anywhere else.
What counts as a human's ask, per source:
- OpenTelemetry: a `tool_decision` whose source is the user (`user_temporary`, `user_permanent`, `user_reject`,
  ...): accept = approved, reject = rejected; the command is known only with OTEL_LOG_TOOL_DETAILS on.
- audit log: a call the guard let through (or asked about) that the team's allow rules do not cover, in the
  default permission mode: approved when the call then ran (a PostToolUse record with its tool_use_id), rejected
  when it did not. Read-only commands the client runs without asking are left out.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import difflib
import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import urlsplit

import yaml

from . import otlp, render
from .foundation import Foundation, FoundationError, load_foundation

ANSWERS_FILE = ".copier-answers.yml"
POLICY_FILE = ".claude/foundation/policy.json"
SETTINGS_FILE = ".claude/settings.json"
AUDIT_DIR = ".claude/audit"
DEFAULT_MIN_ASKS = 3
TOP_COMMANDS = 5
_RULE_IN_REASON = re.compile(r"\brule ([a-z0-9][a-z0-9.-]*)")
# Programs whose first argument is a sub-command worth keeping in a rule: `Bash(terraform plan:*)`, not `Bash(terraform:*)`.
SUBCOMMAND_PROGRAMS = {
    "git", "npm", "pnpm", "yarn", "npx", "terraform", "kubectl", "helm", "docker", "make", "cargo", "go", "pip",
    "uv", "poetry", "gh", "glab", "aws", "gcloud", "az", "dotnet", "mvn", "gradle", "bundle", "rake", "pytest",
}
# Commands the client runs without asking in the default mode: never "asks", so never candidates.
READ_ONLY_PROGRAMS = {"ls", "cat", "head", "tail", "grep", "rg", "pwd", "echo", "wc", "which", "find", "tree", "file", "stat", "date"}
PERMISSION_TOOLS = ("Bash", "Edit", "Write", "MultiEdit", "NotebookEdit", "WebFetch")
USER_SOURCES = ("user",)  # tool_decision sources starting with this are a human's decision
SHELL_OPERATORS = re.compile(r"&&|\|\||[;|&`]|\$\(")


@dataclasses.dataclass
class Team:
    slug: str
    path: Path | None = None
    answers: dict[str, Any] = dataclasses.field(default_factory=dict)
    answers_text: str = ""
    profile: str | None = None
    allow: list[str] = dataclasses.field(default_factory=list)  # every allow rule in force (floor)
    ask: list[str] = dataclasses.field(default_factory=list)  # every ask rule in force
    calls: int = 0


@dataclasses.dataclass(frozen=True)
class Call:
    team: str
    tool: str
    value: str  # the command, path, URL or "" (what an allow rule is matched against)
    kind: str  # "ask-approved", "ask-rejected", "allowed", "denied"
    rule: str = ""  # for denied: the guard's rule id


# ---------------------------------------------------------------- reading


def _value(tool: str, tool_input: Any) -> str:
    if not isinstance(tool_input, dict):
        return ""
    if tool == "Bash":
        return str(tool_input.get("command") or "")
    if tool == "WebFetch":
        return str(tool_input.get("url") or "")
    return str(tool_input.get("file_path") or tool_input.get("notebook_path") or tool_input.get("path") or "")


def _covered(rules: Iterable[str], tool: str, value: str) -> list[str]:
    if tool.startswith("mcp__"):
        return [rule for rule in rules if rule == tool]
    return [rule for rule in rules if render.rule_covers(rule, tool, value)]


def _read_only(command: str) -> bool:
    words = _words(command)
    return bool(words) and Path(words[0]).name in READ_ONLY_PROGRAMS and not SHELL_OPERATORS.search(command)


def _words(command: str) -> list[str]:
    try:
        words = shlex.split(command)
    except ValueError:
        return []
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words.pop(0)  # VAR=value prefixes
    return words


def audit_calls(path: Path, teams: dict[str, Team], default_team: str | None) -> Iterator[Call]:
    """The calls of one audit log: asks humans answered, uses of allow rules, and the guard's denials."""
    pre: dict[str, dict[str, Any]] = {}
    ran: set[str] = set()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or not record.get("tool_use_id"):
            continue
        if record.get("event") == "PreToolUse":
            pre[str(record["tool_use_id"])] = record
        elif record.get("event") in ("PostToolUse", "PostToolUseFailure"):
            ran.add(str(record["tool_use_id"]))
    for tool_use_id, record in pre.items():
        slug = str(record.get("team") or default_team or "")
        team = teams.setdefault(slug, Team(slug))
        team.calls += 1
        tool = str(record.get("tool") or "")
        value = _value(tool, record.get("input"))
        decision = record.get("decision")
        if decision == "deny":
            match = _RULE_IN_REASON.search(str(record.get("reason") or ""))
            yield Call(slug, tool, value, "denied", match.group(1) if match else "unnamed")
        elif _covered(team.allow, tool, value) and decision != "ask":
            yield Call(slug, tool, value, "allowed")
        elif decision == "ask" or (record.get("mode", "default") == "default" and (tool in PERMISSION_TOOLS or tool.startswith("mcp__"))
                                   and not (tool == "Bash" and _read_only(value))):
            yield Call(slug, tool, value, "ask-approved" if tool_use_id in ran else "ask-rejected")


def otel_calls(path: Path, teams: dict[str, Team]) -> Iterator[Call]:
    """Human decisions from the client's own tool_decision events."""
    for event in otlp.read_export_file(path):
        if event["event"] not in ("tool_decision", "claude_code.tool_decision"):
            continue
        attributes = event["attributes"]
        slug = str(attributes.get("team.id") or event["resource"].get("team.id") or "")
        team = teams.setdefault(slug, Team(slug))
        team.calls += 1
        tool = str(attributes.get("tool_name") or "")
        try:
            parameters = json.loads(attributes.get("tool_parameters") or "{}")
        except ValueError:
            parameters = {}
        value = str(parameters.get("full_command") or parameters.get("url") or parameters.get("file_path") or "")
        source, decision = str(attributes.get("source") or ""), attributes.get("decision")
        if source.startswith(USER_SOURCES):
            yield Call(slug, tool, value, "ask-approved" if decision == "accept" else "ask-rejected")
        elif decision == "accept" and _covered(team.allow, tool, value):
            yield Call(slug, tool, value, "allowed")


def load_team(path: Path) -> Team:
    """A team repository: its answers, and the allow and ask rules in force (policy.json, settings.json)."""
    answers_text = (path / ANSWERS_FILE).read_text(encoding="utf-8")
    answers = yaml.safe_load(answers_text) or {}
    policy = json.loads((path / POLICY_FILE).read_text(encoding="utf-8"))
    try:
        settings = json.loads((path / SETTINGS_FILE).read_text(encoding="utf-8"))
        ask = list((settings.get("permissions") or {}).get("ask") or [])
    except (OSError, ValueError):
        ask = []
    floor = policy.get("floor") or {}
    return Team(slug=str(answers.get("team_slug") or policy.get("team") or path.name), path=path, answers=answers,
                answers_text=answers_text, profile=answers.get("permission_profile") or policy.get("profile"),
                allow=list(floor.get("allow") or []), ask=ask or list(floor.get("ask") or []))


# ---------------------------------------------------------------- proposals


def candidate_rule(tool: str, value: str) -> tuple[str | None, str]:
    """(the narrowest usual allow rule for a call, why none when None)."""
    if tool.startswith("mcp__"):
        return tool, ""
    if tool == "WebFetch":
        host = urlsplit(value).hostname
        return (f"WebFetch(domain:{host})", "") if host else (None, "no host in the URL")
    if tool != "Bash":
        return None, f"{tool} calls are approved per file; allow them with a path rule by hand if at all"
    if SHELL_OPERATORS.search(value):
        return None, "a compound command: allow its parts one by one"
    words = _words(value)
    if not words:
        return None, "the command could not be parsed"
    program = Path(words[0]).name
    if program in SUBCOMMAND_PROGRAMS and len(words) > 1 and not words[1].startswith("-"):
        return f"Bash({program} {words[1]}:*)", ""
    return f"Bash({program}:*)", ""


def propose(foundation: Foundation, teams: dict[str, Team], calls: list[Call], min_asks: int) -> dict[str, Any]:
    allow_candidates, kept_asks = [], []
    asks: dict[tuple[str, str], list[Call]] = collections.defaultdict(list)
    for call in calls:
        if call.kind.startswith("ask-"):
            rule, why = candidate_rule(call.tool, call.value)
            asks[(call.team, rule or f"{call.tool}: {why}")].append(call)
    for (slug, rule), group in sorted(asks.items()):
        approved = sum(call.kind == "ask-approved" for call in group)
        entry = {"team": slug, "rule": rule, "asked": len(group), "approved": approved,
                 "commands": _top([call.value for call in group])}
        if approved < len(group) or len(group) < min_asks:
            continue  # a human said no at least once, or too few to tell
        if not rule.startswith(("Bash(", "WebFetch(", "mcp__")):
            kept_asks.append({**entry, "why": rule.split(": ", 1)[1]})
            continue
        team = teams.get(slug) or Team(slug)
        refused = render.extra_rule_errors(foundation, [rule], "allow")
        on_purpose = [ask for call in group for ask in _covered(team.ask, call.tool, call.value)]
        if refused:
            kept_asks.append({**entry, "why": refused[0].split(": ", 1)[1]})
        elif on_purpose:
            kept_asks.append({**entry, "why": f"it asks on purpose (ask rule {on_purpose[0]})"})
        else:
            allow_candidates.append(entry)

    used: dict[str, set[str]] = collections.defaultdict(set)
    for call in calls:
        if call.kind in ("allowed", "ask-approved"):
            team = teams.get(call.team)
            if team:
                used[call.team].update(_covered(team.allow, call.tool, call.value))
    removals = []
    for slug, team in sorted(teams.items()):
        if team.path is None or not team.calls:
            continue  # no answers to change, or no evidence either way
        for rule in team.answers.get("extra_allow") or []:
            if rule not in used[slug]:
                removals.append({"team": slug, "rule": rule, "where": f"{slug}: {ANSWERS_FILE} extra_allow", "calls_seen": team.calls})
    foundation_removals = []
    for profile_name, profile in foundation.profiles.items():
        on_profile = [slug for slug, team in teams.items() if team.profile == profile_name and team.calls]
        if not on_profile:
            continue
        for rule in profile.get("allow") or []:
            if not any(rule in used[slug] for slug in on_profile):
                foundation_removals.append({"profile": profile_name, "rule": rule, "teams_seen": sorted(on_profile),
                                            "where": f"foundation/profiles.yml profiles.{profile_name}.allow"})

    denies: dict[str, list[Call]] = collections.defaultdict(list)
    for call in calls:
        if call.kind == "denied":
            denies[call.rule].append(call)
    most_hit = [{"rule": rule, "hits": len(group), "teams": dict(collections.Counter(c.team for c in group).most_common()),
                 "commands": _top([c.value for c in group])}
                for rule, group in sorted(denies.items(), key=lambda item: (-len(item[1]), item[0]))]
    return {"allow_candidates": allow_candidates, "kept_asks": kept_asks, "removal_candidates": removals,
            "foundation_removal_candidates": foundation_removals, "most_hit_denies": most_hit}


def _top(values: list[str]) -> list[dict[str, Any]]:
    return [{"command": value, "count": count} for value, count in collections.Counter(values).most_common(TOP_COMMANDS)]


# ---------------------------------------------------------------- diffs


def team_diff(team: Team, add: list[str], remove: list[str]) -> str:
    answers = dict(team.answers)
    rules = [rule for rule in answers.get("extra_allow") or [] if rule not in remove]
    answers["extra_allow"] = rules + [rule for rule in add if rule not in rules]
    header = "".join(line + "\n" for line in team.answers_text.splitlines() if line.startswith("#"))
    new_text = header + yaml.safe_dump(answers, sort_keys=True, allow_unicode=True)
    diff = "".join(difflib.unified_diff(team.answers_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                        f"a/{ANSWERS_FILE}", f"b/{ANSWERS_FILE}"))
    apply = f"python3 .claude/foundation/update.py --data 'extra_allow={json.dumps(answers['extra_allow'])}'"
    return f"# {team.slug}: review, then apply in the team's repository with\n#   {apply}\n{diff}"


def foundation_diff(root: Path, removals: list[dict[str, Any]]) -> str:
    """Remove each unused profile allow rule from profiles.yml where it stands on a line of its own."""
    path = root / "foundation" / "profiles.yml"
    old = path.read_text(encoding="utf-8").splitlines(keepends=True)
    new, profile = [], None
    doomed = {(r["profile"], r["rule"]) for r in removals}
    for line in old:
        heading = re.match(r"^  ([a-z][\w-]*):\s*$", line)
        if heading:
            profile = heading.group(1)
        item = re.match(r"^\s*-\s*['\"]?(.+?)['\"]?\s*(#.*)?$", line)
        if item and (profile, item.group(1)) in doomed:
            continue
        new.append(line)
    return "".join(difflib.unified_diff(old, new, "a/foundation/profiles.yml", "b/foundation/profiles.yml"))


# ---------------------------------------------------------------- report


def report_text(result: dict[str, Any]) -> str:
    lines = ["# Rule tuning proposals", ""]
    lines += ["## Allow candidates (asked, and approved every time)", ""]
    lines += [f"- {c['team']}: `{c['rule']}` ({c['approved']}/{c['asked']} approved), e.g. `{c['commands'][0]['command']}`"
              for c in result["allow_candidates"]] or ["(none)"]
    if result["kept_asks"]:
        lines += ["", "Approved every time, but kept as asks:", ""]
        lines += [f"- {c['team']}: `{c['rule']}` ({c['asked']}x): {c['why']}" for c in result["kept_asks"]]
    lines += ["", "## Removal candidates (allow rules no call used)", ""]
    lines += [f"- {r['where']}: `{r['rule']}` (unused in {r['calls_seen']} calls)" for r in result["removal_candidates"]]
    lines += [f"- {r['where']}: `{r['rule']}` (unused by {', '.join(r['teams_seen'])})" for r in result["foundation_removal_candidates"]]
    if not result["removal_candidates"] and not result["foundation_removal_candidates"]:
        lines += ["(none)"]
    lines += ["", "## Most-hit denies", ""]
    for deny in result["most_hit_denies"]:
        teams = ", ".join(f"{team} {count}" for team, count in deny["teams"].items())
        commands = "; ".join(f"`{c['command']}` x{c['count']}" for c in deny["commands"])
        lines.append(f"- `{deny['rule']}`: {deny['hits']} hits ({teams}): {commands}")
    if not result["most_hit_denies"]:
        lines.append("(none)")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- command line


def run_tune(root: Path, repos: list[Path], audit: list[Path], otel: list[Path], min_asks: int) -> tuple[dict[str, Any], dict[str, str]]:
    """(the proposals, {file name: diff}); reads only."""
    foundation = load_foundation(root / "foundation")
    teams: dict[str, Team] = {}
    logs: list[tuple[Path, str | None]] = []
    for repo in repos:
        team = load_team(repo)
        teams[team.slug] = team
        logs += [(log, team.slug) for log in sorted((repo / AUDIT_DIR).glob("*.jsonl"))]
    for path in audit:
        logs += [(log, None) for log in (sorted(path.glob("*.jsonl")) if path.is_dir() else [path])]
    calls: list[Call] = []
    for log, default_team in logs:
        calls += audit_calls(log, teams, default_team)
    for path in otel:
        calls += otel_calls(path, teams)
    result = propose(foundation, teams, calls, min_asks)
    diffs: dict[str, str] = {}
    for slug, team in sorted(teams.items()):
        add = [c["rule"] for c in result["allow_candidates"] if c["team"] == slug]
        remove = [r["rule"] for r in result["removal_candidates"] if r["team"] == slug]
        if team.path is not None and (add or remove):
            diffs[f"{slug}.diff"] = team_diff(team, add, remove)
    if result["foundation_removal_candidates"]:
        text = foundation_diff(root, result["foundation_removal_candidates"])
        if text:
            diffs["foundation.diff"] = text
    return result, diffs


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("tune", help="propose rule changes from real decisions (audit logs, OpenTelemetry)")
    parser.add_argument("repos", nargs="*", type=Path, metavar="TEAM_REPO", help="team repository checkouts (answers, rules, .claude/audit/*.jsonl)")
    parser.add_argument("--audit", action="append", type=Path, default=[], metavar="PATH", help="shipped audit log file or folder of *.jsonl (repeatable)")
    parser.add_argument("--otel", action="append", type=Path, default=[], metavar="PATH", help="OTLP JSON export of tool_decision events (repeatable)")
    parser.add_argument("--min-asks", type=int, default=DEFAULT_MIN_ASKS, metavar="N", help=f"asks needed before proposing an allow rule (default {DEFAULT_MIN_ASKS})")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write each proposal as a unified diff into DIR (never changes a file itself)")
    parser.add_argument("--json", action="store_true", help="print the proposals as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not (args.repos or args.audit or args.otel):
        print("tune: nothing to read; give team repositories, --audit logs or --otel exports", file=sys.stderr)
        return 2
    for path in [*args.repos, *args.audit, *args.otel]:
        if not path.exists():
            print(f"tune: {path} does not exist", file=sys.stderr)
            return 2
    try:
        result, diffs = run_tune(Path(args.root), args.repos, args.audit, args.otel, args.min_asks)
    except FoundationError as error:
        print(f"tune: cannot read the registry: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"tune: {error}", file=sys.stderr)
        return 2
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, text in diffs.items():
            (args.out / name).write_text(text, encoding="utf-8")
    if args.json:
        print(json.dumps({**result, "diffs": sorted(diffs)}, indent=2))
    else:
        sys.stdout.write(report_text(result))
        if args.out:
            print(f"\nProposed diffs in {args.out}: {', '.join(sorted(diffs)) or 'none'}")
    return 0
