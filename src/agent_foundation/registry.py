"""`agent-foundation registry check`: validate the whole registry (foundation/) before it ships.

The checks start from `load_foundation` (the loader every render uses) and add what only the platform needs
to know before a release: files a skill may not carry, hidden or bidirectional Unicode, secret-looking
strings, versions not bumped since the last release tag, profiles that contradict the policy, and a stale
plugin marketplace manifest. Every problem names the file, the field and the fix, and all are reported at once.

The content scanners here (`hidden_unicode`, `secret_strings`, `skill_folder_problems`) are shared with
`promote`, so a skill is judged by the same rules when it enters the registry and on every later check.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import stat
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any, Iterable

import yaml

from . import context_budget
from .foundation import (
    SEMVER,
    SKILL_NAME,
    Foundation,
    FoundationError,
    Problem,
    load_foundation,
    skill_frontmatter_problems,
    split_frontmatter,
)

GIT_TIMEOUT = 30
# The template renders a skill's files flat into .claude/skills/<name>/ (one path segment per file) and as
# UTF-8 text; these are the files it can render faithfully.
SKILL_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
SKILL_FILE_MAX_BYTES = 256 * 1024
METADATA_KEYS = ("owner", "version", "risk", "recommended", "origin_team", "summary")
SUMMARY_MAX = 100

# ---------------------------------------------------------------- hidden and bidirectional Unicode

# Code points that change how text reads without being visible: bidirectional controls (Trojan Source),
# zero-width characters, tag characters (invisible ASCII smuggling) and variation-selector payloads.
_BIDI = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A)) | {0x200E, 0x200F, 0x061C}
_INVISIBLE = {0x200B, 0x200C, 0x200D, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xFEFF, 0x00AD, 0x180E, 0x034F}


def _hidden_kind(char: str) -> str | None:
    code = ord(char)
    if char in "\t\n\r":
        return None
    if code in _BIDI:
        return "bidirectional control"
    if 0xE0000 <= code <= 0xE007F:
        return "invisible tag character"
    if 0xE0100 <= code <= 0xE01EF or 0xFE00 <= code <= 0xFE0E:
        return "variation selector"
    if code in _INVISIBLE:
        return "invisible character"
    category = unicodedata.category(char)
    if category == "Cc":
        return "control character"
    if category == "Cf":
        return "invisible format character"
    if category in ("Co", "Cs"):
        return "private-use or surrogate character"
    return None


def hidden_unicode(text: str) -> list[str]:
    """Where the text holds characters a reviewer cannot see, as 'line L, column C: U+XXXX NAME (kind)'."""
    found = []
    for line_no, line in enumerate(text.split("\n"), start=1):
        for col, char in enumerate(line, start=1):
            kind = _hidden_kind(char)
            if kind:
                name = unicodedata.name(char, "unnamed")
                found.append(f"line {line_no}, column {col}: U+{ord(char):04X} {name} ({kind})")
    return found


# ---------------------------------------------------------------- secret-looking strings

_PLACEHOLDER = re.compile(r"(\$\{?[A-Z_]|<[^>]*>|x{6,}|\*{4,}|example|changeme|placeholder|dummy|your[-_]|redacted|\.\.\.)", re.I)
SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private key block", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY( BLOCK)?-----")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("Anthropic API key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}")),
    ("OpenAI-style API key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9]{32,}\b")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("Stripe key", re.compile(r"\b[rs]k_live_[0-9A-Za-z]{16,}\b")),
    ("JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
    ("credentials in a URL", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s:@]{6,}@[^\s]+", re.I)),
    (
        "hard-coded credential",
        re.compile(
            r"""(?ix)\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|auth[_-]?token|token|client[_-]?secret)
            ["']?\s*[:=]\s*["']([^"'\s]{12,})["']"""
        ),
    ),
)


def secret_strings(text: str) -> list[str]:
    """Secret-looking strings in the text, as 'line L: kind (first characters...)'; placeholders are ignored."""
    found = []
    for line_no, line in enumerate(text.split("\n"), start=1):
        for kind, pattern in SECRET_PATTERNS:
            for match in pattern.finditer(line):
                value = match.group(match.lastindex or 0) if kind == "hard-coded credential" else match.group(0)
                if kind not in ("private key block",) and _PLACEHOLDER.search(value):
                    continue
                found.append(f"line {line_no}: {kind} ({value[:6]}...)")
    return found


# ---------------------------------------------------------------- a skill folder's files


def skill_folder_problems(folder: Path, *, allow_metadata: bool) -> list[tuple[str, str, str, str]]:
    """Files the registry cannot carry: (relative path, field, message, fix) for each problem.

    Allowed: regular UTF-8 text files directly inside the folder (the renderer copies skills flat), with
    plain names, at most SKILL_FILE_MAX_BYTES each, free of hidden Unicode and secret-looking strings.
    """
    found: list[tuple[str, str, str, str]] = []
    if folder.is_symlink():
        return [(".", "(folder)", "is a symbolic link", "promote the real folder, not a link to it")]
    if not folder.is_dir():
        return [(".", "(folder)", "is not a folder", "give the path of a skill folder that holds SKILL.md")]
    for entry in sorted(folder.iterdir()):
        rel = entry.name
        mode = entry.lstat().st_mode
        if stat.S_ISLNK(mode):
            target = os.readlink(entry)
            found.append((rel, "(file)", f"is a symbolic link (to {target})", "replace the link with the file's own content, inside the skill folder"))
            continue
        if stat.S_ISDIR(mode):
            found.append((rel + "/", "(folder)", "is a subfolder; the template renders only flat files inside a skill folder", "move its files up into the skill folder (or inline them into SKILL.md)"))
            continue
        if not stat.S_ISREG(mode):
            found.append((rel, "(file)", "is not a regular file", "remove it"))
            continue
        if rel == "metadata.yml" and allow_metadata:
            continue
        if rel == "metadata.yml":
            found.append((rel, "(file)", "is written by the registry, not by the team", "remove metadata.yml from the team's skill folder; pass --risk/--owner instead"))
            continue
        if not SKILL_FILE_NAME.match(rel) or rel.endswith(".jinja"):
            found.append((rel, "(file name)", "is not a plain file name (letters, digits, '.', '_', '-'; no leading dot, no .jinja)", "rename the file"))
            continue
        data = entry.read_bytes()
        if len(data) > SKILL_FILE_MAX_BYTES:
            found.append((rel, "(file)", f"is {len(data)} bytes, over {SKILL_FILE_MAX_BYTES}", "split or shorten it; skills are instructions, not data"))
            continue
        if b"\x00" in data:
            found.append((rel, "(file)", "is a binary file", "skills may carry only text files; remove it or describe it in text"))
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            found.append((rel, "(file)", "is not UTF-8 text (binary?)", "skills may carry only UTF-8 text files; convert or remove it"))
            continue
        for where in hidden_unicode(text):
            found.append((rel, where.split(":")[0], f"hidden or bidirectional Unicode: {where.split(': ', 1)[1]}", "delete the character (a prompt-injection route: reviewers cannot see it)"))
        for where in secret_strings(text):
            found.append((rel, where.split(":")[0], f"secret-looking string: {where.split(': ', 1)[1]}", "remove it and rotate the secret; reference an environment variable instead"))
    if not (folder / "SKILL.md").is_file() or (folder / "SKILL.md").is_symlink():
        found.append(("SKILL.md", "(file)", "is missing", "a skill folder needs SKILL.md with name: and description: frontmatter"))
    return found


# ---------------------------------------------------------------- git and release tags


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=check,
    )


def parse_version(text: str) -> tuple[int, int, int] | None:
    match = SEMVER.match(text.removeprefix("v"))
    return tuple(int(part) for part in match.groups()) if match else None  # type: ignore[return-value]


def release_tags(root: Path, *, merged: bool = False) -> list[tuple[tuple[int, int, int], str]]:
    """The repository's release tags (vX.Y.Z), lowest first; empty when root is not a git repository."""
    args = ["tag", "--list", "v*"] + (["--merged", "HEAD"] if merged else [])
    result = git(root, *args, check=False)
    if result.returncode != 0:
        return []
    tags = []
    for tag in result.stdout.split():
        version = parse_version(tag) if tag.startswith("v") else None
        if version:
            tags.append((version, tag))
    return sorted(tags)


def last_release_tag(root: Path, *, merged: bool = False) -> str | None:
    tags = release_tags(root, merged=merged)
    return tags[-1][1] if tags else None


def _files_at(root: Path, ref: str, folder: str) -> dict[str, bytes] | None:
    listing = git(root, "ls-tree", "-r", "--name-only", ref, "--", folder + "/", check=False)
    if listing.returncode != 0 or not listing.stdout.strip():
        return None
    out = {}
    for path in listing.stdout.splitlines():
        shown = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=root, capture_output=True, timeout=GIT_TIMEOUT)
        out[path[len(folder) + 1 :]] = shown.stdout
    return out


def version_bump_problems(root: Path, foundation: Foundation, tag: str) -> list[Problem]:
    """A skill whose content changed since `tag` must carry a higher version than it had there."""
    problems = []
    for name, skill in foundation.skills.items():
        folder = f"foundation/skills/{name}"
        before = _files_at(root, tag, folder)
        if before is None:
            continue  # new since the tag: any version is fine
        meta_before = yaml.safe_load(before.pop("metadata.yml", b"") or b"{}") or {}
        old = parse_version(str(meta_before.get("version", "")))
        new = parse_version(skill.version)
        if old is None or new is None:
            continue
        meta_file = f"{folder}/metadata.yml"
        if new < old:
            problems.append(Problem(meta_file, "version", f"{skill.version} is lower than {'.'.join(map(str, old))} released in {tag}", f"set a version above {'.'.join(map(str, old))}"))
        elif before != skill.files and new == old:
            changed = sorted(set(before) ^ set(skill.files) | {p for p in before if p in skill.files and before[p] != skill.files[p]})
            patch = f"{old[0]}.{old[1]}.{old[2] + 1}"
            minor = f"{old[0]}.{old[1] + 1}.0"
            problems.append(Problem(
                meta_file, "version",
                f"the skill changed since {tag} ({', '.join(changed)}) but its version is still {skill.version}",
                f"bump it: {patch} for a fix, {minor} for new guidance, {old[0] + 1}.0.0 for a breaking change",
            ))
    return problems


# ---------------------------------------------------------------- the registry check


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _scan_tree(root: Path) -> list[Problem]:
    """Hidden Unicode and secrets anywhere under foundation/, and files skills may not carry."""
    problems = []
    foundation_dir = root / "foundation"
    for path in sorted(foundation_dir.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue  # reported as a binary by the skill check, or by load_foundation for data files
        rel = _relative(root, path)
        for where in hidden_unicode(text):
            line, detail = where.split(": ", 1)
            problems.append(Problem(rel, line, f"hidden or bidirectional Unicode: {detail}", "delete the character (a prompt-injection route: reviewers cannot see it)"))
        for where in secret_strings(text):
            line, detail = where.split(": ", 1)
            problems.append(Problem(rel, line, f"secret-looking string: {detail}", "remove it and rotate the secret; reference an environment variable instead"))
    skills_dir = foundation_dir / "skills"
    for folder in sorted(p for p in skills_dir.iterdir()) if skills_dir.is_dir() else []:
        rel_folder = _relative(root, folder)
        if not folder.is_dir() or folder.is_symlink():
            problems.append(Problem(rel_folder, "(file)", "is not a skill folder", "keep only skill folders under foundation/skills/"))
            continue
        if not SKILL_NAME.match(folder.name):
            problems.append(Problem(rel_folder, "(folder)", "is not a valid skill name", "use lowercase letters, digits and single hyphens"))
        for rel, field, message, fix in skill_folder_problems(folder, allow_metadata=True):
            if "Unicode" in message or "secret-looking" in message:
                continue  # already reported by the tree scan
            if rel == "SKILL.md" and message == "is missing":
                continue  # load_foundation reports it
            problems.append(Problem(f"{rel_folder}/{rel}", field, message, fix))
    return problems


def _metadata_problems(root: Path, foundation: Foundation) -> list[Problem]:
    problems = []
    for name, skill in foundation.skills.items():
        meta_file = f"foundation/skills/{name}/metadata.yml"
        meta = yaml.safe_load((skill.folder / "metadata.yml").read_text(encoding="utf-8")) or {}
        for key in ("owner", "origin_team", "summary"):
            if not isinstance(meta.get(key), str) or not meta[key].strip():
                problems.append(Problem(meta_file, key, "is empty", f"give the skill's {key.replace('_', ' ')}"))
        if isinstance(meta.get("summary"), str) and len(meta["summary"]) > SUMMARY_MAX:
            problems.append(Problem(meta_file, "summary", f"is {len(meta['summary'])} characters, over {SUMMARY_MAX}", "shorten it: it is shown in the skills question"))
        for key in sorted(set(meta) - set(METADATA_KEYS)):
            problems.append(Problem(meta_file, key, "is not a metadata key the registry knows", f"remove it or fix the spelling (keys: {', '.join(METADATA_KEYS)})"))
    return problems


def _server_problems(foundation: Foundation) -> list[Problem]:
    problems = []
    where = "foundation/mcp-servers.yml"
    for name, server in foundation.mcp_servers.items():
        if server.get("transport", "stdio") != "stdio":
            continue
        package = str(server.get("package", ""))
        if "@" in package.lstrip("@") or "==" in package or package.endswith(("latest", "*")):
            problems.append(Problem(where, f"servers.{name}.package", f"{package!r} carries a version or tag", "name the bare package; put the exact version in version:"))
        for index, arg in enumerate(server.get("args") or []):
            if re.search(r"@(latest|next|\^|~)|==|>=|<=", str(arg)):
                problems.append(Problem(where, f"servers.{name}.args[{index}]", f"{arg!r} is not pinned", "pin exact versions only, in version:"))
    return problems


def _profile_problems(root: Path, foundation: Foundation) -> list[Problem]:
    """Profiles must not allow what the policy denies, and copier.yml's defaults must exist."""
    from . import render

    problems = []
    denied = set(render.foundation_deny_rules(foundation))
    asked = set(render.foundation_ask_rules(foundation))
    for name, profile in foundation.profiles.items():
        # Deny and ask beat allow, so such a rule is dead and says the profile author misread the policy.
        for index, rule in enumerate(profile.get("allow") or []):
            if rule in denied or rule in asked:
                kind = "denies" if rule in denied else "always asks about"
                problems.append(Problem("foundation/profiles.yml", f"profiles.{name}.allow[{index}]", f"{rule!r} is a rule the policy {kind}, so allowing it has no effect", "remove it from the profile (or change the policy in policy.yml)"))
        for key in ("stacks", "policy", "commands"):
            refs = profile.get(key)
            if refs is None:
                continue
            known = foundation.stacks if key == "stacks" else {c["id"] for c in foundation.policy["commands"]}
            for ref in refs if isinstance(refs, list) else [refs]:
                if ref not in known:
                    problems.append(Problem("foundation/profiles.yml", f"profiles.{name}.{key}", f"{ref!r} does not exist", f"use one of: {', '.join(sorted(known))}"))
    copier_yml = root / "copier.yml"
    if copier_yml.is_file():
        questions = yaml.safe_load(copier_yml.read_text(encoding="utf-8")) or {}
        default_profile = (questions.get("permission_profile") or {}).get("default")
        if default_profile is not None and default_profile not in foundation.profiles:
            problems.append(Problem("copier.yml", "permission_profile.default", f"{default_profile!r} is not a profile in foundation/profiles.yml", "default to an existing profile"))
        default_stacks = (questions.get("stacks") or {}).get("default")
        if isinstance(default_stacks, str) and "{" not in default_stacks:
            try:
                default_stacks = yaml.safe_load(default_stacks)
            except yaml.YAMLError:
                default_stacks = None
        for stack in default_stacks if isinstance(default_stacks, list) else []:
            if stack not in foundation.stacks:
                problems.append(Problem("copier.yml", "stacks.default", f"{stack!r} is not a stack in foundation/stacks.yml", "default to existing stacks"))
    return problems


CLIENT_PACKAGE = "@anthropic-ai/claude-code"


def tested_client_version(root: Path) -> str | None:
    """The Claude Code version the tests run (package.json pins it exactly), or None without a package.json."""
    try:
        package = json.loads((Path(root) / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return str((package.get("devDependencies") or {}).get(CLIENT_PACKAGE) or "") or None


def _client_problems(root: Path, foundation: Foundation) -> list[Problem]:
    """The managed floor's requiredMinimumVersion may not exceed the client the tests prove."""
    minimum = parse_version(foundation.client["minimum_version"])
    tested = tested_client_version(root)
    if tested and parse_version(tested) and minimum > parse_version(tested):
        return [Problem("foundation/client.yml", "minimum_version",
                        f"{foundation.client['minimum_version']} is newer than the client the tests run ({tested}, package.json)",
                        f"pin {CLIENT_PACKAGE} to that version in package.json and run the tests, or lower minimum_version")]
    return []


def check(root: Path, *, tag: str | None = None, marketplace: bool = True) -> list[Problem]:
    """Every problem in the registry at `root` (the template checkout). Empty list = ready to release.

    tag: the release to compare skill versions with (default: the last vX.Y.Z tag reachable from HEAD).
    marketplace: also fail when .claude-plugin/marketplace.json is not what `marketplace` would generate.
    """
    root = Path(root)
    problems: list[Problem] = []
    foundation: Foundation | None = None
    try:
        foundation = load_foundation(root / "foundation")
    except FoundationError as error:
        problems.extend(error.problems)
    problems.extend(_scan_tree(root))
    if foundation is not None:
        problems.extend(_metadata_problems(root, foundation))
        problems.extend(_server_problems(foundation))
        problems.extend(_profile_problems(root, foundation))
        problems.extend(_client_problems(root, foundation))
        problems.extend(context_budget.problems(foundation))
        tag = tag or last_release_tag(root, merged=True)
        if tag:
            problems.extend(version_bump_problems(root, foundation, tag))
        if marketplace:
            from . import marketplace as marketplace_module

            problems.extend(marketplace_module.staleness_problems(root, foundation))
    return _unique(problems)


def _loaded(root: Path) -> Foundation | None:
    """foundation/, or None when it does not load (check() reports its problems)."""
    try:
        return load_foundation(root / "foundation")
    except FoundationError:
        return None


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


# ---------------------------------------------------------------- command line


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("registry", help="check the foundation's data (skills, MCP servers, policy, profiles)")
    commands = parser.add_subparsers(dest="registry_command", metavar="SUBCOMMAND", required=True)
    check_parser = commands.add_parser("check", help="validate the whole registry; exit 1 listing every problem (CI runs it)")
    check_parser.add_argument("--json", action="store_true", help="print the problems as JSON")
    check_parser.add_argument("--since", metavar="TAG", help="compare skill versions with this tag (default: the last release tag)")
    check_parser.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    root = Path(args.root)
    if not (root / "foundation").is_dir():
        print(f"agent-foundation: {root} has no foundation/ folder; run inside the agent-foundation checkout or pass --root", file=sys.stderr)
        return 2
    problems = check(root, tag=args.since)
    foundation = _loaded(root)
    if args.json:
        costs = context_budget.measure(foundation) if foundation else []
        print(json.dumps({"ok": not problems, "problems": [dataclasses.asdict(p) for p in problems],
                          "context": [dataclasses.asdict(c) for c in costs]}, indent=2))
        return 1 if problems else 0
    if foundation:
        print(f"per-request context ({context_budget.BUDGET_FILE}):")
        for line in context_budget.report(foundation):
            print(f"  {line}")
    if problems:
        print(f"registry check: {len(problems)} problem(s)")
        for problem in problems:
            print(f"  - {problem.file}: {problem.field}: {problem.message}\n      fix: {problem.fix}")
    else:
        print("registry check: ok")
    return 1 if problems else 0
