"""Run a rollout (or merge shards' reports) from the command line and print the report in the fleet tool's formats."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..fleet.command import open_output, refuse_missing_sources
from . import core, output, report

# Options of a rollout that mean nothing to `rollout merge`, with their defaults
_ROLLOUT_ONLY = {"push": False, "jobs": None, "branch_prefix": "foundation/", "workdir": None, "template": None,
                 "timeout": 900, "shard": None, "fast_path": True}


def run(args: argparse.Namespace) -> int:
    if args.version == "merge":
        return run_merge(args)
    args.jobs = args.jobs if args.jobs is not None else os.cpu_count() or 2
    if args.jobs < 1:
        return _bad("--jobs must be at least 1")
    if refuse_missing_sources("rollout", args.sources):
        return 2
    prefix = args.branch_prefix
    if not prefix or prefix.startswith("-") or " " in prefix or ".." in prefix:
        return _bad(f"--branch-prefix {prefix!r} does not make a valid branch name")
    try:
        shard = core.Shard.parse(args.shard) if args.shard else None
    except ValueError as error:
        return _bad(str(error))
    template = args.template
    if template and not core.sources.is_url(template):
        template = str(Path(template).expanduser().resolve())
        if not Path(template).is_dir():
            return _bad(f"--template {args.template} does not exist")
    root = Path(args.root).resolve() if args.root else None
    fallback = root / "template" / core.UPDATE_PY if root else None
    reference = Path(template) if template and Path(template).is_dir() else root
    if reference is not None and not (reference / ".git").exists():
        reference = None
    opts = core.Options(version=args.version, workdir=args.workdir or core.default_workdir(), push=args.push,
                        branch_prefix=prefix, template=template, timeout=args.timeout, fallback_update_py=fallback,
                        reference=reference, fast=args.fast_path)
    live = sys.stderr.isatty()

    def progress(row: dict[str, Any]) -> None:
        if live:
            print(f"  {output.STATUS_WORD[row['status']]:<15} {row['team'] or row['source']}", file=sys.stderr, flush=True)

    report_path = Path(args.json).expanduser().resolve() if args.json and args.json != "-" else None
    try:
        data = core.rollout(opts, args.sources, jobs=args.jobs, progress=progress, shard=shard, report_path=report_path)
    except ValueError as error:
        return _bad(str(error))
    return _show(args, data)


def run_merge(args: argparse.Namespace) -> int:
    given = [name for name, default in _ROLLOUT_ONLY.items() if getattr(args, name) != default]
    if given:
        return _bad(f"rollout merge takes report files and --json/--markdown only, not --{given[0].replace('_', '-')}")
    try:
        parts = [(name, report.load_part(Path(name))) for name in args.sources]
        data = report.merge(parts)
    except report.MergeError as error:
        return _bad(f"merge: {error}")
    if args.json and args.json != "-":
        report.write_atomically(Path(args.json), report.dumps(data))
    return _show(args, data)


def _show(args: argparse.Namespace, data: dict[str, Any]) -> int:
    wrote_stdout = False
    if args.json == "-":
        sys.stdout.write(report.dumps(data))
        wrote_stdout = True
    if args.markdown:
        with open_output(args.markdown) as out:
            out.write(output.markdown(data))
        wrote_stdout |= args.markdown == "-"
    if not wrote_stdout:
        output.show(data)
    return 0 if data["ok"] else 1


def _bad(message: str) -> int:
    print(f"agent-foundation rollout: {message}", file=sys.stderr)
    return 2
