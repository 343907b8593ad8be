"""`agent-foundation marketplace [--check]`: the registry as a Claude Code plugin marketplace.

`.claude-plugin/marketplace.json` at the repository root lists one plugin per registry skill. Each entry is
`strict: false` (the entry itself defines the plugin, no plugin.json needed) with its source pointing at the
skill's own folder, `./foundation/skills/<name>`, and `skills: ["./"]` (the folder is the skill). Verified with
Claude Code 2.1.197: `claude plugin validate --strict` passes, `claude plugin marketplace add <checkout>` and
`claude plugin install <skill>@agent-foundation` install the skill, and the installed copy holds only that
skill's folder (a source of "./" would copy the whole repository into every plugin).

The file is generated from foundation/ (never edited by hand) and committed so the client can read it from a
clone; `--check` (run by CI and by `registry check`) fails when it is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .foundation import Foundation, FoundationError, Problem, load_foundation

MARKETPLACE_FILE = ".claude-plugin/marketplace.json"
MARKETPLACE_NAME = "agent-foundation"
MARKETPLACE_OWNER = "platform-team"
MARKETPLACE_DESCRIPTION = "The organisation's vetted Claude Code skills (agent-foundation registry); one plugin per skill."
REGENERATE = "run `agent-foundation marketplace` and commit .claude-plugin/marketplace.json"


def manifest(foundation: Foundation) -> dict[str, Any]:
    plugins = []
    for name in sorted(foundation.skills):
        skill = foundation.skills[name]
        plugins.append({
            "name": name,
            "source": f"./foundation/skills/{name}",
            "strict": False,
            "skills": ["./"],
            "description": skill.description,
            "version": skill.version,
            "author": {"name": skill.owner},
            "category": "skill",
            "keywords": [f"risk-{skill.risk}", f"origin-{skill.origin_team}"] + (["recommended"] if skill.recommended else []),
        })
    return {
        "name": MARKETPLACE_NAME,
        "owner": {"name": MARKETPLACE_OWNER},
        "metadata": {"description": MARKETPLACE_DESCRIPTION},
        "plugins": plugins,
    }


def render(foundation: Foundation) -> str:
    return json.dumps(manifest(foundation), indent=2, ensure_ascii=False) + "\n"


def staleness_problems(root: Path, foundation: Foundation) -> list[Problem]:
    path = Path(root) / MARKETPLACE_FILE
    if not path.is_file():
        return [Problem(MARKETPLACE_FILE, "(file)", "is missing", REGENERATE)]
    if path.read_text(encoding="utf-8") != render(foundation):
        return [Problem(MARKETPLACE_FILE, "(file)", "is stale: it does not match foundation/ (edited by hand, or not regenerated after a change)", REGENERATE)]
    return []


def write(root: Path, foundation: Foundation) -> bool:
    """Write the manifest; True when the file changed."""
    path = Path(root) / MARKETPLACE_FILE
    text = render(foundation)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("marketplace", help="generate the Claude Code plugin marketplace manifest")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the committed manifest is stale (CI)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = Path(args.root)
    try:
        foundation = load_foundation(root / "foundation")
    except FoundationError as error:
        print(f"marketplace: cannot read the registry: {error}", file=sys.stderr)
        return 1
    if args.check:
        problems = staleness_problems(root, foundation)
        for problem in problems:
            print(f"marketplace: {problem.file}: {problem.message}. Fix: {problem.fix}", file=sys.stderr)
        if not problems:
            print(f"marketplace: {MARKETPLACE_FILE} is up to date ({len(foundation.skills)} plugins)")
        return 1 if problems else 0
    changed = write(root, foundation)
    print(f"marketplace: {'wrote' if changed else 'unchanged'} {MARKETPLACE_FILE} ({len(foundation.skills)} plugins)")
    return 0
