"""What an update carries from a team's repository into its answers, inside Copier's own update.

The foundation's JSON files (.claude/settings.json, .mcp.json) are rendered from the answers, so a hand edit
of them is never merged line by line (a conflict marker in settings.json makes the client drop every deny
rule and hook): the edit is read as what it means and moved into the answers, and the file is put back to
what the foundation rendered last time, so Copier renders the new version over it cleanly. What the team may
not change (a deny rule, a hook, a posture setting) comes back, and each of these is named in a note.

Runs in Copier's interpreter from the new template checkout (migrate.py's before stage); PyYAML is there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

SETTINGS = ".claude/settings.json"
MCP = ".mcp.json"
ANSWERS = ".copier-answers.yml"
MANIFEST = ".claude/foundation/manifest.json"
SKILLS_DIR = ".claude/skills"


@dataclass
class Note:
    kind: str  # carried, restored, kept, removed, offered, hint
    text: str


@dataclass
class Carry:
    answers: dict[str, Any]  # the team's answers, changed in place by each step
    changed: set[str] = field(default_factory=set)  # the answers a step changed
    restored: list[str] = field(default_factory=list)  # files to put back to the foundation's last render
    pending: dict[str, bytes] = field(default_factory=dict)  # their content, written once nothing can refuse
    notes: list[Note] = field(default_factory=list)

    def note(self, kind: str, text: str) -> None:
        self.notes.append(Note(kind, text))

    def set(self, answer: str, value: Any) -> None:
        if self.answers.get(answer) != value:
            self.answers[answer] = value
            self.changed.add(answer)


class CarryRefused(Exception):
    """The update cannot go on; `fix` says what to do."""

    def __init__(self, what: str, fix: str):
        super().__init__(what)
        self.what, self.fix = what, fix


def _added(current: list[Any], rendered: list[Any]) -> list[Any]:
    return [item for item in current if item not in rendered]


# ---------------------------------------------------------------- settings.json


def carry_rules(current: dict[str, Any], rendered: dict[str, Any], carry: Carry) -> None:
    """Added rules go to extra_<kind>; a removed foundation allow rule becomes the team's ask rule (it stays
    stricter); a removed foundation ask or deny rule comes back; a removed team rule leaves its answer."""
    cur, ren = current.get("permissions") or {}, rendered.get("permissions") or {}
    extra = {kind: list(carry.answers.get(f"extra_{kind}") or []) for kind in ("allow", "ask", "deny")}
    for kind in ("allow", "ask", "deny"):
        answer = f"extra_{kind}"
        for rule in _added(cur.get(kind) or [], ren.get(kind) or []):
            if rule not in extra[kind]:
                extra[kind].append(rule)
            carry.note("carried", f"your {kind} rule {rule} in {SETTINGS} is carried into the answer {answer}")
        for rule in _added(ren.get(kind) or [], cur.get(kind) or []):
            if rule in extra[kind]:
                extra[kind].remove(rule)
                carry.note("carried", f"your {kind} rule {rule} was removed from {SETTINGS}: removed from the answer {answer} too")
            elif kind == "allow":
                if rule not in extra["ask"] and rule not in (cur.get("ask") or []):
                    extra["ask"].append(rule)
                carry.note("carried", f"you removed the foundation's allow rule {rule} from {SETTINGS}: it is carried as "
                                      "your ask rule in the answer extra_ask, so your agents still ask before it runs")
            else:
                carry.note("restored", f"the foundation's {kind} rule {rule} was removed from {SETTINGS}: it is restored "
                                       "(the foundation's rules cannot be removed; ask the platform team)")
    for kind in ("allow", "ask", "deny"):
        carry.set(f"extra_{kind}", extra[kind])


def _sandbox_hosts(settings: dict[str, Any]) -> list[Any]:
    return list((((settings.get("sandbox") or {}).get("network") or {}).get("allowedDomains")) or [])


def carry_sandbox_hosts(current: dict[str, Any], rendered: dict[str, Any], carry: Carry) -> dict[str, Any]:
    """Hosts added to the sandbox by hand go to extra_network_hosts, removed ones leave it; returns the current
    settings with the rendered hosts, so the rest of the sandbox is compared (and restored) on its own."""
    ours = list(carry.answers.get("extra_network_hosts") or [])
    added = _added(_sandbox_hosts(current), _sandbox_hosts(rendered))
    removed = _added(_sandbox_hosts(rendered), _sandbox_hosts(current))
    for host in added:
        if host not in ours:
            ours.append(host)
        carry.note("carried", f"your sandbox host {host} in {SETTINGS} is carried into the answer extra_network_hosts")
    for host in removed:
        if host in ours:
            ours.remove(host)
            carry.note("carried", f"your sandbox host {host} was removed from {SETTINGS}: removed from the answer extra_network_hosts too")
        else:
            carry.note("restored", f"the foundation's sandbox host {host} was removed from {SETTINGS}: it is restored")
    if added or removed:
        carry.set("extra_network_hosts", ours)
    if not isinstance(current.get("sandbox"), dict) or not isinstance(rendered.get("sandbox"), dict):
        return current
    network = {**(current["sandbox"].get("network") or {}), "allowedDomains": _sandbox_hosts(rendered)}
    return {**current, "sandbox": {**current["sandbox"], "network": network}}


def carry_hooks(current: dict[str, Any], rendered: dict[str, Any], extra: dict[str, Any], carry: Carry) -> None:
    team_hooks = {event: list(entries) for event, entries in (extra.get("hooks") or {}).items()}
    cur, ren = current.get("hooks") or {}, rendered.get("hooks") or {}
    for event in sorted(set(cur) | set(ren)):
        for entry in _added(cur.get(event) or [], ren.get(event) or []):
            team_hooks.setdefault(event, []).append(entry)
            carry.note("carried", f"your {event} hook {json.dumps(entry)} in {SETTINGS} is carried into the answer extra_settings")
        for entry in _added(ren.get(event) or [], cur.get(event) or []):
            if entry in team_hooks.get(event, []):
                team_hooks[event].remove(entry)
                carry.note("carried", f"your {event} hook was removed from {SETTINGS}: removed from the answer extra_settings too")
            else:
                carry.note("restored", f"the foundation's {event} hook was removed from {SETTINGS}: it is restored")
    team_hooks = {event: entries for event, entries in team_hooks.items() if entries}
    if team_hooks:
        extra["hooks"] = team_hooks
    else:
        extra.pop("hooks", None)


def carry_mapping(name: str, current: dict[str, Any], rendered: dict[str, Any], owned: set[str],
                  extra: dict[str, Any], carry: Carry) -> None:
    """Keys of one settings mapping (`name` is "" for the top level): the foundation's come back, every other
    key is the team's and goes to extra_settings, whatever it is (no list of known keys to go stale)."""
    team = dict(extra.get(name) or {}) if name else extra
    where = f"{name}." if name else ""
    for key in sorted(set(current) | set(rendered)):
        if current.get(key) == rendered.get(key):
            continue
        if key in owned:
            carry.note("restored", f"the foundation's setting {where}{key} was changed in {SETTINGS}: it is restored "
                                   f"to {json.dumps(rendered.get(key))}")
        elif key in current:
            team[key] = current[key]
            carry.note("carried", f"your setting {where}{key} in {SETTINGS} is carried into the answer extra_settings")
        else:
            team.pop(key, None)
            carry.note("carried", f"your setting {where}{key} was removed from {SETTINGS}: removed from the answer extra_settings too")
    if name and team:
        extra[name] = team
    elif name:
        extra.pop(name, None)


def carry_settings(current: dict[str, Any], rendered: dict[str, Any], owned: dict[str, set[str]], carry: Carry) -> None:
    carry_rules(current, rendered, carry)
    current = carry_sandbox_hosts(current, rendered, carry)
    extra = json.loads(json.dumps(carry.answers.get("extra_settings") or {}))
    carry_hooks(current, rendered, extra, carry)
    for name, owned_keys in (("permissions", owned["permissions"]), ("env", owned["env"])):
        carry_mapping(name, current.get(name) or {}, rendered.get(name) or {}, owned_keys, extra, carry)
    shared = {"permissions", "env", "hooks"}
    top_current = {k: v for k, v in current.items() if k not in shared}
    top_rendered = {k: v for k, v in rendered.items() if k not in shared}
    carry_mapping("", top_current, top_rendered, owned["keys"], extra, carry)
    carry.set("extra_settings", extra)


# ---------------------------------------------------------------- .mcp.json


def carry_mcp(current: dict[str, Any], rendered: dict[str, Any], vetted: set[str], carry: Carry) -> None:
    cur, ren = current.get("mcpServers") or {}, rendered.get("mcpServers") or {}
    chosen = list(carry.answers.get("mcp_servers") or [])
    extra = dict(carry.answers.get("extra_mcp_servers") or {})
    for name in cur:
        if name in ren and cur[name] == ren[name]:
            continue
        if name in vetted and name not in ren:
            chosen.append(name)
            carry.note("carried", f"the vetted MCP server {name} in {MCP} is carried into the answer mcp_servers")
        elif name in vetted:
            carry.note("restored", f"the configuration of the vetted MCP server {name} was changed in {MCP}: it is restored")
        else:
            extra[name] = cur[name]
            carry.note("carried", f"your MCP server {name} in {MCP} is carried into the answer extra_mcp_servers; it is "
                                  "not vetted, so the posture check and the fleet report flag it (ask the platform team to vet it)")
    for name in ren:
        if name not in cur:
            if name in chosen:
                chosen.remove(name)
            extra.pop(name, None)
            carry.note("carried", f"the MCP server {name} was removed from {MCP}: removed from your answers too")
    carry.set("mcp_servers", chosen)
    carry.set("extra_mcp_servers", extra)


# ---------------------------------------------------------------- the foundation's last render


def old_render(template_root: Path, commit: str, answers: dict[str, Any], version: str) -> dict[str, bytes]:
    """Every foundation file as the template at `commit` renders it from `answers`: the base a hand edit is
    measured against when the rendered file is no longer in the team's git history."""
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=template_root, capture_output=True, timeout=120)
    if archive.returncode != 0:
        return {}
    with tempfile.TemporaryDirectory(prefix="agent-foundation-old-render-") as tmp:
        with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        script = (
            "import json, sys\n"
            "from pathlib import Path\n"
            "root = Path(sys.argv[1]); sys.path.insert(0, str(root / 'src'))\n"
            "from agent_foundation.foundation import load_foundation\n"
            "from agent_foundation import render\n"
            "data = load_foundation(root / 'foundation')\n"
            "answers, version = json.loads(sys.argv[2]), sys.argv[3]\n"
            "files = {p: c.encode() for p, c in render.generated_files(data, answers, version).items()}\n"
            "files.update(render.verbatim_files(root / 'template'))\n"
            "files.update(render.skill_files(data, answers.get('skills') or []))\n"
            "json.dump({p: c.decode('utf-8', 'surrogateescape') for p, c in files.items()}, sys.stdout)\n"
        )
        run = subprocess.run([sys.executable, "-c", script, tmp, json.dumps(answers), version],
                             capture_output=True, timeout=120, text=True)
    if run.returncode != 0:
        return {}
    return {path: text.encode("utf-8", "surrogateescape") for path, text in json.loads(run.stdout).items()}


class LastRender:
    """The content the foundation rendered last time for a file: from git history by its manifest hash, or,
    when history no longer has it, re-rendered from the old template version."""

    def __init__(self, repo: Path, manifest: dict[str, Any], history: Any, template_root: Path, old_commit: str):
        self.repo, self.manifest, self.history = repo, manifest, history
        self.template_root, self.old_commit = template_root, old_commit
        self._rendered: dict[str, bytes] | None = None

    def digest(self, path: str) -> str | None:
        return (self.manifest.get("files") or {}).get(path)

    def edited(self, path: str) -> bool:
        digest, file = self.digest(path), self.repo / path
        return bool(digest) and file.is_file() and self.history.sha256(file.read_bytes()) != digest

    def content(self, path: str) -> bytes | None:
        digest = self.digest(path)
        if not digest:
            return None
        found = self.history.rendered_content(self.repo, path, digest)
        if found is not None:
            return found
        if self._rendered is None:
            answers = self.manifest.get("answers") or {}
            self._rendered = old_render(self.template_root, self.old_commit, answers,
                                        str(self.manifest.get("template_version") or ""))
        candidate = self._rendered.get(path)
        return candidate if candidate is not None and self.history.sha256(candidate) == digest else None


def last_render(last: LastRender, path: str, answers: str) -> bytes:
    """The foundation's last render of a file the team edited: what goes back in place once the edit is carried."""
    rendered = last.content(path)
    if rendered is None:
        raise CarryRefused(
            f"{path} was edited by hand, and the foundation's last render of it can be found neither in git "
            "history nor by rendering the old template version again",
            f"move your additions into the answers ({answers}) with `python3 .claude/foundation/update.py --data ...`, "
            f"restore {path} with `copier recopy --trust --defaults`, commit, and update again",
        )
    return rendered


def carry_json_edits(repo: Path, last: LastRender, owned: dict[str, set[str]], vetted: set[str], carry: Carry) -> None:
    """Move hand edits of the foundation's JSON into the answers; the last render goes back in place (pending,
    written by the caller once nothing can refuse the update)."""
    for path in (SETTINGS, MCP):
        if not last.edited(path):
            continue
        rendered = last_render(last, path, "extra_allow, extra_ask, extra_deny, extra_settings, extra_mcp_servers")
        try:
            current = json.loads((repo / path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            current = None
        if not isinstance(current, dict):
            carry.note("restored", f"{path} did not parse as JSON (the client would have ignored every rule in it): "
                                   "the foundation's version is restored; your edits of it could not be read")
        elif path == SETTINGS:
            carry_settings(current, json.loads(rendered), owned, carry)
        else:
            carry_mcp(current, json.loads(rendered), vetted, carry)
        carry.pending[path] = rendered
        carry.restored.append(path)


def carry_agent_edits(repo: Path, last: LastRender, files: dict[str, Any], vetted: set[str], carry: Carry) -> None:
    """Hand edits of the other agents' files the foundation renders (agents/team.py: Codex's config and hooks,
    Copilot's settings, the editor's and Cursor's MCP servers, Cursor's permissions and hooks), as for
    settings.json: the team's part goes into the answers, the last render goes back in place (pending)."""
    from agent_foundation.agents import team

    for path, spec in files.items():
        if not last.edited(path):
            continue
        rendered = last_render(last, path, f"{spec.answer}, extra_mcp_servers")
        try:
            current = team.parse(spec, (repo / path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            carry.note("restored", f"{path} did not parse ({error}; the agent would have ignored it): the foundation's "
                                   "version is restored; your edits of it could not be read")
        else:
            base = team.parse(spec, rendered.decode("utf-8"))
            for answer, value in team.carry_file(spec, current, base, carry.answers, vetted, carry.note).items():
                carry.set(answer, value)
        carry.pending[path] = rendered
        carry.restored.append(path)


# ---------------------------------------------------------------- answers the team edited or the registry dropped


def hand_edited_answers(answers: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    """Answers whose recorded value differs from the one manifest.json says the foundation last rendered from:
    a hand edit of .copier-answers.yml (Copier would diff the team's files against a render that never
    happened, and report conflicts in files the team never touched)."""
    rendered = manifest.get("answers")
    if not isinstance(rendered, dict):
        return []
    return [key for key in sorted(rendered) if _normal(answers.get(key)) != _normal(rendered.get(key))]


def _normal(value: Any) -> Any:
    return None if value in (None, "", [], {}) else json.loads(json.dumps(value, sort_keys=True))


def refuse_hand_edited_answers(repo: Path, edited: list[str], answers: dict[str, Any], rendered: dict[str, Any],
                               last_render_commit: str) -> None:
    changes = "; ".join(f"{key}: {json.dumps(rendered.get(key))} -> {json.dumps(answers.get(key))}" for key in edited)
    data = " ".join(f"--data '{key}={json.dumps(answers.get(key))}'" for key in edited)
    undo = f"git checkout {last_render_commit} -- {ANSWERS} && git commit -m 'undo the hand edit of {ANSWERS}'" \
        if last_render_commit else f"restore {ANSWERS} as the last update wrote it and commit"
    raise CarryRefused(
        f"{ANSWERS} was edited by hand ({changes}); Copier would compare your repository with a render that never "
        "happened and report conflicts in files you never touched",
        f"give answers on the command line instead: {undo}, then run `python3 .claude/foundation/update.py {data}`",
    )


def drop_unknown_choices(registry: dict[str, set[str]], retired: dict[str, set[str]], carry: Carry) -> list[str]:
    """Skills and servers the team chose that the new registry no longer has: dropped from the answers, each
    named (Copier would otherwise reset the whole answer to the defaults, silently). Returns the skills."""
    dropped_skills = []
    for answer, noun in (("skills", "skill"), ("mcp_servers", "MCP server")):
        chosen = list(carry.answers.get(answer) or [])
        for name in [name for name in chosen if name not in registry[answer]]:
            chosen.remove(name)
            why = "is retired by this release" if name in retired[answer] else "was removed from the registry"
            carry.note("removed", f"the {noun} {name} {why}: it is removed from your answer {answer}"
                                  + ("" if answer == "skills" else " and from .mcp.json (ask the platform team what replaces it)"))
            if answer == "skills":
                dropped_skills.append(name)
        carry.set(answer, chosen)
    return dropped_skills


def deleted_skill_folders(repo: Path, manifest: dict[str, Any], skills: list[str]) -> list[str]:
    """Registry skills still in the answers whose folder the team deleted."""
    files = manifest.get("files") or {}
    return [name for name in skills
            if any(path.startswith(f"{SKILLS_DIR}/{name}/") for path in files) and not (repo / SKILLS_DIR / name).exists()]


def decline_hint(skills: list[str], deleted: list[str]) -> str:
    keep = [name for name in skills if name not in deleted]
    return (f"you deleted the folder of the registry skill {', '.join(deleted)} under {SKILLS_DIR}/, but it is still in "
            f"your answer skills, so the posture check reports it missing. To decline it: "
            f"`python3 .claude/foundation/update.py --data 'skills={json.dumps(keep)}'`; to get it back: "
            f"`git checkout -- {SKILLS_DIR}/{deleted[0]}`")
