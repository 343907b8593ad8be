"""The foundation's guard: a PreToolUse hook that enforces .claude/foundation/policy.json.

    python3 .claude/foundation/hooks/guard.py                   (wired in settings.json; event JSON on stdin)
    python3 .claude/foundation/hooks/guard.py explain "COMMAND" (prints the decision and how it was reached)

The rules are data (policy.json, rendered from the foundation's policy.yml). This file holds the `match` grammar
(MATCH_KEYS, validate_match: the foundation's loader checks policy.yml with it at render time) and starts the
hook; the decisions live in guard_core.py, shell parsing in shell.py and unwrap.py. Python compiles the script it
is started with on every run but caches what it imports, so this file stays small: in a rendered repository the
modules are imported with their bytecode cached under .claude/audit/pycache (beside the audit log's cache, outside
the foundation folder, git-ignored, and protected from agents like the log). Elsewhere nothing is cached.

Fails closed: any error, malformed input, missing policy or a missed deadline ends in a block (exit 2, reason on
stderr), and the audit record of the decision is written by this same process. Standard library only.
"""

import os
import sys

HOOKS_DIR = os.path.dirname(os.path.abspath(__file__))


def cached_import(name: str):
    """Import a sibling module, caching its bytecode under .claude/audit/pycache in a rendered repository."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    if HOOKS_DIR not in sys.path:
        sys.path.insert(0, HOOKS_DIR)
    foundation = os.path.dirname(HOOKS_DIR)
    if not os.path.exists(os.path.join(foundation, "policy.json")):
        return __import__(name)  # the template itself: nothing cached
    saved = sys.dont_write_bytecode, sys.pycache_prefix
    sys.dont_write_bytecode = False
    sys.pycache_prefix = os.path.join(os.path.dirname(foundation), "audit", "pycache")
    try:
        return __import__(name)
    finally:
        sys.dont_write_bytecode, sys.pycache_prefix = saved


# The match grammar: every key of a rule's `match` must hold (any_of: at least one alternative, each merged
# with the keys beside it). Booleans must be true. See docs/guard.md.
MATCH_KEYS = {
    "program": "names", "subcommand": "names", "subcommand_within": "int", "args_any": "names",
    "flags_any": "flags", "flags_all": "flag_groups", "flags_none": "flags",
    "refspec_plus": "bool", "refspec_delete": "bool", "target_outside_repo": "bool", "target_critical": "bool",
    "target_device": "bool", "remote_target": "bool", "upload_data": "bool", "setuid": "bool",
    "pipe_into_shell": "bool", "raw_network_redirect": "bool", "reads_secret": "bool", "writes_protected": "bool",
    "secret_in_url": "bool", "any_of": "alternatives",
}


def validate_match(match: object) -> list[str]:
    """Why a rule's `match` is not valid grammar; empty when it is. Used by the foundation's loader at render time."""
    if not isinstance(match, dict) or not match:
        return ["match must be a non-empty mapping"]
    errors = []
    for key, value in match.items():
        kind = MATCH_KEYS.get(key)
        if kind is None:
            errors.append(f"unknown match key {key!r} (known: {', '.join(sorted(MATCH_KEYS))})")
        elif kind == "names":
            values = [value] if isinstance(value, str) else value
            if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
                errors.append(f"{key} must be a name or a non-empty list of names")
        elif kind == "int":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                errors.append(f"{key} must be a positive integer")
        elif kind == "flags":
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.startswith("-") for v in value):
                errors.append(f"{key} must be a non-empty list of flags starting with -")
        elif kind == "flag_groups":
            if not isinstance(value, list) or not value or not all(
                isinstance(g, list) and g and all(isinstance(v, str) and v.startswith("-") for v in g) for g in value
            ):
                errors.append(f"{key} must be a list of non-empty flag lists, e.g. [[-r, -R, --recursive]]")
        elif kind == "bool":
            if value is not True:
                errors.append(f"{key} must be true (leave it out otherwise)")
        elif kind == "alternatives":
            if not isinstance(value, list) or not value:
                errors.append("any_of must be a non-empty list of match mappings")
            else:
                for index, alternative in enumerate(value):
                    errors += [f"any_of[{index}]: {e}" for e in validate_match(alternative)]
    return errors


def __getattr__(name: str):
    """`import guard; guard.decide(...)`: everything else comes from guard_core."""
    return getattr(cached_import("guard_core"), name)


def main(argv: list) -> None:
    sys.dont_write_bytecode = True  # never leave __pycache__ in the foundation folder
    if __name__ == "__main__":
        sys.modules.setdefault("guard", sys.modules["__main__"])
    core = cached_import("guard_core")
    if len(argv) > 2 and argv[1] == "explain":
        sys.exit(core.explain(" ".join(argv[2:])))
    core.run_hook()


if __name__ == "__main__":
    main(sys.argv)
