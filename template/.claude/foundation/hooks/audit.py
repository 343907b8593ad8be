"""The audit log: one JSON line per agent event, hash-chained, safe under concurrent sessions.

    python3 .claude/foundation/hooks/audit.py hook            (wired in settings.json; reads the event on stdin)
    python3 .claude/foundation/hooks/audit.py verify [LOG]    (checks the chain; exit 1 with line numbers if broken)

As a module (the guard writes its decisions with it): record_event(event, decision, reason, policy), verify(log),
make_record, redact, append. The code lives in audit_core.py; this file stays small on purpose. Python compiles
the script it is started with on every run (about 3 ms for the whole audit code, a third more than starting
Python at all), but caches what it imports: in a rendered repository audit_core is imported with its bytecode cached under
.claude/audit/pycache, outside the foundation folder (nothing appears beside this file), git-ignored and protected
like the log. Elsewhere (the template itself) nothing is cached.
Standard library only.
"""

import sys


def _import_core():
    guard = sys.modules.get("guard")
    if guard is not None:  # imported by the guard: its cached importer, its folders
        return guard.cached_import("audit_core")
    # Not os, whose import is most of a hook's own start under `python3 -S` (see hostos.py); __file__ is absolute.
    here = __file__.rpartition("/")[0]
    if "\\" in __file__ or any(part in ("", ".", "..") for part in here.split("/")[1:]):
        import os  # `..` or `//` in it, or a Windows path: os normalises it

        here = os.path.dirname(os.path.abspath(__file__)).replace("\\", "/")
    if here not in sys.path:
        sys.path.insert(0, here)
    foundation = here.rpartition("/")[0]
    try:
        from posix import stat
    except ImportError:  # Windows
        from nt import stat
    try:
        stat(foundation + "/policy.json")
    except OSError:
        import audit_core  # not a rendered repository (e.g. the template itself): no cache

        return audit_core
    saved = sys.dont_write_bytecode, sys.pycache_prefix
    sys.dont_write_bytecode = False
    sys.pycache_prefix = foundation.rpartition("/")[0] + "/audit/pycache"
    try:
        import audit_core
    finally:
        sys.dont_write_bytecode, sys.pycache_prefix = saved
    return audit_core


_core = _import_core()

USAGE = """usage: python3 .claude/foundation/hooks/audit.py verify [LOG]
  checks the audit log's hash chain; names every edited, deleted or truncated line.
Claude Code runs `audit.py hook` on every agent event, with the event as JSON on stdin."""


def main(argv: list) -> None:
    if argv[1:] in (["-h"], ["--help"]):
        print(USAGE)
        sys.exit(0)
    if len(argv) < 2 or (argv[1] == "hook" and sys.stdin.isatty()):  # a person, not the client: nothing is recorded
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    _core.run(argv)


if __name__ == "__main__":
    main(sys.argv)

from audit_core import (  # noqa: E402  the public API, for the guard and for the platform's tools
    DEFAULT_LOG,
    GENESIS,
    SCHEMA_VERSION,
    append,
    line_hash,
    load_policy,
    log_path,
    make_record,
    read_head,
    record_event,
    redact,
    redact_text,
    verify,
)

__all__ = [
    "DEFAULT_LOG", "GENESIS", "SCHEMA_VERSION", "append", "line_hash", "load_policy", "log_path",
    "make_record", "read_head", "record_event", "redact", "redact_text", "verify",
]
