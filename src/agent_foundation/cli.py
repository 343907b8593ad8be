"""The `agent-foundation` command: the platform team's tools.

Each command family lives in its own module exposing `register(subparsers)`, which adds its sub-command(s)
and sets `func` on them. Modules are imported only when the command line is parsed, so `--help` stays fast.

Exit status, the same for every command: 0 done; 1 the command ran and found problems or refused (a failing
check, a dirty tree, risky or unreadable repositories); 2 bad usage or input (an unknown option, a bad value, a
path that does not exist, no foundation checkout to work on). Output piped into a reader that stops early
(`| head`) ends quietly with 1, as rich (the terminal tables) and Copier do.
"""

from __future__ import annotations

import argparse
import importlib
import os
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
    "demo": "try the version flow in a folder: release, render a team, release again, update the team",
    "tune": "propose rule changes from real decisions (audit logs, OpenTelemetry)",
}


# Commands that work on team repositories alone; every other one reads or writes the foundation checkout.
WITHOUT_CHECKOUT = {"rollout"}
USAGE_ERROR = 2
BROKEN_PIPE = 1


def is_checkout(folder: Path) -> bool:
    return (folder / "copier.yml").is_file() and (folder / "foundation").is_dir()


def template_root() -> Path | None:
    """The agent-foundation checkout holding the current folder, if any."""
    here = Path.cwd()
    return next((folder for folder in (here, *here.parents) if is_checkout(folder)), None)


def missing_checkout(root: Path | None) -> str:
    """The one line shown when a command that needs the foundation checkout runs without one."""
    if root is not None:
        return (f"agent-foundation: --root {root} is not an agent-foundation checkout (no copier.yml beside a "
                "foundation/ folder); pass the folder you cloned the template into")
    return (f"agent-foundation: {Path.cwd()} is not inside an agent-foundation checkout; run it inside the "
            "checkout of the template, or pass --root PATH")


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
    try:
        return run(argv)
    except BrokenPipeError:
        # The reader went away: say nothing more, and keep the interpreter's final flush from raising again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE


def run(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return USAGE_ERROR
    if args.root is None:
        args.root = template_root()
    if args.command not in WITHOUT_CHECKOUT and (args.root is None or not is_checkout(args.root)):
        print(missing_checkout(args.root), file=sys.stderr)
        return USAGE_ERROR
    code = int(args.func(args) or 0)
    sys.stdout.flush()  # a closed pipe shows here, inside the handler above, not at interpreter exit
    return code


if __name__ == "__main__":
    sys.exit(main())
