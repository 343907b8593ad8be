"""The foundation's guard: a PreToolUse hook that enforces .claude/foundation/policy.json.

    python3 .claude/foundation/hooks/guard.py                   (wired in settings.json; event JSON on stdin)
    python3 .claude/foundation/hooks/guard.py explain "COMMAND" (prints the decision and how it was reached)

The rules are data (policy.json, rendered from the foundation's policy.yml). This file only starts the hook: the
`match` grammar lives in match_grammar.py, the decisions and this command line in guard_core.py, shell parsing in
shell.py and unwrap.py. Python compiles the script it is started with on every run (its size is paid on every tool
call) but caches what it imports, so this file stays small: in a rendered repository the
modules are imported with their bytecode cached under .claude/audit/pycache (beside the audit log's cache, outside
the foundation folder, git-ignored, and protected from agents like the log). Elsewhere nothing is cached.

Fails closed: any error, malformed input, missing policy or a missed deadline ends in a block (exit 2, reason on
stderr), and the audit record of the decision is written by this same process. Standard library only.
"""

import sys

try:  # not os, whose import is most of the guard's own start under `python3 -S` (see hostos.py)
    from posix import stat as _stat
except ImportError:  # Windows
    from nt import stat as _stat

# __file__ is absolute (Python 3.9 and later): the folders above it are found as text, unless it is unusual.
HOOKS_DIR = __file__.rpartition("/")[0]
if "\\" in __file__ or any(part in ("", ".", "..") for part in HOOKS_DIR.split("/")[1:]):
    import os  # `..` or `//` in it, or a Windows path: os normalises it, whatever its import costs

    HOOKS_DIR = os.path.dirname(os.path.abspath(__file__)).replace("\\", "/")
FOUNDATION_DIR = HOOKS_DIR.rpartition("/")[0]
PYCACHE_DIR = FOUNDATION_DIR.rpartition("/")[0] + "/audit/pycache"


def rendered() -> bool:
    """Whether this is a team repository (policy.json rendered beside the hooks), not the template itself."""
    try:
        _stat(FOUNDATION_DIR + "/policy.json")
    except OSError:
        return False
    return True


def cached_import(name: str):
    """Import a sibling module, caching its bytecode under .claude/audit/pycache in a rendered repository."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    if HOOKS_DIR not in sys.path:
        sys.path.insert(0, HOOKS_DIR)
    if not rendered():
        return __import__(name)  # the template itself: nothing cached
    saved = sys.dont_write_bytecode, sys.pycache_prefix
    sys.dont_write_bytecode = False
    sys.pycache_prefix = PYCACHE_DIR
    try:
        return __import__(name)
    finally:
        sys.dont_write_bytecode, sys.pycache_prefix = saved


def __getattr__(name: str):
    """`import guard; guard.decide(...)`: everything else comes from guard_core."""
    return getattr(cached_import("guard_core"), name)


if __name__ == "__main__":
    sys.dont_write_bytecode = True  # never leave __pycache__ in the foundation folder
    sys.modules.setdefault("guard", sys.modules["__main__"])
    cached_import("guard_core").main(sys.argv)
