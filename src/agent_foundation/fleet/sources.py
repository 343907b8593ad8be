"""Where the fleet's repositories come from: folders, folders of folders, list files and git URLs.

A git URL is cloned shallow (one commit) and sparse (only the paths the fleet reads) into a cache folder;
a later run fetches into the same clone instead of cloning again. Nothing here ever writes to a team's own
folder: local folders are read in place, remote repositories only ever land in the cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable

# What the fleet reads from a team repository (gitignore-style patterns for `git sparse-checkout --no-cone`),
# plus every foundation-owned file the repository's manifest lists (the posture check hashes each one).
SPARSE_PATTERNS = ["/.copier-answers.yml", "/.mcp.json", "/.claude/", "/AGENTS.md", "/CLAUDE.md"]
GIT_TIMEOUT_SECONDS = 120
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.I)
MARKERS = (".copier-answers.yml", ".claude/foundation/manifest.json")


@dataclasses.dataclass
class RepoRef:
    """One repository to scan: a local folder (maybe a clone in the cache), or an error found on the way."""

    label: str  # what the user gave: a path or a URL
    path: Path | None
    url: str | None = None
    error: str | None = None


def is_url(text: str) -> bool:
    return bool(_URL.match(text.strip()))


def is_bare_repo(folder: Path) -> bool:
    """A bare git repository (a remote on disk, e.g. team.git): HEAD, objects/ and refs/, no work tree."""
    return (folder / "HEAD").is_file() and (folder / "objects").is_dir() and (folder / "refs").is_dir()


def looks_like_repo(folder: Path) -> bool:
    return any((folder / marker).exists() for marker in MARKERS) or (folder / ".git").exists() or is_bare_repo(folder)


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "agent-foundation" / "fleet"


def expand(sources: Iterable[str], *, base: Path | None = None) -> tuple[list[RepoRef], list[str]]:
    """Local refs and URLs to clone, in the order given; duplicates are dropped."""
    refs: list[RepoRef] = []
    urls: list[str] = []
    for source in sources:
        _expand_one(str(source).strip(), base or Path.cwd(), refs, urls, depth=0)
    seen: set[str] = set()
    unique = []
    for ref in refs:
        key = str(ref.path.resolve()) if ref.path else ref.label
        if key not in seen:
            seen.add(key)
            unique.append(ref)
    return unique, list(dict.fromkeys(urls))


def _expand_one(source: str, base: Path, refs: list[RepoRef], urls: list[str], depth: int) -> None:
    if not source or source.startswith("#"):
        return
    if is_url(source):
        urls.append(source)
        return
    path = Path(source).expanduser()
    if not path.is_absolute():
        path = base / path
    if path.is_file():
        if depth > 2:
            refs.append(RepoRef(source, None, error=f"list file {source} is nested too deeply (a list naming a list naming a list)"))
            return
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            refs.append(RepoRef(source, None, error=f"cannot read the list file {source}: {error}"))
            return
        for line in lines:
            _expand_one(line.split(" #")[0].strip(), path.parent, refs, urls, depth + 1)
        return
    if not path.is_dir():
        refs.append(RepoRef(source, None, error=f"{source} does not exist (give a repository folder, a folder of them, a list file or a git URL)"))
        return
    if is_bare_repo(path):
        urls.append(path.resolve().as_uri())  # a remote on disk: cloned like any URL
        return
    if looks_like_repo(path):
        refs.append(RepoRef(source, path))
        return
    children = sorted(child for child in path.iterdir() if child.is_dir() and not child.name.startswith("."))
    if not children:
        refs.append(RepoRef(source, path))  # an empty folder: scanning it says "not a foundation repository"
    for child in children:
        if is_bare_repo(child):
            urls.append(child.resolve().as_uri())
        else:
            refs.append(RepoRef(str(Path(source) / child.name), child))


# ---------------------------------------------------------------- git URLs


def cache_dir_for(url: str, cache: Path) -> Path:
    tail = re.sub(r"[^A-Za-z0-9._-]+", "-", url.rstrip("/").split("/")[-1].split(":")[-1].removesuffix(".git"))[:40]
    return cache / f"{tail or 'repo'}-{hashlib.sha256(url.encode('utf-8')).hexdigest()[:12]}"


def _git(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "SSH_ASKPASS": "true", "GCM_INTERACTIVE": "never"}
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o ConnectTimeout=20")
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT_SECONDS, env=env)


def _tail(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in (result.stderr or result.stdout).strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"git exited with {result.returncode}"


def _manifest_patterns(clone: Path) -> list[str]:
    try:
        files = json.loads((clone / ".claude/foundation/manifest.json").read_text(encoding="utf-8"))["files"]
        return sorted("/" + glob_escape(str(path)) for path in files if isinstance(path, str) and ".." not in path.split("/"))
    except (OSError, ValueError, KeyError, TypeError):
        return []


def glob_escape(path: str) -> str:
    return re.sub(r"([*?\[\]!#\\])", r"\\\1", path)


def _sparse(clone: Path) -> subprocess.CompletedProcess[str]:
    """Check out the foundation's paths, then widen to the files the manifest lists."""
    result = _git(["sparse-checkout", "set", "--no-cone", *SPARSE_PATTERNS], cwd=clone)
    if result.returncode == 0:
        result = _git(["checkout", "--quiet"], cwd=clone)
    extra = [p for p in _manifest_patterns(clone) if not any(p.startswith(base.rstrip("/")) for base in SPARSE_PATTERNS)]
    if result.returncode == 0 and extra:
        result = _git(["sparse-checkout", "set", "--no-cone", *SPARSE_PATTERNS, *extra], cwd=clone)
    return result


def fetch(url: str, cache: Path, *, offline: bool = False) -> RepoRef:
    """Clone `url` (shallow, sparse) into the cache, or refresh the clone already there."""
    target = cache_dir_for(url, cache)
    try:
        if (target / ".git").is_dir():
            if offline:
                return RepoRef(url, target, url)
            result = _git(["fetch", "--quiet", "--depth", "1", "origin", "HEAD"], cwd=target)
            if result.returncode != 0:
                return RepoRef(url, None, url, f"cannot refresh {url}: {_tail(result)} (the cached copy was not used)")
            result = _git(["reset", "--quiet", "--hard", "FETCH_HEAD"], cwd=target)
            if result.returncode == 0:
                result = _sparse(target)
            if result.returncode != 0:
                return RepoRef(url, None, url, f"cannot refresh the cached clone of {url}: {_tail(result)}")
            return RepoRef(url, target, url)
        if offline:
            return RepoRef(url, None, url, f"{url} is not in the cache and --offline forbids cloning it")
        cache.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        result = _git(["clone", "--quiet", "--depth", "1", "--filter=blob:none", "--no-checkout", url, str(partial)])
        if result.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            return RepoRef(url, None, url, f"cannot clone {url}: {_tail(result)}")
        result = _sparse(partial)
        if result.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            return RepoRef(url, None, url, f"cannot check out {url}: {_tail(result)}")
        partial.rename(target)
        return RepoRef(url, target, url)
    except subprocess.TimeoutExpired:
        return RepoRef(url, None, url, f"cannot clone {url}: git took longer than {GIT_TIMEOUT_SECONDS} s")
    except OSError as error:
        return RepoRef(url, None, url, f"cannot clone {url}: {error}")


def fetch_all(urls: list[str], cache: Path, *, offline: bool = False, jobs: int = 8,
              progress: Callable[[], None] | None = None) -> list[RepoRef]:
    if not urls:
        return []

    def one(url: str) -> RepoRef:
        ref = fetch(url, cache, offline=offline)
        if progress:
            progress()
        return ref

    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(urls)))) as pool:
        return list(pool.map(one, urls))
