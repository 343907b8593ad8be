"""The foundation's guard for Codex, Copilot and Cursor: one guard core, one policy, one audit log.

    python3 .claude/foundation/hooks/agent_hook.py codex|copilot|cursor   (wired in the agent's hook file)

The agent's pre-tool event arrives on stdin; adapters.py translates it into the event guard_core decides on and
the decision into the agent's answer. Nothing else differs from Claude Code's guard.py: the same decisions, the
same deadline, the same audit record (naming the agent), the same fail-closed block (exit 2, reason on stderr).
Kept small because Python compiles the script it starts with on every call; the rest is imported with its
bytecode cached (see guard.py). Standard library only.
"""

import os
import sys

HOOKS_DIR = os.path.dirname(os.path.abspath(__file__))
FOUNDATION_DIR = os.path.dirname(HOOKS_DIR)
sys.path.insert(0, HOOKS_DIR)
# The repository this file was rendered into, whatever folder the agent runs from or what a parent process set:
# the guard's policy and the audit log are found from it.
os.environ["CLAUDE_PROJECT_DIR"] = os.path.dirname(os.path.dirname(FOUNDATION_DIR))
# guard.py (the cached importer) is itself imported with its bytecode cached where it caches the rest; compiled
# afresh it cost every call ~1 ms. Never a __pycache__ in the foundation folder, nor anything cached in the template.
if os.path.exists(os.path.join(FOUNDATION_DIR, "policy.json")):
    sys.pycache_prefix = os.path.join(os.path.dirname(FOUNDATION_DIR), "audit", "pycache")
else:
    sys.dont_write_bytecode = True

import guard  # noqa: E402

sys.dont_write_bytecode = True

core = guard.cached_import("guard_core")
adapter = guard.cached_import("adapters").ADAPTERS.get(sys.argv[1] if len(sys.argv) > 1 else "")
if adapter is None:
    core.block(f"agent_hook.py needs the agent's name ({', '.join(guard.cached_import('adapters').ADAPTERS)}), got {sys.argv[1:]}")
core.run_hook(adapter)
