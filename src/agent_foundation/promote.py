"""`agent-foundation promote PATH --team TEAM`: take a team's skill into the registry.

The skill folder (usually `<team repo>/.claude/skills/<name>`) is judged by the registry's own rules
(`registry.skill_folder_problems`, the client's frontmatter limits), copied to `foundation/skills/<name>/` with
a metadata.yml (owner, origin team, version 1.0.0, risk), the marketplace manifest is regenerated, and an
entry goes under `## [Unreleased]` in CHANGELOG.md. Promoting again a skill the same team already has in
the registry bumps its minor version instead. Nothing is committed: the platform team reviews the diff, commits
and runs `agent-foundation release`.

Every question has a flag (--risk, --owner, --summary, --recommended, --yes); without a terminal the command
never prompts and names the flag that is missing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from . import changelog, marketplace
from .foundation import RISKS, SKILL_NAME, FoundationError, load_foundation, skill_frontmatter_problems, split_frontmatter
from .registry import SUMMARY_MAX, parse_version, skill_folder_problems


class PromotionRefused(Exception):
    """The skill cannot enter the registry; the message says why and what to do."""

    exit_code = 1


class PromotionMisused(PromotionRefused):
    """The command line is wrong: a missing or malformed option, a source that is not a folder."""

    exit_code = 2


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _ask(flag: str, value: Any, question: Any) -> Any:
    """The flag's value, else the answer to a questionary prompt, else refuse (no TTY) naming the flag."""
    if value is not None:
        return value
    if not _interactive():
        raise PromotionMisused(f"{flag} is required when there is no terminal to ask on (pass {flag} ...)")
    answer = question().ask()
    if answer is None:
        raise PromotionRefused("cancelled")
    return answer


def default_summary(description: str) -> str:
    first = description.strip().split(". ")[0].rstrip(".")
    return first if len(first) <= SUMMARY_MAX else first[: SUMMARY_MAX - 3].rstrip() + "..."


def bump_minor(version: str) -> str:
    major, minor, _ = parse_version(version) or (1, 0, 0)
    return f"{major}.{minor + 1}.0"


def _skill_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and p.name != "metadata.yml"}


def validate_source(source: Path) -> tuple[str, dict[str, Any]]:
    """The skill's name and frontmatter; PromotionRefused listing every problem otherwise."""
    problems = [f"{rel}: {field}: {message} (fix: {fix})" for rel, field, message, fix in skill_folder_problems(source, allow_metadata=False)]
    frontmatter: dict[str, Any] | None = None
    skill_md = source / "SKILL.md"
    if skill_md.is_file() and not skill_md.is_symlink():
        try:
            frontmatter, _ = split_frontmatter(skill_md.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            frontmatter = None
        for field, message, fix in skill_frontmatter_problems(source.name, frontmatter):
            problems.append(f"SKILL.md: {field}: {message} (fix: {fix})")
    if not SKILL_NAME.match(source.name):
        problems.append(f"{source.name}/: the folder name is not a valid skill name (fix: lowercase letters, digits and single hyphens)")
    if problems:
        raise PromotionRefused(f"{source} cannot be promoted:\n" + "\n".join(f"  - {p}" for p in problems))
    return source.name, frontmatter or {}


def promote(root: Path, source: Path, *, team: str, risk: str | None = None, owner: str | None = None,
            summary: str | None = None, recommended: bool | None = None, yes: bool = False) -> dict[str, Any]:
    root, source = Path(root), Path(source)
    if source.is_symlink():
        raise PromotionMisused(f"{source} is a symbolic link; promote the real folder")
    source = source.absolute()
    if not source.is_dir():
        raise PromotionMisused(f"{source} is not a folder; give the skill's folder, e.g. ../payments-api/.claude/skills/api-conventions")
    if not SKILL_NAME.match(team):
        raise PromotionMisused(f"--team {team!r} is not a team slug (lowercase letters, digits and hyphens, e.g. payments-api)")
    name, frontmatter = validate_source(source)
    try:
        foundation = load_foundation(root / "foundation")
    except FoundationError as error:
        raise PromotionRefused(f"the registry itself is broken; fix it first:\n{error}") from None

    existing = foundation.skills.get(name)
    target = root / "foundation" / "skills" / name
    if existing is None and target.exists():
        raise PromotionRefused(f"foundation/skills/{name} exists but is not a valid registry skill; run `agent-foundation registry check`")
    if existing is not None and existing.origin_team != team:
        raise PromotionRefused(
            f"name clash: the registry already has a skill {name!r} from team {existing.origin_team!r} "
            f"(owner {existing.owner}); rename the folder and the name: in SKILL.md, or ask {existing.owner} to take the change"
        )
    files = _skill_files(source)
    if existing is not None:
        if files == existing.files:
            raise PromotionRefused(f"{name} {existing.version} in the registry is already identical to {source}; nothing to promote")
        version = bump_minor(existing.version)
        risk = risk or existing.risk
        owner = owner or existing.owner
        summary = summary or existing.summary
        recommended = existing.recommended if recommended is None else recommended
    else:
        version = "1.0.0"
        risk = _ask("--risk", risk, lambda: __import__("questionary").select(f"Risk of {name}", choices=list(RISKS), default="low"))
        owner = _ask("--owner", owner, lambda: __import__("questionary").text(f"Who maintains {name} for everyone (team handle or email)?", default=team))
        if summary is None:
            summary = default_summary(frontmatter.get("description", ""))
            if _interactive():
                summary = _ask("--summary", None, lambda: __import__("questionary").text("One-line summary shown in the skills question", default=summary))
        recommended = bool(recommended)
    if risk not in RISKS:
        raise PromotionMisused(f"--risk {risk!r} is not one of {', '.join(RISKS)}")
    if not str(owner).strip():
        raise PromotionMisused("--owner is empty: name the team or person who maintains the skill")
    if len(summary) > SUMMARY_MAX or not summary.strip():
        raise PromotionMisused(f"--summary must be 1-{SUMMARY_MAX} characters")

    action = f"update {name} {existing.version} -> {version}" if existing else f"add {name} {version}"
    if not yes:
        if not _interactive():
            raise PromotionMisused(f"about to {action} from team {team}: pass --yes to confirm without a terminal")
        import questionary

        if not questionary.confirm(f"{action.capitalize()} (origin team {team}, risk {risk}, owner {owner})?", default=True).ask():
            raise PromotionRefused("cancelled; nothing changed")

    metadata = {"owner": str(owner), "version": version, "risk": risk, "recommended": bool(recommended),
                "origin_team": team, "summary": summary}
    changelog_path = root / changelog.CHANGELOG_FILE
    changelog_before = changelog_path.read_text(encoding="utf-8") if changelog_path.is_file() else None
    marketplace_path = root / marketplace.MARKETPLACE_FILE
    marketplace_before = marketplace_path.read_text(encoding="utf-8") if marketplace_path.is_file() else None
    backup = Path(tempfile.mkdtemp(prefix="promote-backup-"))
    if target.exists():
        shutil.copytree(target, backup / name, symlinks=True)
    try:
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for rel, content in files.items():
            (target / rel).write_bytes(content)
        (target / "metadata.yml").write_text(yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True), encoding="utf-8")
        after = load_foundation(root / "foundation")  # the whole registry must still load
        marketplace.write(root, after)
        if existing:
            entry = f"Skill `{name}` {version}: new version promoted from team `{team}` (was {existing.version})."
            section = "Changed"
        else:
            entry = f"Skill `{name}` {version}, promoted from team `{team}` (risk: {risk}, owner: {owner})."
            section = "Added"
        changelog_path.write_text(changelog.add_entry(changelog.read(root), section, entry), encoding="utf-8")
    except BaseException as error:
        shutil.rmtree(target, ignore_errors=True)
        if (backup / name).exists():
            shutil.copytree(backup / name, target, symlinks=True)
        for path, before in ((changelog_path, changelog_before), (marketplace_path, marketplace_before)):
            if before is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(before, encoding="utf-8")
        if isinstance(error, FoundationError):
            raise PromotionRefused(f"the registry would not load with {name} in it; nothing changed:\n{error}") from None
        raise
    finally:
        shutil.rmtree(backup, ignore_errors=True)
    return {"name": name, "version": version, "previous": existing.version if existing else None, "metadata": metadata}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("promote", help="promote a team's skill into the registry")
    parser.add_argument("path", type=Path, help="the skill folder, e.g. ../payments-api/.claude/skills/api-conventions")
    parser.add_argument("--team", required=True, help="slug of the team the skill comes from (its origin team)")
    parser.add_argument("--risk", choices=RISKS, help="risk of the skill (asked when omitted and a terminal is available)")
    parser.add_argument("--owner", help="who maintains the skill for everyone (default asked; the team when re-promoting)")
    parser.add_argument("--summary", help=f"one line (<= {SUMMARY_MAX} characters) shown in the skills question (default: the description's first sentence)")
    parser.add_argument("--recommended", action=argparse.BooleanOptionalAction, default=None, help="pre-select it for every team (default: no)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        result = promote(Path(args.root), args.path, team=args.team, risk=args.risk, owner=args.owner,
                         summary=args.summary, recommended=args.recommended, yes=args.yes)
    except PromotionRefused as refusal:
        print(f"promote: refused: {refusal}", file=sys.stderr)
        return refusal.exit_code
    if result["previous"]:
        print(f"promote: {result['name']} {result['previous']} -> {result['version']} (re-promoted by {args.team})")
    else:
        print(f"promote: added {result['name']} {result['version']} to foundation/skills/ (origin team {args.team})")
    print("Updated .claude-plugin/marketplace.json and CHANGELOG.md (Unreleased).")
    print("Next: review the diff, commit it, then `agent-foundation release X.Y.Z`.")
    return 0
