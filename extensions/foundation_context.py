"""Copier extension: exposes the foundation's data to copier.yml and the template.

Loaded by copier-template-extensions from the template checkout itself, so a team needs nothing installed
beyond Copier. It loads the loader and renderer from this checkout's src/ by file path, never from an
installed package or a cached import: during `copier update` the old and the new template versions are
rendered in one process, and each must use its own code.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

from copier.errors import UserMessageError
from copier_template_extensions import ContextHook
from jinja2 import pass_context

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "agent_foundation"
ANSWER_KEYS = ("team_name", "team_slug", "owner", "permission_profile", "stacks", "skills", "mcp_servers")
OPTIONAL_KEYS = ("extra_allow", "extra_ask", "extra_deny", "extra_settings", "extra_network_hosts", "extra_mcp_servers",
                 "exceptions", "audit_log", "support_channel", "agents", "extra_codex_config", "skills_delivery",
                 "extra_agent_config")


def _fresh_import(*modules: str) -> list[Any]:
    """Import PACKAGE's modules from this checkout's src/, leaving sys.modules as it was."""
    def ours(name: str) -> bool:
        return name == PACKAGE or name.startswith(PACKAGE + ".")

    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if ours(name)}
    sys.path.insert(0, str(TEMPLATE_ROOT / "src"))
    try:
        return [importlib.import_module(f"{PACKAGE}.{module}") for module in modules]
    finally:
        sys.path.remove(str(TEMPLATE_ROOT / "src"))
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)


# Letters that Unicode does not decompose into an ASCII letter and a mark.
_TRANSLITERATION = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l",
                                  "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i"})
SLUG_MAX = 39


def team_slug(name: str) -> str:
    """The team's name as a slug: "Équipe Paiements" -> equipe-paiements (letters transliterated, not dropped)."""
    decomposed = unicodedata.normalize("NFKD", str(name).translate(_TRANSLITERATION))
    ascii_name = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"^[^a-z]+", "", re.sub(r"[^a-z0-9]+", "-", ascii_name))
    return slug[:SLUG_MAX].rstrip("-")


class FoundationFacade:
    """What copier.yml's choices, defaults and validators call (as `foundation.*`)."""

    team_slug = staticmethod(team_slug)

    def __init__(self, data: Any, render: Any):
        self.data = data
        self._render = render

    def profile_choices(self) -> str:
        return json.dumps({f"{name} - {p['summary']}": name for name, p in self.data.profiles.items()})

    def stack_choices(self) -> str:
        return json.dumps({f"{name} - {s['summary']}": name for name, s in self.data.stacks.items()})

    def skill_choices(self) -> str:
        return json.dumps(
            {f"{name} ({s.risk} risk) - {s.summary}": name for name, s in self.data.skills.items()}
        )

    def server_choices(self) -> str:
        return json.dumps(
            {f"{name} ({s['risk']} risk) - {s['summary']}": name for name, s in self.data.mcp_servers.items()}
        )

    def agent_choices(self) -> str:
        return json.dumps({f"{name} - {a['summary']}": name for name, a in self.data.agents.items()})

    def default_agents(self) -> str:
        return json.dumps(self.data.always_on_agents)

    def agents_error(self, chosen: Any) -> str:
        missing = [name for name in self.data.always_on_agents if name not in (chosen or [])]
        return f"agents must include {', '.join(missing)}: it is always on (add it back to your choice)" if missing else ""

    def extra_codex_config_error(self, extra: Any) -> str:
        return "\n".join(self._agents.codex.extra_config_errors(extra))

    def extra_agent_config_error(self, extra: Any) -> str:
        return "\n".join(self._agents.extra_agent_config_errors(self.data, extra))

    def adopted(self, project_dir: Any, answer: str, agents: Any) -> str:
        """The default of `answer` when an existing repository adopts the foundation: what its own files for the
        chosen agents hold beyond the foundation's (their keys, hooks, rules and MCP servers), read as an update
        reads a hand edit (agents/team.py), so the first render keeps them. "{}" for a repository the
        foundation already renders (a new question on update), and for a file the agent could not read either."""
        answers = self._adopted_answers(str(project_dir), tuple(agents or []))
        return json.dumps(answers.get(answer) or {}, sort_keys=True)

    def adopted_servers(self, project_dir: Any, agents: Any) -> str:
        """The default of mcp_servers: the recommended ones, and at adoption every vetted server the repository's
        own MCP files already run (rendered pinned, in place of the entry it had)."""
        found = self._adopted_answers(str(project_dir), tuple(agents or [])).get("mcp_servers") or []
        return json.dumps(list(dict.fromkeys([*self.data.recommended_servers, *found])))

    def _adopted_answers(self, project_dir: str, agents: tuple[str, ...]) -> dict[str, Any]:
        project = Path(project_dir)
        if (project / ".claude/foundation/manifest.json").is_file():
            return {}
        team = self._agents.team
        files = dict(self._agents.team_files(list(agents)))
        files[".mcp.json"] = team.TeamFile(".mcp.json", servers="mcpServers")  # Claude Code's: its servers alone
        answers: dict[str, Any] = {"mcp_servers": []}
        vetted = set(self.data.mcp_servers)
        for path, spec in files.items():
            try:
                current = team.parse(spec, (project / path).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if path == ".mcp.json":
                current = {"mcpServers": current.get("mcpServers")}
            servers = current.get(spec.servers) if spec.servers else None
            answers["mcp_servers"] += [name for name in (servers if isinstance(servers, dict) else {}) if name in vetted]
            answers.update(team.carry_file(spec, current, {}, answers, vetted, lambda kind, text: None))
        return answers

    @functools.cached_property
    def _agents(self) -> Any:
        return _fresh_import("agents")[0]

    def recommended_skills(self) -> str:
        return json.dumps(self.data.recommended_skills)

    def recommended_servers(self) -> str:
        return json.dumps(self.data.recommended_servers)

    def extra_rules_error(self, rules: Any, kind: str) -> str:
        return "\n".join(self._render.extra_rule_errors(self.data, rules, kind))

    def before_update_due(self, project_dir: Any, version_from: Any, version_to: Any) -> bool:
        """Whether the update's before stage has work: entries in foundation/migrations.yml between the two
        versions, recommended skills new to the registry, hand edits to carry, answers to check. An ordinary
        update has none, and saves the interpreter start."""
        project = Path(str(project_dir))
        return (bool(self._migrate.due_migrations(version_from, version_to, TEMPLATE_ROOT))
                or self.offers_new_skills(project) or self._migrate.before_due(project, self.data, self._render))

    def adopt_answers(self, data: Any, project_dir: Any, skip_answered: Any) -> bool:
        """Hand the answers the before stage changed to this Copier run as if given with --data: with
        --skip-answered (Renovate's command line) Copier does not read the answers file again (without it, it
        does, and still asks them with --interactive). Answers given on the command line win. Always false:
        the migration entry it guards has nothing to run."""
        if not skip_answered:
            return False
        report = self._migrate.load_report(Path(str(project_dir)), os.getpid())
        for key, value in (report.get("answers") or {}).items():
            data.setdefault(key, value)
        return False

    def after_update_due(self, project_dir: Any) -> bool:
        """Whether the after stage has something to do or to say: an edit of a moved file to put in place, notes
        of this run, or a conflict, broken JSON or posture error to fail on."""
        project = Path(str(project_dir))
        folder = self._migrate.state_dir(project)
        if (folder / self._migrate.CARRY_DIR).is_dir() or self._migrate.load_report(project, os.getpid(), folder).get("notes"):
            return True
        problems, _, kept = self._migrate.update_problems(project)
        return bool(problems or kept)

    @functools.cached_property
    def _migrate(self) -> Any:
        return _fresh_import("migrate")[0]  # only updates need it: a copy never imports it

    def agents_md_stale(self, project_dir: Any, section: str) -> bool:
        """Whether AGENTS.md lacks the foundation's current section (an adopted repository's own AGENTS.md, or
        a team's after an update): only then does the refresh task need to run."""
        try:
            agents = (Path(str(project_dir)) / "AGENTS.md").read_text(encoding="utf-8")
        except OSError:
            return True
        return section.rstrip("\n") not in agents

    def moves_skills_to_plugins(self, project_dir: Any, skills_delivery: Any) -> bool:
        """Whether this update moves the team from skill copies to plugins (the after-migration then keeps the
        copies the team had edited); read from the last commit's manifest."""
        if skills_delivery != "plugin":
            return False
        shown = subprocess.run(["git", "show", "HEAD:.claude/foundation/manifest.json"], cwd=str(project_dir),
                               capture_output=True, text=True, timeout=60)
        try:
            return shown.returncode == 0 and json.loads(shown.stdout).get("skills_delivery", "copy") == "copy"
        except ValueError:
            return False

    def offers_new_skills(self, project_dir: Any) -> bool:
        """Whether the registry has recommended skills this team was never offered (see migrate.py)."""
        try:
            manifest = json.loads((Path(str(project_dir)) / ".claude/foundation/manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return bool(self._render.new_recommended_skills(self.data, manifest))

    def extra_settings_error(self, extra: Any) -> str:
        return "\n".join(self._render.extra_settings_errors(self.data, extra))

    def extra_network_hosts_error(self, hosts: Any) -> str:
        return "\n".join(self._render.extra_network_host_errors(hosts))

    def sandbox_install(self) -> str:
        return str(self.data.client["sandbox"]["install"])

    def exceptions_error(self, exceptions: Any) -> str:
        return "\n".join(self._render.exception_errors(exceptions))

    def extra_mcp_servers_error(self, extra: Any) -> str:
        return "\n".join(self._render.extra_mcp_server_errors(self.data, extra))


class RenderedFoundation:
    """The team's foundation-owned files (as `af.*` in the templates).

    Computed on first use only: the context hook runs for every render, including validators evaluated
    while later answers are still raw, unvalidated strings.
    """

    def __init__(self, facade: FoundationFacade, answers: dict[str, Any], version: str):
        self._facade, self._answers, self._version = facade, answers, version

    @functools.cached_property
    def files(self) -> dict[str, str]:
        return self._facade._render.generated_files(self._facade.data, self._answers, self._version)

    @functools.cached_property
    def agents_section(self) -> str:
        return self._facade._render.agents_section(self._facade.data, self._answers)

    @functools.cached_property
    def copied_skills(self) -> list[str]:
        """The registry skills rendered as copies (none when the team receives them as plugins)."""
        return self._facade._render.copied_skills(self._answers)

    @functools.cached_property
    def _skill_files(self) -> dict[str, bytes]:
        return self._facade._render.skill_files(self._facade.data, self.copied_skills)

    @functools.cached_property
    def manifest_json(self) -> str:
        render = self._facade._render
        return render.dumps(render.manifest(self._facade.data, self._answers, self._version, TEMPLATE_ROOT / "template"))

    def file(self, path: str) -> str:
        return self.files[path]

    def skill_file_names(self, skill: str) -> list[str]:
        prefix = f".claude/skills/{skill}/"
        return [path[len(prefix):] for path in self._skill_files if path.startswith(prefix)]

    def skill_file(self, skill: str, name: str) -> str:
        return self._skill_files[f".claude/skills/{skill}/{name}"].decode("utf-8")


def _reuse_compiled_strings(environment: Any) -> None:
    """Compile each distinct template string once per render instead of once per use.

    Copier compiles every path part, the answers-file path (once per path part of every file) and every
    question field again each time it renders them: over a thousand compiles per update for a few hundred
    distinct strings. The compiled code depends only on the source and this environment, so it is reused.
    Extensions' preprocess() still runs on every use: Copier's yield tag resets its state there.
    """
    compile_source = environment.compile
    compiled: dict[tuple[Any, ...], Any] = {}

    def compile_once(source: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(source, str) or kwargs:
            return compile_source(source, *args, **kwargs)
        key = (source, *args)
        if key in compiled:
            environment.preprocess(source, *args[:2])
            return compiled[key]
        compiled[key] = compile_source(source, *args)
        return compiled[key]

    environment.compile = compile_once


class AnswerRefused(SystemExit):
    """A refused --data answer: its message alone, exit 1, no traceback."""


@pass_context
def answer_error(context: Any, message: Any, question: str) -> str:
    """A validator's message, passed through (`{{ ... | answer_error('team_slug') }}`).

    At a prompt, Copier shows the message on one line after its own "Validation error for question ..." prefix,
    and the terminal cuts the rest: messages start with the fix. An answer given with --data is validated
    outside any prompt, and Copier lets the ValueError out as a traceback of forty lines; for that answer the
    refusal ends the run here with the message alone. It has to be a SystemExit: Copier turns any Exception
    raised while rendering a validator into the same ValueError.
    """
    message = str(message).strip()
    conf = context.get("_copier_conf")
    given = conf["data"] if conf is not None and "data" in conf else {}
    if message and question in given:
        raise AnswerRefused(f"{question}: {message}")
    return message


class FoundationContext(ContextHook):
    def __init__(self, environment: Any):
        super().__init__(environment)
        _reuse_compiled_strings(environment)
        environment.filters["answer_error"] = answer_error
        foundation_module, self.render = _fresh_import("foundation", "render")
        try:
            data = foundation_module.load_foundation(TEMPLATE_ROOT / "foundation")
        except foundation_module.FoundationError as error:
            raise UserMessageError(f"Cannot render: {error}") from None
        self.facade = FoundationFacade(data, self.render)
        environment.globals["foundation"] = self.facade
        self._cache: dict[str, RenderedFoundation] = {}

    def hook(self, context: dict[str, Any]) -> None:
        if not all(key in context for key in ANSWER_KEYS):
            return  # still asking questions: nothing to render yet
        answers = {key: context.get(key) for key in (*ANSWER_KEYS, *OPTIONAL_KEYS)}
        if "codex" not in (answers.get("agents") or []):
            # Asked only of Codex teams: Copier then records no answer, and the manifest records the answers file.
            answers.pop("extra_codex_config", None)
        if not [name for name in answers.get("agents") or [] if name != "claude-code"]:
            answers.pop("extra_agent_config", None)  # asked only of teams with another agent
        copier_answers = context.get("_copier_answers") or {}
        version = str(copier_answers.get("_commit") or "unreleased")
        # Where a team that receives skills as plugins fetches the marketplace: the org's URL from
        # foundation/marketplace.yml, else the template location the team rendered from.
        answers["_marketplace"] = self.facade.data.marketplace_location or str(copier_answers.get("_src_path") or TEMPLATE_ROOT)
        key = repr((sorted(answers.items()), version))  # runs for every file rendered: keep it cheap
        if key not in self._cache:
            self._cache[key] = RenderedFoundation(self.facade, answers, version.removeprefix("v"))
        context["af"] = self._cache[key]
