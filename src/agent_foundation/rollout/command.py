"""Run a rollout from the command line and print its report in the fleet tool's formats."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..fleet.command import open_output
from ..fleet import output_json
from . import core, output


def run(args: argparse.Namespace) -> int:
    args.jobs = args.jobs or os.cpu_count() or 2
    if args.jobs < 1:
        print("agent-foundation rollout: --jobs must be at least 1", file=sys.stderr)
        return 2
    prefix = args.branch_prefix
    if not prefix or prefix.startswith("-") or " " in prefix or ".." in prefix:
        print(f"agent-foundation rollout: --branch-prefix {prefix!r} does not make a valid branch name", file=sys.stderr)
        return 2
    template = args.template
    if template and not core.sources.is_url(template):
        template = str(Path(template).expanduser().resolve())
        if not Path(template).is_dir():
            print(f"agent-foundation rollout: --template {args.template} does not exist", file=sys.stderr)
            return 2
    root = Path(args.root).resolve() if args.root else None
    fallback = root / "template" / core.UPDATE_PY if root else None
    reference = Path(template) if template and Path(template).is_dir() else root
    if reference is not None and not (reference / ".git").exists():
        reference = None
    opts = core.Options(version=args.version, workdir=args.workdir or core.default_workdir(), push=args.push,
                        branch_prefix=prefix, template=template, timeout=args.timeout, fallback_update_py=fallback,
                        reference=reference)
    live = sys.stderr.isatty()

    def progress(row: dict[str, Any]) -> None:
        if live:
            print(f"  {output.STATUS_WORD[row['status']]:<15} {row['team'] or row['source']}", file=sys.stderr, flush=True)

    try:
        data = core.rollout(opts, args.sources, jobs=args.jobs, progress=progress)
    except ValueError as error:
        print(f"agent-foundation rollout: {error}", file=sys.stderr)
        return 2

    wrote_stdout = False
    if args.json:
        with open_output(args.json) as out:
            output_json.write(data, out)
        wrote_stdout |= args.json == "-"
    if args.markdown:
        with open_output(args.markdown) as out:
            out.write(output.markdown(data))
        wrote_stdout |= args.markdown == "-"
    if not wrote_stdout:
        output.show(data)
    return 0 if data["ok"] else 1
