"""`agent-foundation rollout`: bring a foundation release to every team repository, on a branch per repository."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rollout",
        help="roll a release out to every team repository",
        description="For each team repository behind VERSION: clone it into the work folder, create the branch "
                    "<prefix>VERSION from its default branch, run the repository's own .claude/foundation/update.py "
                    "--vcs-ref VERSION, and commit the result with the CHANGELOG entries in the message. With --push, "
                    "push that branch to the repository's remote (nothing leaves the machine without it). A conflict, "
                    "broken JSON or a failing posture check stops that repository only and leaves its branch unpushed. "
                    "A second run resumes: repositories already on VERSION, or whose branch is already pushed, are skipped.",
        epilog="`agent-foundation rollout merge PART.json... [--json OUT] [--markdown OUT]` merges the reports of "
               "--shard runs (or a killed run's .journal.jsonl) into the report one run gives. "
               "SOURCE is what `fleet` takes: a team repository (a working copy: its origin remote is cloned; or a bare "
               "repository), a folder of them, a file listing them (one per line, # comments), or a git URL. "
               "Exit status: 0 when every repository is updated, current or already pushed; 1 when any conflicted "
               "or failed; 2 for bad arguments. See docs/rollout.md.",
    )
    parser.add_argument("version", metavar="VERSION", help="the release to roll out, e.g. v0.2.0 (a tag of the template)")
    parser.add_argument("sources", nargs="+", metavar="SOURCE", help="repository, folder of repositories, list file or git URL")
    parser.add_argument("--push", action="store_true", help="push each updated branch to the repository's remote")
    parser.add_argument("--jobs", type=int, default=None, metavar="N", help="repositories updated in parallel (default: CPU count)")
    parser.add_argument("--branch-prefix", default="foundation/", metavar="PREFIX", help="branch name prefix (default foundation/)")
    parser.add_argument("--workdir", type=Path, default=None, metavar="DIR",
                        help="where the clones live between runs (default ~/.cache/agent-foundation/rollout)")
    parser.add_argument("--template", default=None, metavar="PATH_OR_URL",
                        help="take the release from this template instead of each repository's recorded _src_path "
                             "(the recorded source is kept in the committed answers)")
    parser.add_argument("--timeout", type=int, default=900, metavar="SECONDS", help="time limit for one repository's update (default 900)")
    parser.add_argument("--no-fast-path", dest="fast_path", action="store_false",
                        help="send every repository through its own update.py (by default a repository with no team edit "
                             "of a foundation file is brought to the release by rendering it directly)")
    parser.add_argument("--shard", default=None, metavar="I/N",
                        help="roll out only shard I of N (positions I-1, I-1+N, ... of the sources); merge the shards' "
                             "reports with `rollout merge`")
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE", help="write the report as JSON (docs/rollout-schema.json) to FILE or stdout; a FILE is kept current as "
                             "the run goes (default while running: WORKDIR/reports/VERSION.json)")
    parser.add_argument("--markdown", nargs="?", const="-", metavar="FILE", help="write a Markdown report to FILE or stdout")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from .command import run

    return run(args)
