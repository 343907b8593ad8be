"""`agent-foundation fleet`: every team repository at once - versions, posture, skills, MCP servers, risk."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fleet",
        help="report on every team repository at once",
        description="Report on every team repository at once: foundation version, posture findings, skills, "
                    "MCP servers, high-blast-radius flags and a risk score per team; adoption, reuse, promotion "
                    "candidates and trends for the organisation. Reads team repositories, never writes to them.",
        epilog="SOURCE is a team repository folder, a folder of them, a file listing folders or git URLs (one per "
               "line, # comments), or a git URL (cloned shallow and sparse into the cache). "
               "`agent-foundation fleet merge PART.json... --json OUT` combines shards (--shard I/N) into the report "
               "one run gives. See docs/fleet.md.",
    )
    parser.add_argument("sources", nargs="+", metavar="SOURCE", help="repository folder, folder of repositories, list file or git URL; or `merge PART.json...`")
    parser.add_argument("--latest", metavar="VERSION", help="the latest release (default: the highest semver tag of --root)")
    parser.add_argument("--cache", type=Path, default=None, metavar="DIR", help="where git URLs are cloned (default: ~/.cache/agent-foundation/fleet)")
    parser.add_argument("--offline", action="store_true", help="use cached clones as they are; never contact a remote")
    parser.add_argument("--jobs", type=int, default=None, metavar="N", help="parallel clones and scanning processes (default: CPU count)")
    parser.add_argument("--audit", action="append", type=Path, default=[], metavar="PATH", help="audit log file or folder of *.jsonl logs (repeatable); logs inside local repositories are read too")
    parser.add_argument("--no-repo-audit", action="store_true", help="do not read audit logs found inside local repositories")
    parser.add_argument("--record", type=Path, metavar="DB", help="store this run's figures in this SQLite file and show trends")
    parser.add_argument("--history", type=Path, metavar="DB", help="show trends from this SQLite file without recording")
    parser.add_argument("--recorded-at", metavar="ISO-TIME", help=argparse.SUPPRESS)  # back-fill and tests
    parser.add_argument("--similarity", type=float, default=None, metavar="J", help="Jaccard similarity for promotion candidates (default 0.5)")
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE", help="write the report as JSON (docs/fleet-schema.json) to FILE or stdout")
    parser.add_argument("--markdown", nargs="?", const="-", metavar="FILE", help="write a Markdown report to FILE or stdout")
    parser.add_argument("--html", metavar="FILE", help="write a self-contained HTML page with charts")
    parser.add_argument("--sarif", metavar="FILE", help="write every repository's posture findings as SARIF 2.1.0 (for code scanning)")
    parser.add_argument("--top", type=int, default=25, metavar="N", help="rows shown in the terminal table (default 25; 0 = all)")
    parser.add_argument("--shard", metavar="I/N", help="scan only shard I of N (by a hash of each source) and write its part with --json, for `fleet merge`")
    parser.add_argument("--incremental", type=Path, metavar="STATE", help="reuse the rows of repositories whose HEAD (or, without git, files) did not change since the run that wrote STATE")
    parser.add_argument("--no-git-history", action="store_true", help="do not read git history for dates (adoption lag, onboarding time)")
    parser.add_argument("--skill-template", type=Path, metavar="FILE", help="the org's SKILL.md skeleton, whose lines never make two skills alike (default: foundation/skill-template.md)")
    parser.add_argument("--fail-on-risk", type=int, default=None, metavar="SCORE", help="exit 1 when any repository's risk score is at least SCORE (for CI)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from .command import run

    return run(args)
