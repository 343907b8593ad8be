"""The grammar of a policy rule's `match` (foundation/policy.yml, `commands`).

Every key of a rule's `match` must hold (any_of: at least one alternative, each merged with the keys beside it).
The guard matches with it (guard_core.py); the foundation's loader validates policy.yml with validate_match at
render time, so a broken rule fails the render naming the rule. See docs/guard.md. Standard library only.
"""

# Booleans must be true (leave the key out otherwise).
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
