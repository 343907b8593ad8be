"""Take a new foundation release, safely.

    python3 .claude/foundation/update.py [--interactive] [--json] [copier update options...]

Runs `copier update --trust` (with your recorded answers unless --interactive; every other option, such as
--vcs-ref v0.3.0 or --data 'skills=[...]', is passed on to Copier). The template's own migrations do the
update's safety work, so plain `copier update --trust` gives the same result: hand edits of .claude/settings.json,
.mcp.json and the other agents' files are carried into your answers, removed foundation rules and hooks come back, no JSON file ever
holds a conflict marker, and the posture check runs after the update. update.py adds what only a wrapper can:
  - a dirty tree is refused before anything is touched, and one update runs at a time;
  - on any failure, Ctrl-C, SIGTERM or SIGHUP the tree is put back exactly as it was; if it cannot be, it
    says so and gives the command that finishes the job; a run killed outright (SIGKILL) is recovered by the
    next run, which says what it found and where the partial changes went;
  - on success it prints what was carried and the CHANGELOG entries between your old and your new version;
  - --json prints one JSON object instead (outcome, versions, notes, conflicts, problems, fix) for tools.
Review and commit afterwards. Standard library only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import history  # noqa: E402
import versions  # noqa: E402
from history import git  # noqa: E402

ANSWERS = ".copier-answers.yml"
CHANGELOG = Path(".claude/foundation/CHANGELOG.md")
STATE_DIR = "agent-foundation"  # in the git directory, as the template's migrations use it
IN_PROGRESS = "update-in-progress.json"  # the lock, and the marker a killed run leaves for the next one
REPORT = "update-report.json"  # written by the template's migrations
SIGNALS = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]


@dataclass
class Result:
    """What update.py tells a person, or a tool with --json."""

    outcome: str = "failed"  # updated, current, refused, busy, conflict, failed, interrupted, restore-failed
    from_version: str = ""
    to_version: str = ""
    notes: list[dict[str, str]] = field(default_factory=list)  # {kind, text}: carried, restored, kept, removed, ...
    conflicts: list[str] = field(default_factory=list)  # files with a conflict between the team's edit and the release
    problems: list[str] = field(default_factory=list)
    fix: str = ""  # what to do next, one sentence
    restored: bool = True  # whether the repository is exactly as it was before the run (false after an update)
    recovered: str = ""  # what this run found of an earlier, interrupted one
    changelog: str = ""


class UpdateFailed(Exception):
    def __init__(self, what: str, todo: str, outcome: str = "failed", problems: list[str] | None = None,
                 conflicts: list[str] | None = None):
        super().__init__(what)
        self.what, self.todo, self.outcome = what, todo, outcome
        self.problems, self.conflicts = problems or [], conflicts or []


class Interrupted(BaseException):
    """SIGTERM or SIGHUP, handled like Ctrl-C: the tree is put back before the process ends."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_interrupted(signum: int, _frame: Any) -> None:
    raise Interrupted(signum)


# ---------------------------------------------------------------- the lock, and recovering a killed run


def state_dir(repo: Path) -> Path:
    path = git(repo, "rev-parse", "--git-path", STATE_DIR).decode().strip()
    return (repo / path).resolve()


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # an orphan that exited but was never reaped (no init in a container) is not running
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class InProgress:
    """One update at a time; the marker also tells the next run that this one was killed mid-way."""

    def __init__(self, repo: Path):
        self.repo, self.path = repo, state_dir(repo) / IN_PROGRESS

    def read(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}

    def acquire(self, head: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            raise UpdateFailed("another update.py started in this repository at the same moment",
                               "wait for it to finish, then run update.py again", outcome="busy") from None
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"pid": os.getpid(), "head": head, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, out)

    def record(self, **fields: Any) -> None:
        data = {**(self.read() or {}), **fields}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self.path)

    def release(self) -> None:
        self.path.unlink(missing_ok=True)


def recover_interrupted(repo: Path, lock: InProgress) -> str:
    """An earlier run's marker: refuse while it (or its Copier) still runs; otherwise put its partial changes
    aside in a stash (nothing is deleted) and say what happened. Returns what to tell the team."""
    marker = lock.read()
    if marker is None:
        return ""
    for key, who in (("pid", "update.py"), ("copier_pid", "its copier update")):
        if marker.get(key) != os.getpid() and _alive(marker.get(key)):
            raise UpdateFailed(f"another update is running in this repository ({who}, pid {marker[key]}, since "
                               f"{marker.get('started', 'an unknown time')})",
                               "wait for it to finish, then run update.py again", outcome="busy")
    started, head = marker.get("started", "an unknown time"), str(marker.get("head") or "")
    current = git(repo, "rev-parse", "HEAD").decode().strip()
    dirty = git(repo, "status", "--porcelain").decode().strip()
    if head and current != head:
        told = (f"an update started at {started} was interrupted; HEAD has moved since ({head[:12]} -> {current[:12]}), "
                "so nothing of it was undone: check `git log` and `git status`")
    elif dirty:
        git(repo, "add", "--all")
        git(repo, "-c", "user.name=agent-foundation", "-c", "user.email=agent-foundation@localhost",
            "stash", "push", "--quiet", "-m", f"agent-foundation: partial changes of the update interrupted at {started}")
        told = (f"an update started at {started} was interrupted (killed before it could clean up); its partial changes "
                "are set aside in `git stash list` (stash@{0}; look with `git stash show -p`, drop with `git stash drop`), "
                f"and your repository is back at {current[:12]} as you committed it")
    else:
        told = f"an update started at {started} was interrupted before it changed anything; nothing to undo"
    lock.release()
    return told


class signals_held:
    """Ctrl-C, SIGTERM and SIGHUP wait while the tree is being put back (a second one must not stop it half-way)."""

    def __enter__(self) -> None:
        self.saved = {signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, *SIGNALS)}

    def __exit__(self, *_: Any) -> None:
        for signum, handler in self.saved.items():
            signal.signal(signum, handler)


def restore(repo: Path, head: str) -> None:
    """Put the tree back exactly as it was: the tree was clean, so HEAD holds everything tracked."""
    subprocess.run(["git", "merge", "--abort"], cwd=repo, capture_output=True, timeout=60)
    git(repo, "reset", "--quiet", "--hard", head)
    git(repo, "clean", "--quiet", "-fd")


# ---------------------------------------------------------------- Copier


def copier_command() -> list[str]:
    found = shutil.which("copier")
    if found:
        return [found]
    raise UpdateFailed("copier is not installed", "install it once: pipx install copier && pipx inject copier copier-template-extensions")


def answers_yaml_error(repo: Path, copier: list[str]) -> str:
    """The answers file's YAML error as 'file, line N: problem', read with Copier's own interpreter (this file
    has no YAML parser); empty when it parses or that interpreter cannot be found."""
    try:
        first = Path(copier[0]).read_bytes()[:300].split(b"\n", 1)[0].decode()
    except OSError:
        return ""
    interpreter = first[2:].strip() if first.startswith("#!") else ""
    if not interpreter or not Path(interpreter.split()[0]).is_file():
        return ""
    check = ("import sys, yaml\ntry:\n    yaml.safe_load(open(sys.argv[1], 'rb'))\nexcept yaml.YAMLError as e:\n"
             "    m = getattr(e, 'problem_mark', None)\n"
             "    print(f\"line {m.line + 1}: \" if m else '', getattr(e, 'problem', None) or e, sep='')\n")
    run = subprocess.run([*interpreter.split(), "-c", check, str(repo / ANSWERS)], capture_output=True, text=True, timeout=60)
    return f"{ANSWERS}, {run.stdout.strip()}" if run.returncode == 0 and run.stdout.strip() else ""


def run_copier(command: list[str], repo: Path, lock: InProgress, interactive: bool, quiet_stdout: bool) -> tuple[int, str]:
    """(exit code, the tail of Copier's stderr); Copier's output is shown as it comes (on stderr with --json)."""
    process = subprocess.Popen(command, cwd=repo, stdin=None if interactive else subprocess.DEVNULL,
                               stdout=sys.stderr if quiet_stdout else None, stderr=subprocess.PIPE,
                               start_new_session=hasattr(os, "killpg"))  # its tasks end with it
    lock.record(copier_pid=process.pid)
    tail: list[str] = []
    try:
        for raw in process.stderr:
            line = raw.decode("utf-8", "replace")
            sys.stderr.write(line)
            tail = (tail + [line.rstrip("\n")])[-40:]
        return process.wait(), "\n".join(tail)
    except BaseException:
        if hasattr(os, "killpg"):
            try:
                os.killpg(process.pid, signal.SIGKILL)  # Copier and the tasks and migrations it started
            except ProcessLookupError:
                pass
        process.kill()
        process.wait()
        raise


def read_report(repo: Path, copier_pid: int | None) -> dict[str, Any]:
    path = state_dir(repo) / REPORT
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    path.unlink(missing_ok=True)
    return report if isinstance(report, dict) and report.get("copier_pid") == copier_pid else {}


def _copier_error(tail: str) -> str:
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return next((line for line in reversed(lines) if re.match(r"^[A-Za-z_.]*(Error|Exception)\b", line)), lines[-1] if lines else "")


# ---------------------------------------------------------------- the CHANGELOG between two versions


def changelog_between(changelog: str, old: str, new: str) -> str:
    """The CHANGELOG sections after release `old`, up to and including `new` (any spelling of either: v0.2.0,
    0.2.0, 0.2.0+local; an unknown or unreleased `old` is behind every release)."""
    sections = re.split(r"(?m)^(?=## \[)", changelog)
    kept = []
    for section in sections:
        heading = re.match(r"## \[([^\]]+)\]", section)
        if not heading or versions.parse(heading.group(1)) is None:
            continue  # [Unreleased] and anything that names no release
        release = heading.group(1)
        if (not old or versions.compare(release, old) > 0) and (not new or versions.parse(new) is None or versions.compare(release, new) <= 0):
            kept.append(section.rstrip())
    return "\n\n".join(kept)


# ---------------------------------------------------------------- running it


# Copier's shorthands for template URLs.
URL_SHORTHANDS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}


def has_no_release(repo: Path) -> bool:
    """Whether the template recorded in the answers has no release tag at all.

    Copier then takes its latest commit, and says "No git tags found in template; using HEAD as ref" once for
    each of the three renders of an update; update.py says it once and asks Copier for HEAD itself. False when
    the tags cannot be listed: Copier reports that on its own.
    """
    answers = repo / ".copier-answers.yml"
    recorded = re.search(r"(?m)^_src_path: *(.+?) *$", answers.read_text(encoding="utf-8")) if answers.is_file() else None
    if recorded is None:
        return False
    source = recorded.group(1).strip("'\"")
    for shorthand, base in URL_SHORTHANDS.items():
        if source.startswith(shorthand):
            source = base + source[len(shorthand):].lstrip("/").removesuffix(".git") + ".git"
    try:
        listed = subprocess.run(["git", "ls-remote", "--tags", "--refs", "--", source], cwd=repo,
                                capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    tags = [line.rsplit("refs/tags/", 1)[-1] for line in listed.stdout.splitlines()]
    releases = [version for version in map(versions.parse, tags) if version is not None and version.is_release]
    return listed.returncode == 0 and not releases


def asks_for_a_version(args: list[str]) -> bool:
    return any(arg in ("--vcs-ref", "-r") or arg.startswith(("--vcs-ref=", "-r")) for arg in args)


def run(argv: list[str], repo: Path, result: Result, as_json: bool) -> None:
    interactive = "--interactive" in argv
    passthrough = [arg for arg in argv if arg not in ("--interactive", "--json")]
    if git(repo, "rev-parse", "--is-inside-work-tree", check=False).strip() != b"true":
        raise UpdateFailed(f"{repo} is not a git repository", "run update.py from your team repository", outcome="refused")
    lock = InProgress(repo)
    result.recovered = recover_interrupted(repo, lock)
    dirty = git(repo, "status", "--porcelain").decode().strip()
    if dirty:
        raise UpdateFailed(
            "the working tree has uncommitted changes:\n" + "\n".join(f"    {line}" for line in dirty.splitlines()[:20]),
            "commit or stash them first, so the update can be undone exactly if anything fails", outcome="refused",
        )
    copier = copier_command()
    yaml_error = answers_yaml_error(repo, copier)
    if yaml_error:
        raise UpdateFailed(f"{yaml_error} (not valid YAML)",
                           f"fix that line (`git log -p {ANSWERS}` shows what changed), commit, and run update.py again",
                           outcome="refused")
    head = git(repo, "rev-parse", "HEAD").decode().strip()
    result.from_version = str(history.read_manifest(repo).get("template_version") or "")
    lock.acquire(head)
    try:
        (state_dir(repo) / REPORT).unlink(missing_ok=True)
        command = [*copier, "update", "--trust", *([] if interactive else ["--defaults"]), *passthrough]
        if not asks_for_a_version(passthrough) and has_no_release(repo):
            print("update.py: the template has no release yet (no version tag); taking its latest commit",
                  file=sys.stderr if as_json else sys.stdout, flush=True)
            command += ["--vcs-ref", "HEAD"]
        print("$ " + " ".join(command), file=sys.stderr if as_json else sys.stdout, flush=True)
        result.restored = False
        code, tail = run_copier(command, repo, lock, interactive, as_json)
        report = read_report(repo, (lock.read() or {}).get("copier_pid"))
        result.notes = [note for note in report.get("notes") or [] if isinstance(note, dict)]
        if code != 0:
            if report.get("problems"):
                conflicts = list(report.get("conflicts") or [])
                raise UpdateFailed("the update stopped:\n" + "\n".join(f"    {p}" for p in report["problems"]),
                                   str(report.get("fix") or ""), outcome="conflict" if conflicts else "failed",
                                   problems=list(report["problems"]), conflicts=conflicts)
            error = _copier_error(tail)
            raise UpdateFailed(f"copier update failed (exit {code}): {error}" if error else f"copier update failed (exit {code})",
                               "fix what it reports (often an answer the new version refuses), then run update.py again",
                               problems=[error] if error else [])
    except BaseException:
        try:
            with signals_held():
                restore(repo, head)
            result.restored = True
        except BaseException as error:  # noqa: BLE001 - the marker stays: the next run recovers
            result.outcome = "restore-failed"
            result.fix = (f"update.py could not put your repository back ({error}); finish it yourself with "
                          f"`git reset --hard {head} && git clean -fd` (your work is in that commit), or run update.py again")
            raise
        lock.release()
        raise
    lock.release()
    result.to_version = str(history.read_manifest(repo).get("template_version") or "")
    result.outcome = "current" if result.to_version == result.from_version else "updated"
    if result.outcome == "updated":
        text = (repo / CHANGELOG).read_text(encoding="utf-8") if (repo / CHANGELOG).is_file() else ""
        result.changelog = changelog_between(text, result.from_version, result.to_version)
    result.fix = "review `git status` and `git diff`, run your tests, then commit everything"


def report_human(result: Result, failure: UpdateFailed | None) -> None:
    if result.recovered:
        print(f"update.py: {result.recovered}", file=sys.stderr)
    if failure is not None:
        where = ("Your repository is exactly as it was before." if result.restored
                 else "Your repository could NOT be put back as it was.")
        print(f"\nupdate.py: {failure.what}\nWhat to do: {result.fix}\n{where}", file=sys.stderr)
        return
    if result.outcome == "current":
        print(f"\nThe foundation is already at {result.to_version}; nothing to take.")
    else:
        print(f"\nThe foundation is updated from {result.from_version or 'an unknown version'} to {result.to_version}.")
    for note in result.notes:
        print(f"warning: {note.get('text')}")
    if result.changelog:
        print("\nWhat changed:\n\n" + result.changelog)
    print(f"\nNext: {result.fix}.")


def main(argv: list[str]) -> int:
    if any(arg in ("-h", "--help") for arg in argv):
        print(__doc__)
        return 0
    as_json = "--json" in argv
    for signum in SIGNALS:
        signal.signal(signum, _raise_interrupted)
    repo = Path(git(Path.cwd(), "rev-parse", "--show-toplevel", check=False).decode().strip() or Path.cwd())
    result, failure, code = Result(), None, 0
    try:
        run(argv, repo, result, as_json)
    except UpdateFailed as error:
        failure, code = error, 1
        result.outcome, result.problems, result.conflicts = error.outcome, error.problems or [error.what], error.conflicts
        result.fix = error.todo
    except (KeyboardInterrupt, Interrupted) as error:
        name = error.args[0] if isinstance(error, Interrupted) else "SIGINT"
        failure = UpdateFailed(f"interrupted ({name}) before the update finished", "run update.py again when you are ready")
        code = 128 + (error.signum if isinstance(error, Interrupted) else signal.SIGINT)
        if result.outcome != "restore-failed":
            result.outcome, result.fix = "interrupted", failure.todo
        result.problems = [failure.what]
    except Exception as error:  # noqa: BLE001 - restored already by run(); say so instead of a bare traceback
        failure, code = UpdateFailed(f"{type(error).__name__}: {error}", "report this to the platform team"), 1
        if result.outcome != "restore-failed":
            result.outcome, result.fix = "failed", failure.todo
        result.problems = [failure.what]
    if as_json:
        print(json.dumps(asdict(result), indent=2))
    else:
        report_human(result, failure)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
