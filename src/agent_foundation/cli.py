"""The `agent-foundation` command: the platform team's tools.

Each command family lives in its own module exposing `register(subparsers)`, which adds its sub-command(s)
and sets `func` on them. Modules are imported only when the command line is parsed, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

# module name -> one-line description, in the order shown by --help
COMMAND_MODULES = {
    "registry": "check the foundation's data (skills, MCP servers, policy, profiles)",
    "promote": "promote a team's skill into the registry",
    "release": "release a new template version",
    "marketplace": "generate the Claude Code plugin marketplace manifest",
    "managed_settings": "render device-level managed settings for IT",
    "fleet": "report on every team repository at once",
    "rollout": "roll a release out to every team repository",
    "tune": "propose rule changes from real decisions (audit logs, OpenTelemetry)",
}


def template_root() -> Path:
    """The agent-foundation checkout the command works on: --root, or the folder holding copier.yml."""
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "copier.yml").is_file() and (folder / "foundation").is_dir():
            return folder
    return here


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agent-foundation", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help="the agent-foundation checkout (default: found from the current folder)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"agent_foundation.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"agent_foundation.{name}":
                raise
            continue  # not built yet in this version
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if args.root is None:
        args.root = template_root()
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
