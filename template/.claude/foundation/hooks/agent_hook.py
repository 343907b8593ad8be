"""The foundation's guard for Codex, Copilot and Cursor: one guard core, one policy, one audit log.

    python3 .claude/foundation/hooks/agent_hook.py codex|copilot|cursor   (wired in the agent's hook file)

The agent's pre-tool event arrives on stdin; adapters.py translates it into the event guard_core decides on and
the decision into the agent's answer. Nothing else differs from Claude Code's guard.py: the same decisions, the
same deadline, the same audit record (naming the agent), the same fail-closed block (exit 2, reason on stderr).
Kept small because Python compiles the script it starts with on every call; the rest is imported with its
bytecode cached (see guard.py). No os either, whose import is most of a hook's own start under `python3 -S`: the
hook command sets CLAUDE_PROJECT_DIR to the repository this file is in, where the policy and the audit log are
found. Standard library only.
"""

import sys

try:
    from posix import stat as _stat
except ImportError:  # Windows
    from nt import stat as _stat

# __file__ is absolute (Python 3.9 and later): the folders above it are found as text, unless it is unusual.
HOOKS_DIR = __file__.rpartition("/")[0]
if "\\" in __file__ or any(part in ("", ".", "..") for part in HOOKS_DIR.split("/")[1:]):
    import os  # `..` or `//` in it, or a Windows path: os normalises it, whatever its import costs

    HOOKS_DIR = os.path.dirname(os.path.abspath(__file__)).replace("\\", "/")
FOUNDATION_DIR = HOOKS_DIR.rpartition("/")[0]
sys.path.insert(0, HOOKS_DIR)
# guard.py (the cached importer) is itself imported with its bytecode cached where it caches the rest; compiled
# afresh it cost every call ~1 ms. Never a __pycache__ in the foundation folder, nor anything cached in the template.
try:
    _stat(FOUNDATION_DIR + "/policy.json")
    sys.dont_write_bytecode = False  # even under PYTHONDONTWRITEBYTECODE, as guard.cached_import does
    sys.pycache_prefix = FOUNDATION_DIR.rpartition("/")[0] + "/audit/pycache"
except OSError:
    sys.dont_write_bytecode = True

import guard  # noqa: E402

sys.dont_write_bytecode, sys.pycache_prefix = True, None  # the standard library's own cache, as ever
core = guard.cached_import("guard_core")
adapter = guard.cached_import("adapters").ADAPTERS.get(sys.argv[1] if len(sys.argv) > 1 else "")
if adapter is None:
    core.block(f"agent_hook.py needs the agent's name ({', '.join(guard.cached_import('adapters').ADAPTERS)}), got {sys.argv[1:]}")
core.run_hook(adapter)
