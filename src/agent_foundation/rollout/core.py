"""Roll one release out to many team repositories: clone, branch, the team-side update, commit, push.

The update itself is the repository's own `.claude/foundation/update.py` (the code a team runs by hand), run
as a subprocess in the clone: it refuses a dirty tree, carries hand edits of foundation JSON into answers,
detects conflicts, broken JSON and a failing posture check, and restores the tree exactly on any failure.
This module adds what a fleet needs around it: where each repository comes from, a branch per release,
the commit, the push, resuming a run, and one row per repository that never stops the others.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from .. import versions
from ..fleet import sources
from ..render import sha256
from . import claims, fastpath
from .report import SCHEMA, SCHEMA_VERSION, LiveReport

ANSWERS = ".copier-answers.yml"
MANIFEST = ".claude/foundation/manifest.json"
UPDATE_PY = ".claude/foundation/update.py"
COPIER_CACHE_ENV = "COPIER_CACHE_DIR"  # where Copier keeps its mirrors of remote templates
# Agent-time code the update runs (update.py imports history.py, and runs the posture check in-process): it runs
# here with the credentials that push to every team, so it must be the foundation's own, byte for byte.
AGENT_CODE = (UPDATE_PY, ".claude/foundation/history.py", ".claude/foundation/versions.py", ".claude/foundation/check.py")
GIT_TIMEOUT_SECONDS = 300
IDENTITY = ("-c", "user.name=agent-foundation rollout", "-c", "user.email=agent-foundation@localhost")
_SRC_PATH_LINE = re.compile(r"(?m)^_src_path:.*$")
_COPIER_URL = re.compile(r"^(?:gh|gl):", re.I)


class RepoFailed(Exception):
    """This repository stops here; the message is the report's reason."""


@dataclasses.dataclass
class Options:
    version: str
    workdir: Path
    push: bool = False
    branch_prefix: str = "foundation/"
    template: str | None = None
    timeout: int = 900
    fallback_update_py: Path | None = None  # the rollout's own copy, for repositories rendered before update.py shipped
    reference: Path | None = None  # a template checkout with the release tags: what the agent-time code must match
    fast: bool = True  # take the fast path where no team edit can conflict (see fastpath.py)

    @property
    def branch(self) -> str:
        return f"{self.branch_prefix}{self.version}"


def default_workdir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "agent-foundation" / "rollout"


# ---------------------------------------------------------------- git


def _env() -> dict[str, str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "SSH_ASKPASS": "true", "GCM_INTERACTIVE": "never"}
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o ConnectTimeout=20")
    # copier (the update's engine) must resolve: the one installed beside this Python comes first
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    # The work clones are throwaway: no background maintenance after each of Copier's many commits
    count = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
    for index, (key, value) in enumerate((("maintenance.auto", "false"), ("gc.auto", "0")), start=count):
        env[f"GIT_CONFIG_KEY_{index}"], env[f"GIT_CONFIG_VALUE_{index}"] = key, value
    env["GIT_CONFIG_COUNT"] = str(count + 2)
    return env


def git(repo: Path | None, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=GIT_TIMEOUT_SECONDS,
                                env=_env(), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as error:
        raise RepoFailed(f"git {args[0]} took longer than {GIT_TIMEOUT_SECONDS} s") from error
    if check and result.returncode != 0:
        raise RepoFailed(f"git {' '.join(args[:2])} failed: {_tail(result)}")
    return result


def _tail(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (result.stderr or result.stdout or "").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("fatal:", "error:", "remote: error:", "! "))]
    return (errors or lines or [f"exit {result.returncode}"])[0 if errors else -1]


def remote_of(ref: sources.RepoRef) -> str:
    """Where a source is cloned from and pushed to: a URL, a bare repository, or a working copy's origin."""
    if ref.url:
        return ref.url
    assert ref.path is not None
    path = ref.path.resolve()
    if sources.is_bare_repo(path):
        return str(path)
    if not (path / ".git").exists():
        raise RepoFailed(f"not a git repository: {ref.label} has no .git, so there is nothing to clone, branch or push")
    origin = git(path, "remote", "get-url", "origin", check=False)
    url = origin.stdout.strip()
    if origin.returncode != 0 or not url:
        return str(path)  # no remote: the working copy itself receives the branch (never its checked-out branch)
    if sources.is_url(url) or Path(url).is_absolute():
        return url
    return str((path / url).resolve())  # a relative remote path, as git resolves it


# ---------------------------------------------------------------- the updates a run starts

_children: dict[subprocess.Popen[str], Path] = {}  # each running update, and the clone it works in
_children_lock = threading.Lock()


def run_child(command: list[str], *, cwd: Path, timeout: float, env: dict[str, str],
              on_start: Callable[[int], None] | None = None) -> subprocess.CompletedProcess[str]:
    """A long child (an update and the Copier it runs) in its own process group: a timeout or a stopped run
    ends the whole group, and the Copier group update.py started, not just its first process. `on_start`
    gets the group's id as soon as it exists (the claim records it, for a run that is killed)."""
    child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                             text=True, env=env, start_new_session=True)
    with _children_lock:
        _children[child] = cwd
    try:
        if on_start is not None:
            on_start(child.pid)
        stdout, stderr = child.communicate(timeout=timeout)
    except BaseException as error:
        _end_group(child, cwd)
        if isinstance(error, subprocess.TimeoutExpired):
            error.stdout, error.stderr = child.communicate()
        raise
    finally:
        with _children_lock:
            _children.pop(child, None)
    return subprocess.CompletedProcess(command, child.returncode, stdout, stderr)


def _end_group(child: subprocess.Popen[str], cwd: Path) -> None:
    claims.end_work(cwd, [child.pid])


def end_children() -> None:
    with _children_lock:
        for child, cwd in list(_children.items()):
            _end_group(child, cwd)


# ---------------------------------------------------------------- one repository


def new_row(source: str, index: int) -> dict[str, Any]:
    return {"index": index, "source": source, "remote": None, "team": None, "clone": None, "base": None,
            "from_version": None, "to_version": None, "status": "failed", "path": None, "path_reason": None,
            "branch": None, "commit": None, "pushed": False, "conflicts": [], "reason": None, "resolve": None,
            "changelog": None, "warnings": [], "log": None, "seconds": 0.0}


def claim_file(clone: Path) -> Path:
    return clone.with_name(clone.name + ".lock")


def roll_one(opts: Options, ref: sources.RepoRef, copier_cache: Path, index: int = 0,
             fast: fastpath.FastPath | None = None) -> dict[str, Any]:
    """One repository's rollout. `copier_cache` is the Copier cache this job may use alone (see rollout())."""
    row = new_row(ref.label, index)
    started = time.monotonic()
    try:
        if ref.error or (ref.path is None and ref.url is None):
            raise RepoFailed(ref.error or "nothing to clone")
        row["remote"] = remote_of(ref)
        clone = sources.cache_dir_for(row["remote"], opts.workdir)
        row["clone"] = str(clone)
        try:
            with claims.claim(claim_file(clone)) as killed_before:
                if killed_before:
                    started_here = [pgid for pgid, where in killed_before.children if where == clone]
                    cleared = claims.clear_debris(clone, _env(), GIT_TIMEOUT_SECONDS, started_here)
                    row["warnings"].append("recovered the work clone from a run that was killed while working in it"
                                           + (f": cleared {'; '.join(cleared)}" if cleared else ""))
                _roll(opts, row, clone, copier_cache, fast)
        except claims.Busy as error:
            raise RepoFailed(f"the work clone {clone} is in use: {error}") from error
    except RepoFailed as error:
        row["status"], row["reason"] = "failed", str(error)
    except Exception as error:  # noqa: BLE001 - one repository never stops the others
        row["status"], row["reason"] = "failed", f"unexpected {type(error).__name__}: {error}"
    row["seconds"] = round(time.monotonic() - started, 2)
    return row


def _clone(opts: Options, row: dict[str, Any], clone: Path) -> Path:
    remote = row["remote"]
    if (clone / ".git").is_dir():
        # a clone never checked out (its repository was current or corrupt) has no index: nothing to lose
        dirty = (clone / ".git" / "index").exists() and git(clone, "status", "--porcelain").stdout.strip()
        if dirty:
            raise RepoFailed(f"the work clone {clone} has uncommitted changes (someone resolving a conflict there?): "
                             "commit them on the branch, or delete the clone, and run rollout again")
        if git(clone, "remote", "get-url", "origin").stdout.strip() != remote:
            raise RepoFailed(f"the work clone {clone} belongs to another remote; delete it and run rollout again")
        fetched = git(clone, "fetch", "--quiet", "--prune", "--no-tags", "origin", check=False)
        if fetched.returncode != 0:
            raise RepoFailed(f"cannot fetch {remote}: {_tail(fetched)}")
        git(clone, "remote", "set-head", "origin", "--auto", check=False)
        return clone
    opts.workdir.mkdir(parents=True, exist_ok=True)
    partial = clone.with_name(clone.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    extra = ["--filter=blob:none"] if sources.is_url(remote) and not remote.startswith("file://") else []
    cloned = git(None, "clone", "--quiet", "--no-tags", "--no-checkout", *extra, remote, str(partial), check=False)
    if cloned.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise RepoFailed(f"cannot clone {remote}: {_tail(cloned)}")
    partial.rename(clone)
    return clone


def _base(clone: Path) -> str:
    head = git(clone, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD", check=False).stdout.strip()
    if head and git(clone, "rev-parse", "--verify", "--quiet", head, check=False).returncode == 0:
        return head.removeprefix("refs/remotes/")
    branches = [b.strip() for b in git(clone, "for-each-ref", "--format=%(refname:short)", "refs/remotes/origin/").stdout.split()]
    branches = [b for b in branches if b != "origin/HEAD" and b != "origin"]
    for name in ("origin/main", "origin/master"):
        if name in branches:
            return name
    if len(branches) == 1:
        return branches[0]
    raise RepoFailed("the remote has no default branch to start from" if not branches else
                     f"cannot tell the remote's default branch among {', '.join(branches[:5])}; set its HEAD")


def _show(clone: Path, rev: str, path: str) -> str | None:
    result = git(clone, "show", f"{rev}:{path}", check=False)
    return result.stdout if result.returncode == 0 else None


def read_state(clone: Path, rev: str) -> dict[str, Any]:
    """The foundation facts of a commit: version, team, template source. Raises RepoFailed when corrupt."""
    answers_text, manifest_text = _show(clone, rev, ANSWERS), _show(clone, rev, MANIFEST)
    if answers_text is None and manifest_text is None:
        raise RepoFailed(f"not a foundation repository: neither {ANSWERS} nor {MANIFEST} is on {rev} "
                         "(render the foundation into it with copier copy, or leave it out of the rollout)")
    if answers_text is None:
        raise RepoFailed(f"{ANSWERS} is missing, so Copier cannot update it (restore it from git history)")
    try:
        answers = yaml.safe_load(answers_text)
        if not isinstance(answers, dict):
            raise ValueError("it is not a mapping of answers")
    except (ValueError, yaml.YAMLError) as error:
        raise RepoFailed(f"{ANSWERS} is unreadable ({str(error).splitlines()[0]}); fix it by hand") from error
    manifest: dict[str, Any] = {}
    if manifest_text is not None:
        try:
            manifest = json.loads(manifest_text)
            if not isinstance(manifest, dict):
                raise ValueError("it is not a JSON object")
        except ValueError as error:
            raise RepoFailed(f"{MANIFEST} is unreadable ({str(error).splitlines()[0]}); restore it with "
                             "`copier recopy --trust --defaults` and commit") from error
    version = str(manifest.get("template_version") or answers.get("_commit") or "") or None
    if not answers.get("_src_path"):
        raise RepoFailed(f"{ANSWERS} has no _src_path: Copier cannot tell which template to update from")
    team = manifest.get("team") if isinstance(manifest.get("team"), dict) else {}
    return {"version": version, "team": team.get("slug") or answers.get("team_slug"),
            "src_path": str(answers["_src_path"]), "answers_text": answers_text}


def _reachable(src: str) -> bool:
    return sources.is_url(src) or bool(_COPIER_URL.match(src)) or Path(src).expanduser().exists()


def _at_or_after(current: str | None, target: str) -> bool:
    """Whether the repository already has release `target` (any spelling; a render past it counts; an
    unreleased render, from a commit no tag reaches, is behind every release)."""
    return versions.at_least(current, target)


def _roll(opts: Options, row: dict[str, Any], clone: Path, copier_cache: Path, fast: fastpath.FastPath | None) -> None:
    _clone(opts, row, clone)
    base = _base(clone)
    row["base"] = base.removeprefix("origin/")
    state = read_state(clone, base)
    row["team"], row["from_version"] = state["team"], state["version"]
    if _at_or_after(state["version"], opts.version):
        row["status"], row["to_version"] = "current", state["version"]
        return
    branch = opts.branch
    row["branch"] = branch
    pushed = git(clone, "rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}", check=False)
    if pushed.returncode == 0:
        row["status"], row["pushed"], row["commit"] = "branch-pushed", True, pushed.stdout.strip()
        try:
            row["to_version"] = read_state(clone, row["commit"])["version"]
        except RepoFailed:
            pass
        return
    base_sha = git(clone, "rev-parse", base).stdout.strip()
    known = _remembered(clone, opts.version)
    if known and known.get("base") == base_sha:
        row.update(status="conflict", conflicts=known["conflicts"], reason=known["reason"], resolve=known["resolve"])
        row["warnings"].append("not retried: the default branch has not moved since the last run found this conflict")
        return
    if not _reuse_earlier_commit(opts, clone, branch, base_sha, row):
        _update(opts, clone, base, base_sha, state, row, copier_cache, fast)
    if row["status"] == "updated" and opts.push:
        pushed = git(clone, "push", "--quiet", "--set-upstream", "origin", f"refs/heads/{branch}:refs/heads/{branch}", check=False)
        if pushed.returncode != 0:
            row["status"] = "failed"
            row["reason"] = f"committed on {branch} in {clone}, but the push was refused: {_tail(pushed)}"
            return
        row["pushed"] = True


def _reuse_earlier_commit(opts: Options, clone: Path, branch: str, base_sha: str, row: dict[str, Any]) -> bool:
    """An earlier run (without --push, or whose push failed) committed this release already: keep that commit."""
    tip = git(clone, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False).stdout.strip()
    if not tip or tip == base_sha:
        return False
    parent = git(clone, "rev-parse", "--verify", "--quiet", f"{tip}^", check=False).stdout.strip()
    if parent != base_sha:
        return False  # the default branch moved on since: update again from its new tip
    try:
        version = read_state(clone, tip)["version"]
    except RepoFailed:
        return False
    if not _at_or_after(version, opts.version):
        return False
    git(clone, "checkout", "--quiet", "--force", branch)
    message = git(clone, "log", "-1", "--format=%B", tip).stdout
    row.update(status="updated", commit=tip, to_version=version, changelog=_changelog_from_message(message) or None)
    row["warnings"].append(f"kept the commit an earlier run made on {branch}")
    return True


def _update(opts: Options, clone: Path, base: str, base_sha: str, state: dict[str, Any], row: dict[str, Any],
            copier_cache: Path, fast: fastpath.FastPath | None = None) -> None:
    branch, version = opts.branch, opts.version
    _start_branch(clone, branch, base_sha)
    if fast is not None:
        try:
            _fast_update(opts, fast, clone, base_sha, state, row)
            return
        except fastpath.Declined as declined:
            row["path_reason"] = str(declined)
        except Exception as error:  # noqa: BLE001 - the full path is always there to fall back on
            row["path_reason"] = f"the fast path failed ({type(error).__name__}: {error})"
        _start_branch(clone, branch, base_sha)
    else:
        row["path_reason"] = "the fast path is off (--no-fast-path)"
    row["path"] = "full"
    update_py = clone / UPDATE_PY
    if not update_py.is_file():
        if opts.fallback_update_py is None or not opts.fallback_update_py.is_file():
            raise RepoFailed(f"{UPDATE_PY} is missing (rendered before it shipped): update this repository once by hand "
                             f"with `copier update --trust --defaults --vcs-ref {version}`")
        update_py = opts.fallback_update_py
        row["warnings"].append(f"{UPDATE_PY} is missing; used the rollout's own copy from {update_py}")
    verify_agent_code(opts, clone, base_sha, state, row)
    if opts.template is None and not _reachable(state["src_path"]):
        raise RepoFailed(f"the template source recorded in {ANSWERS} (_src_path: {state['src_path']}) is not reachable "
                         "from this machine; pass --template with a path or URL of the template that has the release tag")
    override = opts.template is not None and opts.template != state["src_path"]
    if override:
        _point_answers_at(clone, state["answers_text"], opts.template)

    log = opts.workdir / "logs" / f"{clone.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    row["log"] = str(log)
    structured = speaks_json(update_py)
    command = [sys.executable, str(update_py), "--vcs-ref", version, *(["--json"] if structured else [])]
    env = {**_env(), COPIER_CACHE_ENV: str(copier_cache)}
    try:
        result = run_child(command, cwd=clone, timeout=opts.timeout, env=env,
                           on_start=lambda pgid: _record_update(clone, copier_cache, pgid))
    except subprocess.TimeoutExpired as error:
        _restore(clone, base_sha)
        log.write_text(f"$ {' '.join(command)}\n{error.stdout or ''}\n{error.stderr or ''}", encoding="utf-8")
        raise RepoFailed(f"the update took longer than {opts.timeout} s (--timeout); the branch was reset") from error
    log.write_text(f"$ {' '.join(command)}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}", encoding="utf-8")
    outcome = json_result(result.stdout) if structured else None
    if result.returncode != 0:
        _restore(clone, base_sha)
        _explain_failure(opts, clone, base_sha, result, row, override, outcome)
        return

    if override:
        git(clone, "reset", "--quiet", base_sha)  # drop the temporary commit, keep the update in the work tree
        answers = clone / ANSWERS
        answers.write_text(_SRC_PATH_LINE.sub(lambda _: _src_line(state["answers_text"]), answers.read_text(encoding="utf-8"), count=1),
                           encoding="utf-8")
    row["to_version"] = version_in_worktree(clone)
    if outcome is not None:
        changelog, warnings = str(outcome.get("changelog") or ""), [str(n.get("text")) for n in outcome.get("notes") or []]
    else:
        changelog, warnings = parse_success(result.stdout)
    _commit_release(opts, clone, base_sha, state, row, changelog, warnings, FULL_PATH_NOTE)


def _record_update(clone: Path, copier_cache: Path, pgid: int) -> None:
    """Both claims the update works under (its clone's, its Copier cache's) name it, for a run that is killed."""
    for claimed in (clone, copier_cache):
        claims.record_child(claim_file(claimed), pgid, clone)


FULL_PATH_NOTE = "Rolled out by `agent-foundation rollout` with this repository's own .claude/foundation/update.py."
FAST_PATH_NOTE = ("Rolled out by `agent-foundation rollout`: no foundation file carried a team edit, so the release was "
                  "rendered directly (the result `copier update` gives) and checked by the release's own update.py checks.")


def _start_branch(clone: Path, branch: str, base_sha: str) -> None:
    """The release branch at the default branch's tip, the tree exactly that commit (a forced checkout resets
    index and tracked files; clean removes the rest)."""
    git(clone, "checkout", "--quiet", "--force", "-B", branch, base_sha)
    git(clone, "clean", "--quiet", "-fdx")


def _fast_update(opts: Options, fast: fastpath.FastPath, clone: Path, base_sha: str, state: dict[str, Any],
                 row: dict[str, Any]) -> None:
    """The release rendered directly (fastpath.py); Declined when a team edit or anything unusual is in the way."""
    manifest_text = _show(clone, base_sha, MANIFEST) or ""
    try:
        manifest = json.loads(manifest_text)
    except ValueError as error:
        raise fastpath.Declined(f"{MANIFEST} does not parse") from error
    old_files = fastpath.check_unedited(clone, state["answers_text"], manifest)
    src = opts.template or state["src_path"]
    if sources.is_url(src) or _COPIER_URL.match(src) or not Path(src).is_dir():
        raise fastpath.Declined(f"the template {src} is not a folder on this machine (the fast path renders from a local "
                                "template repository; pass --template with one)")
    answers_commit = (yaml.safe_load(state["answers_text"]) or {}).get("_commit")
    version_from = str(answers_commit or state["version"] or "")
    render = fast.render(src, opts.version, state["answers_text"], manifest_text, version_from, clone, old_files)
    src_line = _src_line(state["answers_text"]) if opts.template and opts.template != state["src_path"] else None
    try:
        result = fast.apply(render, clone, base_sha, old_files, state["version"] or "", src_line)
    except BaseException:
        _restore(clone, base_sha)
        raise
    row["path"], row["path_reason"] = "fast", None
    row["to_version"] = result["to_version"]
    _commit_release(opts, clone, base_sha, state, row, result["changelog"], result["warnings"], FAST_PATH_NOTE)


def _commit_release(opts: Options, clone: Path, base_sha: str, state: dict[str, Any], row: dict[str, Any],
                    changelog: str, warnings: list[str], note: str) -> None:
    row["changelog"], row["warnings"] = changelog, row["warnings"] + warnings
    git(clone, "add", "--all")
    if not git(clone, "status", "--porcelain").stdout.strip():
        raise RepoFailed(f"update.py succeeded but changed nothing, yet the repository says {state['version']}")
    message = commit_message(opts.version, state["version"], changelog, warnings, note)
    identity = IDENTITY if not git(clone, "config", "user.email", check=False).stdout.strip() else ()
    committed = subprocess.run(["git", *identity, "commit", "--quiet", "--no-verify", "--file", "-"], cwd=clone, input=message,
                               capture_output=True, text=True, timeout=GIT_TIMEOUT_SECONDS, env=_env())
    if committed.returncode != 0:
        _restore(clone, base_sha)
        raise RepoFailed(f"cannot commit the update: {_tail(committed)}")
    row["status"], row["commit"] = "updated", git(clone, "rev-parse", "HEAD").stdout.strip()


def _blob(repo: Path, rev: str, path: str) -> str | None:
    result = git(repo, "rev-parse", "--verify", "--quiet", f"{rev}:{path}", check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def verify_agent_code(opts: Options, clone: Path, base_sha: str, state: dict[str, Any], row: dict[str, Any]) -> None:
    """Refuse to run a team's edited update.py, history.py or check.py with the platform's credentials."""
    version = state["version"] or ""
    tag = versions.tag(version) if versions.is_release(version) else version or versions.UNRELEASED
    reference = opts.reference
    usable = (reference is not None and versions.is_release(version)
              and git(reference, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}", check=False).returncode == 0)
    manifest_files: dict[str, Any] = {}
    if not usable:
        try:
            manifest_files = json.loads(_show(clone, base_sha, MANIFEST) or "{}").get("files") or {}
        except (ValueError, AttributeError):
            manifest_files = {}
        row["warnings"].append(f"the agent-time code was checked against the repository's own manifest only (no template "
                               f"checkout with tag {tag}: pass --root or --template with one)")
    for path in AGENT_CODE:
        mine = _blob(clone, base_sha, path)
        if mine is None:
            continue
        if usable:
            same = _blob(reference, tag, f"template/{path}") == mine  # type: ignore[arg-type]
        else:
            content = subprocess.run(["git", "cat-file", "blob", mine], cwd=clone, capture_output=True,
                                     timeout=GIT_TIMEOUT_SECONDS).stdout
            same = manifest_files.get(path) in (None, sha256(content))
        if not same:
            raise RepoFailed(f"{path} differs from release {tag}'s: rollout runs only the foundation's own code with the "
                             "credentials that push to every team. Restore it (`git checkout` the file from the release, or "
                             f"`copier recopy --trust --defaults`), or let the team update by hand with update.py")


def version_in_worktree(clone: Path) -> str | None:
    try:
        manifest = json.loads((clone / MANIFEST).read_text(encoding="utf-8"))
        return str(manifest.get("template_version") or "") or None
    except (OSError, ValueError, AttributeError):
        return None


def _src_line(answers_text: str) -> str:
    match = _SRC_PATH_LINE.search(answers_text)
    return match.group(0) if match else ""


def _point_answers_at(clone: Path, answers_text: str, template: str) -> None:
    """--template: a temporary commit points _src_path at the override (Copier has no option for it)."""
    if not _SRC_PATH_LINE.search(answers_text):
        raise RepoFailed(f"{ANSWERS} has no top-level _src_path line to point at --template")
    (clone / ANSWERS).write_text(_SRC_PATH_LINE.sub(lambda _: f"_src_path: {json.dumps(template)}", answers_text, count=1),
                                 encoding="utf-8")
    git(clone, "add", "--", ANSWERS)
    git(clone, *IDENTITY, "commit", "--quiet", "--no-verify", "-m", "rollout: template source override (temporary)")


def _memo(clone: Path) -> Path:
    return clone / ".git" / "agent-foundation-rollout.json"


def _remembered(clone: Path, version: str) -> dict[str, Any] | None:
    try:
        entry = json.loads(_memo(clone).read_text(encoding="utf-8")).get(version)
        return entry if isinstance(entry, dict) and {"base", "conflicts", "reason", "resolve"} <= set(entry) else None
    except (OSError, ValueError, AttributeError):
        return None


def _remember(clone: Path, version: str, entry: dict[str, Any]) -> None:
    """A conflict is not retried while the default branch stays where it was (the same update would conflict)."""
    try:
        memo = json.loads(_memo(clone).read_text(encoding="utf-8"))
        memo = memo if isinstance(memo, dict) else {}
    except (OSError, ValueError):
        memo = {}
    memo[version] = entry
    _memo(clone).write_text(json.dumps(memo, indent=2) + "\n", encoding="utf-8")


def _restore(clone: Path, base_sha: str) -> None:
    git(clone, "merge", "--abort", check=False)
    git(clone, "reset", "--quiet", "--hard", base_sha, check=False)
    git(clone, "clean", "--quiet", "-fdx", check=False)


# ---------------------------------------------------------------- reading update.py's output


def speaks_json(update_py: Path) -> bool:
    """Whether this update.py has --json (a repository on an older release has an update.py without it, whose
    messages are read the old way below)."""
    try:
        return '"--json"' in update_py.read_text(encoding="utf-8")
    except OSError:
        return False


def json_result(stdout: str) -> dict[str, Any] | None:
    try:
        result = json.loads(stdout)
    except ValueError:
        return None
    return result if isinstance(result, dict) and "outcome" in result else None


def failure_from_json(result: dict[str, Any]) -> tuple[str, str, list[str]]:
    """(what went wrong, what to do, conflicted files), read from update.py --json's fields."""
    problems = [str(problem) for problem in result.get("problems") or []]
    what = "; ".join(" ".join(problem.split()) for problem in problems) or f"update.py ended with outcome {result.get('outcome')}"
    return what, str(result.get("fix") or ""), [str(path) for path in result.get("conflicts") or []]


_PROBLEM = re.compile(r"^    (.+?): (conflict between your edit and the new foundation|Copier could not apply your change to (.+)|not valid JSON after the update)$")


def parse_failure(stderr: str) -> tuple[str, str, list[str]]:
    """(what went wrong, what to do, conflicted files) from update.py's message on stderr."""
    index = stderr.rfind("\nupdate.py: ")
    if index < 0:
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        return (lines[-1].strip() if lines else "update.py failed without a message"), "", []
    text = stderr[index + len("\nupdate.py: "):]
    what, _, rest = text.partition("\nWhat to do: ")
    todo = rest.split("\nYour repository is exactly as it was before.")[0].strip()
    conflicts = []
    for line in what.splitlines():
        match = _PROBLEM.match(line)
        if match and match.group(2).startswith("conflict"):
            conflicts.append(match.group(1))
        elif match and match.group(3):
            conflicts.append(match.group(3))
    copier_tail = ""
    if what.startswith("copier update failed"):
        before = [line.strip() for line in stderr[:index].splitlines() if line.strip()]
        copier_tail = next((line for line in reversed(before) if re.match(r"^[A-Za-z_.]*(Error|Exception)\b", line)), before[-1] if before else "")
    what = " ".join(part.strip() for part in what.strip().splitlines())
    return (f"{what} [{copier_tail}]" if copier_tail else what), todo, list(dict.fromkeys(conflicts))


def _explain_failure(opts: Options, clone: Path, base_sha: str, result: subprocess.CompletedProcess[str], row: dict[str, Any],
                     override: bool, outcome: dict[str, Any] | None = None) -> None:
    what, todo, conflicts = failure_from_json(outcome) if outcome is not None else parse_failure(result.stderr)
    if conflicts:
        row["status"], row["conflicts"] = "conflict", conflicts
        then = (f"run the resolve command, resolve the conflict markers in {', '.join(conflicts)}, run "
                f"`python3 .claude/foundation/check.py`, then `git add --all && git commit -m 'foundation: take release "
                f"{opts.version}' && git push --set-upstream origin {opts.branch}`")
        if override:
            then += f" (the recorded _src_path must be reachable there: this run used --template {opts.template})"
        row["reason"] = f"the release conflicts with the team's edit of {', '.join(conflicts)}; the branch was not pushed. To finish: {then}"
        row["resolve"] = (f"cd {shlex.quote(str(clone))} && git checkout {shlex.quote(opts.branch)} && "
                          f"copier update --trust --defaults --vcs-ref {shlex.quote(opts.version)}")
        _remember(clone, opts.version, {"base": base_sha, "conflicts": conflicts, "reason": row["reason"], "resolve": row["resolve"]})
    else:
        row["status"], row["reason"] = "failed", what + (f" (what to do: {todo})" if todo else "")


def parse_success(stdout: str) -> tuple[str, list[str]]:
    """(the CHANGELOG entries update.py printed, its warnings)."""
    warnings = [line[len("warning: "):].strip() for line in stdout.splitlines() if line.startswith("warning: ")]
    changelog = ""
    if "\nWhat changed:\n" in stdout:
        changelog = stdout.split("\nWhat changed:\n", 1)[1].split("\nNext: ", 1)[0].strip()
    return changelog, warnings


def commit_message(version: str, old: str | None, changelog: str, warnings: list[str], note: str) -> str:
    lines = [f"foundation: take release {version}" + (f" (from {old})" if old else ""), ""]
    lines += [changelog.strip() if changelog.strip() else f"No CHANGELOG entries between {old or 'an unknown version'} and {version}.", ""]
    if warnings:
        lines += ["Notes from update.py:"] + [f"- {warning}" for warning in warnings] + [""]
    lines += [note, "Review the diff, run your tests, and merge."]
    return "\n".join(lines) + "\n"


def _changelog_from_message(message: str) -> str:
    body = message.split("\n", 2)[2] if message.count("\n") >= 2 else ""
    return body.split("\nNotes from update.py:")[0].split("\nRolled out by")[0].strip()


# ---------------------------------------------------------------- the whole fleet


@dataclasses.dataclass(frozen=True)
class Shard:
    """Shard I of N: the repositories at positions I-1, I-1+N, I-1+2N, ... of the expanded sources."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
        if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
            raise ValueError(f"--shard {text!r} is not I/N with 1 <= I <= N (e.g. --shard 2/8)")
        return cls(int(match.group(1)), int(match.group(2)))

    def takes(self, position: int) -> bool:
        return position % self.count == self.index - 1

    def as_json(self) -> dict[str, int]:
        return {"index": self.index, "count": self.count}

    @property
    def suffix(self) -> str:
        return f".shard-{self.index}-of-{self.count}"


def default_report_path(opts: Options, shard: Shard | None) -> Path:
    return opts.workdir / "reports" / f"{opts.version}{shard.suffix if shard else ''}.json"


@contextlib.contextmanager
def copier_caches(workdir: Path, count: int) -> Iterator[list[Path]]:
    """`count` Copier caches this run uses alone: Copier keeps one mirror per remote template and refreshes it
    on every use, and two updates refreshing one mirror at once fail on git's ref locks. Kept in the work
    folder (later runs refresh them instead of cloning again); a slot another run holds is skipped, one a
    killed run held is started afresh."""
    with contextlib.ExitStack() as stack:
        slots: list[Path] = []
        number = 0
        while len(slots) < count:
            slot = workdir / "copier-cache" / f"job-{number}"
            number += 1
            try:
                killed_before = stack.enter_context(claims.claim(claim_file(slot)))
            except claims.Busy:
                continue
            if killed_before:
                for pgid, clone in killed_before.children:  # a killed run's Copier may still use the cache
                    claims.end_work(clone, [pgid])
                claims.clear_cache_slot(slot)
            slots.append(slot)
        yield slots


@contextlib.contextmanager
def _stopped_cleanly(live: LiveReport) -> Iterator[None]:
    """SIGTERM or Ctrl-C: the report on disk gets every finished row, the running updates end, the run exits.
    The clones they were in are cleared by the next run (see claims)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: Any) -> None:
        live.stopped_by = signal.Signals(signum).name
        live.snapshot()
        end_children()
        print(f"agent-foundation rollout: stopped by {live.stopped_by}; the report of what was done is {live.path}",
              file=sys.stderr, flush=True)
        os._exit(128 + signum)

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def _closing(fast: fastpath.FastPath | None) -> Iterator[None]:
    try:
        yield
    finally:
        if fast is not None:
            fast.close()


def rollout(opts: Options, source_args: list[str], *, jobs: int = 2,
            progress: Callable[[dict[str, Any]], None] | None = None, shard: Shard | None = None,
            report_path: Path | None = None) -> dict[str, Any]:
    """The rollout report (docs/rollout-schema.json), kept on disk at `report_path` as the run goes.
    Rows are in the order of the sources."""
    if not versions.is_release(opts.version):
        raise ValueError(f"VERSION {opts.version!r} is not a release; write it like v0.2.0")
    opts.version = versions.tag(opts.version)  # tags are v-prefixed; branch and --vcs-ref use the tag
    opts.workdir = opts.workdir.expanduser().resolve()
    refs, urls = sources.expand(source_args)
    refs += [sources.RepoRef(url, None, url) for url in urls]
    mine = [(position, ref) for position, ref in enumerate(refs) if shard is None or shard.takes(position)]
    header = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "version": opts.version,
        "branch": opts.branch,
        "push": opts.push,
        "template": opts.template,
        "workdir": str(opts.workdir),
        "shard": shard.as_json() if shard else None,
        "sources": len(refs),
    }
    live = LiveReport(report_path or default_report_path(opts, shard), header)
    workers = max(1, min(jobs, len(mine) or 1))
    fast = fastpath.FastPath(workers, opts.workdir / "renders" / f"run-{os.getpid()}") if opts.fast else None
    with copier_caches(opts.workdir, workers) as slots, _stopped_cleanly(live), _closing(fast):
        free: "queue.SimpleQueue[Path]" = queue.SimpleQueue()
        for slot in slots:
            free.put(slot)

        def one(item: tuple[int, sources.RepoRef]) -> None:
            cache = free.get()
            try:
                row = roll_one(opts, item[1], cache, item[0], fast)
            finally:
                free.put(cache)
            live.add(row)
            if progress:
                progress(row)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(one, mine))
        return live.finish()
