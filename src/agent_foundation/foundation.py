"""Load and validate the foundation's data (the one source of truth under foundation/).

Used at render time by the Copier extension (only PyYAML and the standard library may be imported here: a
team renders from the template checkout without installing this package) and at platform time by the CLI.
Every problem names the file, the field and the fix, and all problems are reported at once.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

RISKS = ("low", "medium", "high")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
SKILL_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SERVER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
EXACT_VERSION = re.compile(r"^\d+(\.\d+)*([-.+][0-9A-Za-z.-]+)?$")
STACK_GROUPS = ("build", "test", "lint")
RESERVED_SKILL_WORDS = ("anthropic", "claude")
# libyaml's loader when PyYAML has it: the data is parsed on every render, three times per update.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SKILL_NAME_MAX = 64
SKILL_DESCRIPTION_MAX = 1024
# Tools whose rules take a path or a command in parentheses; anything else capitalised is a bare tool name.
RULE = re.compile(r"^(?P<tool>[A-Z][A-Za-z]*|mcp__[A-Za-z0-9_-]+)(\((?P<arg>.+)\))?$")
# A host the sandbox's network allowlist accepts: a name of two labels or more, optionally under a leading
# "*." wildcard (which then needs two labels after it, so never "*" or "*.com"), or an IPv4 address.
HOST_NAME = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
IPV4 = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")
# A command the sandbox runs outside it: a program name, optionally with its subcommand words.
UNSANDBOXED_COMMAND = re.compile(r"^[a-z0-9][a-z0-9._+-]*( [a-z0-9][a-z0-9._+-]*)*$")


@dataclasses.dataclass(frozen=True)
class Problem:
    file: str
    field: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}. Fix: {self.fix}"


class FoundationError(ValueError):
    """The foundation's data is broken; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"the foundation's data has {len(problems)} problem(s):\n{lines}")


@dataclasses.dataclass
class Skill:
    name: str
    folder: Path
    description: str
    owner: str
    version: str
    risk: str
    recommended: bool
    origin_team: str
    summary: str
    files: dict[str, bytes]  # relative path inside the skill folder -> content (metadata.yml excluded)


@dataclasses.dataclass
class Foundation:
    root: Path
    org_rules: str
    policy: dict[str, Any]
    profiles: dict[str, dict[str, Any]]
    stacks: dict[str, dict[str, Any]]
    skills: dict[str, Skill]
    mcp_servers: dict[str, dict[str, Any]]
    client: dict[str, Any] = dataclasses.field(default_factory=dict)  # client.yml: minimum version, sandbox
    agents: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    programs: dict[str, Any] = dataclasses.field(default_factory=dict)  # programs.yml: what the guard knows of programs
    telemetry: dict[str, Any] = dataclasses.field(default_factory=dict)
    context_budget: dict[str, Any] = dataclasses.field(default_factory=dict)
    marketplace_location: str = ""

    @property
    def recommended_skills(self) -> list[str]:
        return [name for name, skill in self.skills.items() if skill.recommended]

    @property
    def recommended_servers(self) -> list[str]:
        return [name for name, server in self.mcp_servers.items() if server.get("recommended")]

    @property
    def always_on_agents(self) -> list[str]:
        return [name for name, agent in self.agents.items() if agent.get("always")]


class _Collector:
    """Collects problems so a broken foundation is reported whole, not one error per run."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []

    def add(self, path: Path | str, field: str, message: str, fix: str) -> None:
        shown = Path(path)
        try:
            shown = shown.relative_to(self.root.parent)
        except ValueError:
            pass
        self.problems.append(Problem(str(shown), field, message, fix))


def load_foundation(root: Path | str) -> Foundation:
    """Load foundation/ and validate it; raise FoundationError listing every problem."""
    root = Path(root)
    problems = _Collector(root)
    org_rules = _read_text(root / "org-rules.md", problems)
    policy = _read_yaml(root / "policy.yml", problems)
    profiles = (_read_yaml(root / "profiles.yml", problems) or {}).get("profiles") or {}
    stacks = (_read_yaml(root / "stacks.yml", problems) or {}).get("stacks") or {}
    servers = (_read_yaml(root / "mcp-servers.yml", problems) or {}).get("servers") or {}
    skills = _load_skills(root / "skills", problems)
    client = _read_yaml(root / "client.yml", problems) or {}
    agents = (_read_yaml(root / "agents.yml", problems) or {}).get("agents") or {}
    programs = _read_yaml(root / "programs.yml", problems) or {}
    telemetry = _read_yaml(root / "telemetry.yml", problems) or {}
    context_budget = _read_yaml(root / "context-budget.yml", problems) or {}
    marketplace = _read_yaml(root / "marketplace.yml", problems) or {}

    _check_policy(root / "policy.yml", policy or {}, problems)
    _check_programs(root / "programs.yml", programs, problems)
    _check_profiles(root / "profiles.yml", profiles, problems)
    _check_stacks(root / "stacks.yml", stacks, problems)
    _check_client(root / "client.yml", client, problems)
    _check_servers(root / "mcp-servers.yml", servers, problems)
    _check_agents(root / "agents.yml", agents, problems)
    _check_migrations(root / "migrations.yml", _read_yaml(root / "migrations.yml", problems) or {}, problems)
    _check_telemetry(root / "telemetry.yml", telemetry, problems)
    _check_context_budget(root / "context-budget.yml", context_budget, problems)
    location = marketplace.get("location") or ""
    if not isinstance(location, str) or (location and not re.match(r"^(https?://|ssh://|git@|gh:)\S+$", location)):
        problems.add(root / "marketplace.yml", "location", f"{location!r} is not a git URL",
                     'give the org\'s git URL of this repository (https://..., ssh://..., git@host:path, gh:ORG/REPO), or ""')
    if problems.problems:
        raise FoundationError(problems.problems)
    return Foundation(root, org_rules or "", policy or {}, profiles, stacks, skills, servers, client, agents, programs,
                      telemetry, context_budget, location if isinstance(location, str) else "")


def _read_text(path: Path, problems: _Collector) -> str | None:
    if not path.is_file():
        problems.add(path, "(file)", "is missing", f"restore {path.name} from the last release")
        return None
    return path.read_text(encoding="utf-8")


def _read_yaml(path: Path, problems: _Collector) -> Any:
    text = _read_text(path, problems)
    if text is None:
        return None
    try:
        data = yaml.load(text, Loader=YAML_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        problems.add(path, where, f"is not valid YAML ({getattr(error, 'problem', error)})", "correct the YAML syntax")
        return None
    if not isinstance(data, dict):
        problems.add(path, "(file)", "must be a YAML mapping", "start the file with its top-level key")
        return None
    return data


def check_rule_syntax(rule: Any) -> str | None:
    """Return why a permission rule string is one the client would reject, or None when it is valid."""
    if not isinstance(rule, str) or not rule.strip():
        return "must be a non-empty string"
    match = RULE.match(rule)
    if not match:
        return "must look like Tool or Tool(pattern), the tool name capitalised, parentheses balanced"
    arg = match.group("arg")
    if arg is not None and (arg.count("(") != arg.count(")")):
        return "has unbalanced parentheses"
    if arg is not None and ":*" in arg[:-2]:
        return "may use :* only at the very end"
    if arg is not None and match.group("tool") != "Bash" and arg.endswith(":*"):
        return ":* is only for Bash rules"
    if match.group("tool").startswith("mcp__") and arg is not None:
        return "MCP rules take no parentheses"
    return None


def _check_rules(path: Path, field: str, rules: Any, problems: _Collector) -> None:
    if rules is None:
        return
    _check_each(path, field, rules, check_rule_syntax, problems, what="permission rules", label="rule ",
                example='["Bash(git status:*)"]', fix="write a rule the client accepts, e.g. Bash(npm test:*) or Read(./docs/**)")


def _check_each(path: Path, field: str, items: Any, why_not: Any, problems: _Collector, *, what: str,
                example: str, fix: str, label: str = "") -> None:
    """A list field whose every item `why_not` accepts (it returns None, else the reason)."""
    if not isinstance(items, list):
        problems.add(path, field, f"must be a list of {what}", f"write it as a YAML list: {example}")
        return
    for index, item in enumerate(items):
        why = why_not(item)
        if why:
            problems.add(path, f"{field}[{index}]", f"{label}{item!r} {why}", fix)


def _check_policy(path: Path, policy: dict[str, Any], problems: _Collector) -> None:
    for section in ("secrets", "protected"):
        paths = (policy.get(section) or {}).get("paths")
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p for p in paths):
            problems.add(path, f"{section}.paths", "must be a non-empty list of path globs", 'list globs such as ".env" or "~/.ssh/**"')
    for key, example in (("guard_only", "/proc/*/environ"), ("not_secret", "~/.ssh/known_hosts")):
        globs = (policy.get("secrets") or {}).get(key, [])
        if not isinstance(globs, list) or not all(isinstance(p, str) and p for p in globs):
            problems.add(path, f"secrets.{key}", "must be a list of path globs", f'list globs such as "{example}"')
    history = (policy.get("history") or {}).get("paths", [])
    if not isinstance(history, list) or not all(isinstance(p, str) and p for p in history):
        problems.add(path, "history.paths", "must be a list of path globs", 'list the history paths, e.g. ".git" and ".git/objects/**"')
    exceptions = (policy.get("secrets") or {}).get("except", [])
    if not isinstance(exceptions, list):
        problems.add(path, "secrets.except", "must be a list of path globs", 'list look-alikes such as ".env.example"')
    commands = policy.get("commands")
    if not isinstance(commands, list) or not commands:
        problems.add(path, "commands", "must be a non-empty list of command rules", "restore the commands section from the last release")
        return
    grammar = _guard_grammar(path.parent.parent)
    validate_match = grammar.validate_match if grammar else None
    seen: set[str] = set()
    for index, rule in enumerate(commands):
        where = f"commands[{index}]"
        if not isinstance(rule, dict):
            problems.add(path, where, "must be a mapping", "give the rule id, family, decision, reason, instead, settings, match and examples")
            continue
        rule_id = rule.get("id")
        where = f"commands[{rule_id or index}]"
        if not isinstance(rule_id, str) or not SKILL_NAME.match(rule_id):
            problems.add(path, f"{where}.id", f"{rule_id!r} is not a valid id", "use lowercase words joined by hyphens, e.g. git-force-push")
        elif rule_id in seen:
            problems.add(path, f"{where}.id", "is used twice", "give each rule its own id")
        seen.add(str(rule_id))
        if rule.get("decision") not in ("deny", "ask"):
            problems.add(path, f"{where}.decision", f"{rule.get('decision')!r} is not deny or ask", "set decision: deny or decision: ask")
        for key in ("family", "reason", "instead"):
            if not isinstance(rule.get(key), str) or not rule.get(key).strip():
                problems.add(path, f"{where}.{key}", "is missing", f"add a {key} the agent can act on")
        if not isinstance(rule.get("match"), dict) or not rule.get("match"):
            problems.add(path, f"{where}.match", "is missing", "describe what the guard matches (see hooks/match_grammar.py)")
        elif validate_match is not None:
            for error in validate_match(rule["match"]):
                problems.add(path, f"{where}.match", error, "use the match grammar of hooks/match_grammar.py (MATCH_KEYS, docs/guard.md)")
        if not isinstance(rule.get("examples"), list) or not rule.get("examples"):
            problems.add(path, f"{where}.examples", "needs at least one dangerous example command", "add a command this rule must stop")
        _check_rules(path, f"{where}.settings", rule.get("settings", []), problems)
    domains = (policy.get("web") or {}).get("allowed_domains", [])
    if not isinstance(domains, list):
        problems.add(path, "web.allowed_domains", "must be a list of host names", "list hosts such as docs.python.org")


def _guard_grammar(root: Path):
    """The guard owns the grammar of policy matches and of the program table: load it by file path (never cached
    in sys.modules, so the render process does not keep a stale copy of agent-time code)."""
    grammar_file = root / "template" / ".claude" / "foundation" / "hooks" / "match_grammar.py"
    if not grammar_file.is_file():
        return None
    import importlib.util

    spec = importlib.util.spec_from_file_location("_agent_foundation_match_grammar", grammar_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check_programs(path: Path, table: Any, problems: _Collector) -> None:
    grammar = _guard_grammar(path.parent.parent)
    if grammar is None:
        return
    for field, message, fix in grammar.validate_programs(table):
        problems.add(path, field, message, f"{fix} (fields: the header of programs.yml and docs/guard.md)")


def _check_profiles(path: Path, profiles: Any, problems: _Collector) -> None:
    if not isinstance(profiles, dict) or not profiles:
        problems.add(path, "profiles", "must map profile names to profiles", "restore profiles.yml from the last release")
        return
    for name, profile in profiles.items():
        where = f"profiles.{name}"
        if not isinstance(profile, dict):
            problems.add(path, where, "must be a mapping", "give summary, allow, ask and stack_commands")
            continue
        if not isinstance(profile.get("summary"), str):
            problems.add(path, f"{where}.summary", "is missing", "add a one-line summary shown in the question")
        _check_rules(path, f"{where}.allow", profile.get("allow", []), problems)
        _check_rules(path, f"{where}.ask", profile.get("ask", []), problems)
        groups = profile.get("stack_commands", [])
        if not isinstance(groups, list) or any(group not in STACK_GROUPS for group in groups):
            problems.add(path, f"{where}.stack_commands", f"{groups!r} is not a list of {', '.join(STACK_GROUPS)}", "list the stack command groups this profile allows")
        _check_hosts(path, f"{where}.network", profile.get("network", []), problems)
        if profile.get("default_mode", "default") not in ("default", "acceptEdits", "plan"):
            problems.add(path, f"{where}.default_mode", f"{profile.get('default_mode')!r} is not allowed", "use default, acceptEdits or plan (never bypassPermissions)")


def _check_stacks(path: Path, stacks: Any, problems: _Collector) -> None:
    if not isinstance(stacks, dict) or not stacks:
        problems.add(path, "stacks", "must map stack names to command groups", "restore stacks.yml from the last release")
        return
    for name, stack in stacks.items():
        if not isinstance(stack, dict):
            problems.add(path, f"stacks.{name}", "must be a mapping", "give summary, build, test and lint")
            continue
        if not isinstance(stack.get("summary"), str):
            problems.add(path, f"stacks.{name}.summary", "is missing", "add a one-line summary shown in the question")
        for group in STACK_GROUPS:
            _check_rules(path, f"stacks.{name}.{group}", stack.get(group, []), problems)
            for index, rule in enumerate(stack.get(group) or []):
                if isinstance(rule, str) and not rule.startswith("Bash("):
                    problems.add(path, f"stacks.{name}.{group}[{index}]", f"{rule!r} is not a Bash rule", "stacks only add Bash(...) command rules")
        _check_hosts(path, f"stacks.{name}.network", stack.get("network", []), problems)
        caches = stack.get("caches", [])
        if not isinstance(caches, list) or not all(isinstance(c, str) and re.fullmatch(r"~/[^*?\s]+", c) and ".." not in c for c in caches):
            problems.add(path, f"stacks.{name}.caches", f"{caches!r} is not a list of folders under ~/", 'list the cache folders its tools write, e.g. ["~/.cache/pip"]')


def host_pattern_problem(host: Any) -> str | None:
    """Why a value cannot go into the sandbox's network allowlist, or None when it can."""
    if not isinstance(host, str) or not host:
        return "must be a non-empty string"
    if "://" in host or "/" in host or ":" in host:
        return "must be a host name only, without scheme, port or path"
    if host != host.lower():
        return "must be written in lowercase"
    if not (HOST_NAME.match(host) or IPV4.match(host)):
        return "is not a host name (two labels or more, e.g. artifacts.example.com; a wildcard only as a leading *. before two labels or more) or an IPv4 address"
    return None


def _check_hosts(path: Path, field: str, hosts: Any, problems: _Collector) -> None:
    _check_each(path, field, hosts, host_pattern_problem, problems, what="host names", example='["artifacts.example.com"]',
                fix='write a host such as "artifacts.example.com" or "*.internal.example.com"')


def _check_client(path: Path, client: dict[str, Any], problems: _Collector) -> None:
    """client.yml: the client version the foundation needs, and the sandbox's own data."""
    if not SEMVER.match(str(client.get("minimum_version", ""))):
        problems.add(path, "minimum_version", f"{client.get('minimum_version')!r} is not a version", 'give the oldest client release the foundation works with, e.g. "2.1.332"')
    sandbox = client.get("sandbox")
    if not isinstance(sandbox, dict):
        problems.add(path, "sandbox", "is missing", "restore the sandbox section from the last release")
        return
    if not isinstance(sandbox.get("fail_if_unavailable"), bool):
        problems.add(path, "sandbox.fail_if_unavailable", "must be true or false", "set it to true (fail closed) unless the docs' trade-off says otherwise")
    if not isinstance(sandbox.get("install"), str) or not sandbox.get("install", "").strip():
        problems.add(path, "sandbox.install", "is missing", "give the command that installs the sandbox on Linux, e.g. sudo apt-get install bubblewrap socat")
    _check_hosts(path, "sandbox.network", sandbox.get("network", []), problems)
    commands = sandbox.get("unsandboxed_commands", [])
    if not isinstance(commands, list):
        problems.add(path, "sandbox.unsandboxed_commands", "must be a list", "list entries with command, ask and reason")
        return
    for index, entry in enumerate(commands):
        where = f"sandbox.unsandboxed_commands[{index}]"
        if not isinstance(entry, dict) or not UNSANDBOXED_COMMAND.match(str(entry.get("command", ""))):
            problems.add(path, f"{where}.command", "is not a program name (optionally with subcommand words)", 'write e.g. command: "docker" or command: "git push"')
            continue
        if not isinstance(entry.get("ask"), bool):
            problems.add(path, f"{where}.ask", "must be true or false", "say whether the command must always ask (true) or follows the profile (false)")
        if not isinstance(entry.get("reason"), str) or not entry.get("reason", "").strip():
            problems.add(path, f"{where}.reason", "is missing", "say why the command cannot run inside the sandbox")


# The agents the renderer knows (one module each under src/agent_foundation/agents/); agents.yml lists which a team may choose.
KNOWN_AGENTS = ("claude-code", "codex", "copilot", "cursor")


def _check_agents(path: Path, agents: Any, problems: _Collector) -> None:
    if not isinstance(agents, dict) or "claude-code" not in agents:
        problems.add(path, "agents", "must map agent names to agents and list claude-code", "restore agents.yml from the last release")
        return
    for name, agent in agents.items():
        where = f"agents.{name}"
        if name not in KNOWN_AGENTS:
            problems.add(path, where, f"{name!r} has no renderer", f"use one of {', '.join(KNOWN_AGENTS)} (a new agent needs its module under src/agent_foundation/agents/)")
            continue
        if not isinstance(agent, dict):
            problems.add(path, where, "must be a mapping", "give summary, always, files and cannot_express")
            continue
        if not isinstance(agent.get("summary"), str):
            problems.add(path, f"{where}.summary", "is missing", "add a one-line summary shown in the question")
        if not isinstance(agent.get("always", False), bool):
            problems.add(path, f"{where}.always", "must be true or false", "write always: true only for claude-code")
        for key in ("files", "cannot_express"):
            if not isinstance(agent.get(key, []), list) or not all(isinstance(v, str) for v in agent.get(key, [])):
                problems.add(path, f"{where}.{key}", "must be a list of strings", f"list the {key.replace('_', ' ')} one per line")
    if not agents["claude-code"].get("always") if isinstance(agents.get("claude-code"), dict) else False:
        problems.add(path, "agents.claude-code.always", "must be true", "Claude Code is always on: write always: true")


MIGRATION_KINDS = {"renamed_files": ("from", "to"), "renamed_answers": ("from", "to"), "retired_skills": None,
                   "retired_servers": None}


def _check_migrations(path: Path, data: dict[str, Any], problems: _Collector) -> None:
    """migrations.yml: each entry a release version and lists of the changes a re-render cannot express."""
    entries = data.get("migrations")
    if not isinstance(entries, list):
        problems.add(path, "migrations", "must be a list (empty when nothing needs migrating)", "write migrations: []")
        return
    for index, entry in enumerate(entries):
        where = f"migrations[{index}]"
        if not isinstance(entry, dict) or not SEMVER.match(str(entry.get("version", ""))):
            problems.add(path, f"{where}.version", "is missing or not MAJOR.MINOR.PATCH", "give the release that makes the change, e.g. version: 0.2.0")
            continue
        for key, value in entry.items():
            if key == "version":
                continue
            if key not in MIGRATION_KINDS:
                problems.add(path, f"{where}.{key}", "is not a kind of migration", f"use {', '.join(MIGRATION_KINDS)}")
            elif not isinstance(value, list):
                problems.add(path, f"{where}.{key}", "must be a list", "list the changes of this kind")
            elif MIGRATION_KINDS[key] and not all(isinstance(v, dict) and all(isinstance(v.get(f), str) and v.get(f) for f in MIGRATION_KINDS[key]) for v in value):
                problems.add(path, f"{where}.{key}", "needs a from and a to in every entry", "write {from: old, to: new}")
            elif not MIGRATION_KINDS[key] and not all(isinstance(v, str) and v for v in value):
                problems.add(path, f"{where}.{key}", "must list names", "write [name]")


OTLP_PROTOCOLS = ("grpc", "http/json", "http/protobuf")
OTEL_SIGNALS = ("logs", "metrics")
# What an OpenTelemetry event may carry beyond names, decisions and sizes (each can hold code or secrets).
OTEL_CONTENT = ("user_prompts", "tool_details", "tool_content", "assistant_responses", "raw_api_bodies")
HTTP_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


def otlp_endpoint_problem(endpoint: Any) -> str | None:
    """Why an OTLP collector URL cannot be used, or None (shared by telemetry.yml and --otel-endpoint)."""
    if not isinstance(endpoint, str) or not HTTP_URL.match(endpoint):
        return f"{endpoint!r} is not an http(s) URL"
    return None


def _check_telemetry(path: Path, data: dict[str, Any], problems: _Collector) -> None:
    """telemetry.yml: the org's OpenTelemetry collector and which content its events may carry."""
    collector = data.get("collector")
    if not isinstance(collector, dict):
        problems.add(path, "collector", "is missing", "restore the collector section from the last release")
        collector = {}
    endpoint = collector.get("endpoint") or ""
    if endpoint and otlp_endpoint_problem(endpoint):
        problems.add(path, "collector.endpoint", otlp_endpoint_problem(endpoint), 'give the collector\'s base URL, e.g. "https://otel.example.com:4318", or "" to set it with --otel-endpoint')
    if collector.get("protocol") not in OTLP_PROTOCOLS:
        problems.add(path, "collector.protocol", f"{collector.get('protocol')!r} is not one of {', '.join(OTLP_PROTOCOLS)}", "set protocol: http/json (or grpc, http/protobuf)")
    signals = collector.get("signals")
    if not isinstance(signals, list) or not signals or any(s not in OTEL_SIGNALS for s in signals):
        problems.add(path, "collector.signals", f"{signals!r} is not a list of {', '.join(OTEL_SIGNALS)}", "write signals: [logs, metrics]")
    intervals = collector.get("export_interval_seconds") or {}
    for signal in OTEL_SIGNALS:
        value = intervals.get(signal) if isinstance(intervals, dict) else None
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.add(path, f"collector.export_interval_seconds.{signal}", f"{value!r} is not a whole number of seconds", f"set {signal}: 5 (or any number of seconds from 1)")
    content = data.get("content")
    if not isinstance(content, dict):
        problems.add(path, "content", "is missing", "restore the content section from the last release (every flag false)")
        return
    for key, value in content.items():
        if key not in OTEL_CONTENT:
            problems.add(path, f"content.{key}", "is not a kind of content the client can log", f"use {', '.join(OTEL_CONTENT)}")
        elif not isinstance(value, bool):
            problems.add(path, f"content.{key}", f"{value!r} is not true or false", f"set {key}: false")


CONTEXT_BUDGET_PARTS = ("org_rules", "skill_listing", "total")


def _check_context_budget(path: Path, data: dict[str, Any], problems: _Collector) -> None:
    budget = data.get("per_request")
    for part in CONTEXT_BUDGET_PARTS:
        value = budget.get(part) if isinstance(budget, dict) else None
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.add(path, f"per_request.{part}", f"{value!r} is not a number of characters", f"set {part}: to the most characters the foundation may add to every request, e.g. 4000")
    ratio = data.get("chars_per_token")
    if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) or not 1 <= ratio <= 10:
        problems.add(path, "chars_per_token", f"{ratio!r} is not a number between 1 and 10", "set chars_per_token: 3.5")


def _check_servers(path: Path, servers: Any, problems: _Collector) -> None:
    if not isinstance(servers, dict) or not servers:
        problems.add(path, "servers", "must map server names to servers", "restore mcp-servers.yml from the last release")
        return
    for name, server in servers.items():
        where = f"servers.{name}"
        if not SERVER_NAME.match(str(name)):
            problems.add(path, where, f"{name!r} is not a valid server name", "use lowercase letters, digits and hyphens")
        if not isinstance(server, dict):
            problems.add(path, where, "must be a mapping", "see the comment at the top of mcp-servers.yml")
            continue
        if server.get("risk") not in RISKS:
            problems.add(path, f"{where}.risk", f"{server.get('risk')!r} is not one of {', '.join(RISKS)}", "set risk: low, medium or high")
        for key in ("summary", "owner"):
            if not isinstance(server.get(key), str) or not server.get(key):
                problems.add(path, f"{where}.{key}", "is missing", f"add the server's {key}")
        transport = server.get("transport", "stdio")
        if transport == "stdio":
            if server.get("runner") not in ("npx", "uvx"):
                problems.add(path, f"{where}.runner", f"{server.get('runner')!r} is not npx or uvx", "set runner: npx (npm package) or uvx (PyPI package)")
            if not isinstance(server.get("package"), str) or not server.get("package"):
                problems.add(path, f"{where}.package", "is missing", "name the package the runner starts")
            version = str(server.get("version", ""))
            if not EXACT_VERSION.match(version):
                problems.add(path, f"{where}.version", f"{version!r} is not an exact version", 'pin an exact version such as "1.2.3" (no ranges, no latest)')
        elif transport == "http":
            if not str(server.get("url", "")).startswith("https://"):
                problems.add(path, f"{where}.url", "must be an https:// URL", "give the server's https endpoint")
        else:
            problems.add(path, f"{where}.transport", f"{transport!r} is not stdio or http", "set transport: stdio or http")
        for key, value in (server.get("env") or {}).items():
            if not re.fullmatch(r"\$\{[A-Z_][A-Z0-9_]*(:-[^}]*)?\}", str(value)):
                problems.add(path, f"{where}.env.{key}", "holds a literal value", 'reference an environment variable instead: "${VAR}"')
        tools = server.get("tools")
        if not isinstance(tools, dict) or not all(isinstance(tools.get(kind, []), list) for kind in ("read", "write")):
            problems.add(path, f"{where}.tools", "must list the server's read and write tools", "give tools: {read: [...], write: [...]}")


def _load_skills(folder: Path, problems: _Collector) -> dict[str, Skill]:
    skills: dict[str, Skill] = {}
    if not folder.is_dir():
        problems.add(folder, "(folder)", "is missing", "restore foundation/skills from the last release")
        return skills
    for skill_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        skill = load_skill(skill_dir, problems)
        if skill:
            skills[skill.name] = skill
    return skills


def split_frontmatter(text: str) -> tuple[dict[str, Any] | None, str]:
    """Split a SKILL.md into its YAML frontmatter and body; frontmatter is None when absent or invalid."""
    if not text.startswith("---\n"):
        return None, text
    end = text.find("\n---", 4)
    if end < 0:
        return None, text
    try:
        data = yaml.load(text[4:end], Loader=YAML_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return None, text
    return (data if isinstance(data, dict) else None), text[end + 4 :].lstrip("\n")


def skill_frontmatter_problems(name_expected: str, frontmatter: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """The client's own skill limits (which its validator does not enforce): (field, message, fix) triples."""
    if frontmatter is None:
        return [("frontmatter", "is missing or not valid YAML", "start SKILL.md with ---, name: and description:, then ---")]
    found = []
    name = frontmatter.get("name")
    if not isinstance(name, str) or not name:
        found.append(("name", "is missing", f"add name: {name_expected}"))
    else:
        if len(name) > SKILL_NAME_MAX or not SKILL_NAME.match(name):
            found.append(("name", f"{name!r} is not 1-64 lowercase letters, digits and single hyphens", "rename the skill, e.g. release-notes"))
        if any(word in name for word in RESERVED_SKILL_WORDS):
            found.append(("name", f"{name!r} contains a reserved word ({', '.join(RESERVED_SKILL_WORDS)})", "choose another name"))
        if name != name_expected:
            found.append(("name", f"{name!r} does not match its folder {name_expected!r}", "make the folder name and name: the same"))
    description = frontmatter.get("description")
    if not isinstance(description, str) or not description.strip():
        found.append(("description", "is missing", "say what the skill does and when to use it"))
    elif len(description) > SKILL_DESCRIPTION_MAX:
        found.append(("description", f"is {len(description)} characters, over {SKILL_DESCRIPTION_MAX}", "shorten it"))
    elif "<" in description or ">" in description:
        found.append(("description", "contains < or > (read as XML tags)", "remove the angle brackets"))
    return found


def load_skill(skill_dir: Path, problems: _Collector) -> Skill | None:
    skill_md = skill_dir / "SKILL.md"
    meta_path = skill_dir / "metadata.yml"
    text = _read_text(skill_md, problems)
    meta = _read_yaml(meta_path, problems)
    if text is None or meta is None:
        return None
    frontmatter, _ = split_frontmatter(text)
    for field, message, fix in skill_frontmatter_problems(skill_dir.name, frontmatter):
        problems.add(skill_md, field, message, fix)
    ok = True
    for key in ("owner", "version", "risk", "recommended", "origin_team", "summary"):
        if key not in meta:
            problems.add(meta_path, key, "is missing", f"add {key}: to metadata.yml")
            ok = False
    if ok:
        if not SEMVER.match(str(meta["version"])):
            problems.add(meta_path, "version", f"{meta['version']!r} is not a semantic version", "use MAJOR.MINOR.PATCH, e.g. 1.0.0")
        if meta["risk"] not in RISKS:
            problems.add(meta_path, "risk", f"{meta['risk']!r} is not one of {', '.join(RISKS)}", "set risk: low, medium or high")
        if not isinstance(meta["recommended"], bool):
            problems.add(meta_path, "recommended", "must be true or false", "set recommended: true or recommended: false")
    files: dict[str, bytes] = {}
    for path in sorted(skill_dir.rglob("*")):
        if path.is_symlink():
            problems.add(path, "(file)", "is a symbolic link", "replace it with the file's content")
        elif path.is_file() and path != meta_path:
            files[path.relative_to(skill_dir).as_posix()] = path.read_bytes()
    if not ok or frontmatter is None:
        return None
    return Skill(
        name=skill_dir.name,
        folder=skill_dir,
        description=str(frontmatter.get("description", "")),
        owner=str(meta["owner"]),
        version=str(meta["version"]),
        risk=str(meta["risk"]),
        recommended=bool(meta["recommended"]),
        origin_team=str(meta["origin_team"]),
        summary=str(meta["summary"]),
        files=files,
    )
