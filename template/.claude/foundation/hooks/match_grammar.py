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
    "secret_in_url": "bool", "any_of": "alternatives", "writes_outside": "bool", "unresolved": "bool",
    "exfiltrates": "bool", "control_plane_change": "bool", "data_change": "bool", "unclassified": "bool",
    "privilege": "bool",
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


# ------------------------------------------------------------------ the program table (foundation/programs.yml)

HANDLERS = ("plain", "wrapper", "shell", "interpreter", "find", "xargs", "parallel", "git", "eval", "source", "cd",
            "assign", "unset", "keyword", "loop", "su", "pwsh", "cmd", "alias")
SELECTORS = ("all", "first", "last", "rest", "but_last", "none")
OPTION_ROLES = ("read", "write", "delete", "send", "send_data", "send_literal", "write_dir", "cwd", "command", "argv",
                "archive", "archive_dir", "in_place", "mount", "writes_root", "remote_name", "program_command", "program_command_file", "program_dir", "recipes", "recipes_text", "deletes_sources", "reveals_secrets")
MCP_ROLES = ("path", "command", "code", "url", "sql")
LANGUAGE_CAPABILITIES = ("delete", "write", "read", "network", "execute", "eval", "dynamic", "home")
# field -> kind; a record's examples are checked by the tests (they run the guard), not here.
PROGRAM_FIELDS = {
    "also": "names", "handler": "handler", "value_options": "names", "skip": "int", "skip_unless": "names",
    "reads": "selector", "writes": "selector", "deletes": "selector", "sends": "selector", "runs": "selector",
    "options": "roles", "network": "bool", "downloads": "bool", "decoder": "bool", "privilege": "bool",
    "command_after": "int", "script_after": "int", "command_values": "names", "control_plane": "control_plane",
    "sql": "sql", "subcommands": "subcommands", "wrapper": "wrapper", "language": "language", "examples": "examples", "lookup_options": "names",
    "prints_temp_path": "bool", "runs_files": "names", "script_dir_values": "names",
    "lists_paths": "bool", "variable_paths": "bool", "script_sends": "names", "reveals_secrets": "bool",
    "filters": "names", "builtins": "words", "switches": "words", "command_language": "command_language",
    "plus_commands": "bool", "mode": "mode", "settings": "settings", "aliases": "aliases", "remotes": "remotes",
}
# A command language's fields (programs.yml, command_languages): text fields, and lists of words.
COMMAND_LANGUAGE_TEXT = ("separator", "skip")
COMMAND_LANGUAGE_LISTS = ("shell", "shell_anywhere", "modifiers", "code_commands", "code_calls")


def validate_programs(table: object) -> list[tuple[str, str, str]]:
    """(field, problem, fix) for each problem of programs.yml; empty when it is valid."""
    if not isinstance(table, dict) or not isinstance(table.get("programs"), dict) or not table["programs"]:
        return [("programs", "must be a mapping of program names to records", "restore programs.yml from the last release")]
    languages = table.get("languages") if isinstance(table.get("languages"), dict) else {}
    command_languages = table.get("command_languages", {})
    errors = []
    if not isinstance(command_languages, dict):
        errors.append(("command_languages", "must map language names to specs", "e.g. command_languages: {less: {shell: [\"!\"]}}"))
        command_languages = {}
    for name, spec in command_languages.items():
        errors += _validate_command_language(f"command_languages.{name}", spec)
    option_env = table.get("option_env", {})
    if not isinstance(option_env, dict) or any(not isinstance(v, str) or v not in table["programs"] for v in option_env.values()):
        errors.append(("option_env", "must map variable names to programs of the table",
                       "e.g. option_env: {LESS: less}, with a record for less under programs"))
    for key in ("mutating_verbs", "sql_destructive", "mcp_write_verbs", "command_env", "library_env"):
        if not _names(table.get(key)):
            errors.append((key, "must be a non-empty list of words", f"list the words, e.g. {key}: [delete, drop]"))
    for name, language in languages.items():
        for field in LANGUAGE_CAPABILITIES + ("code_options",):
            if not isinstance((language or {}).get(field, []), list):
                errors.append((f"languages.{name}.{field}", "must be a list of names", "list API names, e.g. [os.remove]"))
    fields = table.get("mcp_fields")
    if not isinstance(fields, dict) or any(not _names(v) for v in fields.values()) or set(fields) - set(MCP_ROLES):
        errors.append(("mcp_fields", f"must map roles ({', '.join(MCP_ROLES)}) to lists of field names",
                       "e.g. mcp_fields: {path: [path, file_path], command: [command]}"))
    seen: dict[str, str] = {}
    for name, record in table["programs"].items():
        errors += _validate_record(f"programs.{name}", record, languages, command_languages)
        for alias in [name, *((record or {}).get("also") or [])]:
            if alias in seen:
                errors.append((f"programs.{name}", f"{alias!r} is already described by programs.{seen[alias]}",
                               "keep one record per program: merge them, or drop the name from one `also`"))
            seen[str(alias)] = name
    return errors


def _names(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v for v in value)


def _validate_command_language(where: str, spec: object) -> list[tuple[str, str, str]]:
    if not isinstance(spec, dict):
        return [(where, "must be a mapping", "give its fields, e.g. {shell: [\"!\"]}")]
    errors = []
    for field, value in spec.items():
        if field in COMMAND_LANGUAGE_TEXT:
            if not isinstance(value, str) or not value:
                errors.append((f"{where}.{field}", "must be a non-empty text", "e.g. separator: \"|\""))
        elif field in COMMAND_LANGUAGE_LISTS:
            if not _names(value):
                errors.append((f"{where}.{field}", "must be a non-empty list of words", "e.g. shell: [\"!\"]"))
        else:
            errors.append((f"{where}.{field}", "is not a known field",
                           f"use one of: {', '.join(COMMAND_LANGUAGE_TEXT + COMMAND_LANGUAGE_LISTS)}"))
    return errors


def _validate_record(where: str, record: object, languages: dict, command_languages: dict | None = None) -> list[tuple[str, str, str]]:
    if not isinstance(record, dict):
        return [(where, "must be a mapping", "give the record's fields, e.g. {reads: none, writes: all}")]
    errors = []
    for field, value in record.items():
        kind = PROGRAM_FIELDS.get(field)
        at = f"{where}.{field}"
        if kind is None:
            errors.append((at, "is not a known field", f"use one of: {', '.join(sorted(PROGRAM_FIELDS))}"))
        elif kind == "names" and not _names(value):
            errors.append((at, "must be a non-empty list of names", "list names, e.g. [-o, --output]"))
        elif kind == "words" and not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
            errors.append((at, "must map words to what they stand for", "e.g. {del: rm, rd: rm -r}"))
        elif kind == "handler" and value not in HANDLERS:
            errors.append((at, f"{value!r} is not a handler", f"use one of: {', '.join(HANDLERS)}"))
        elif kind == "int" and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            errors.append((at, "must be a whole number", "give a count, e.g. 1"))
        elif kind == "selector" and value not in SELECTORS:
            errors.append((at, f"{value!r} is not a selector", f"use one of: {', '.join(SELECTORS)}"))
        elif kind == "bool" and not isinstance(value, bool):
            errors.append((at, "must be true or false", "write true or false"))
        elif kind == "roles" and (not isinstance(value, dict) or any(r not in OPTION_ROLES for r in value.values())):
            errors.append((at, "must map options to roles", f"roles are: {', '.join(OPTION_ROLES)}"))
        elif kind == "language" and value not in languages:
            errors.append((at, f"{value!r} has no entry under languages", "add the language, or name an existing one"))
        elif kind == "command_language" and value not in (command_languages or {}):
            errors.append((at, f"{value!r} has no entry under command_languages", "add the command language, or name an existing one"))
        elif kind == "mode" and not (isinstance(value, dict) and set(value) <= {"positional", "options"} and value and (
                isinstance(value.get("positional", 0), int) and not isinstance(value.get("positional"), bool))
                and _names(value.get("options", ["-"]))):
            errors.append((at, "must be {positional: N} or {options: [...]}", "e.g. mode: {options: [-m, --mode]}"))
        elif kind == "settings" and not (isinstance(value, dict) and set(value) <= {"options", "env"} and (
                isinstance(value.get("options", {}), dict) and all(v in ("value", "variable") for v in value.get("options", {}).values()))
                and (isinstance(value.get("env", {}), dict) and set(value.get("env", {})) <= {"count", "key", "value", "pairs"})):
            errors.append((at, "must be {options: {option: value | variable}, env: {count, key, value, pairs}}",
                           "e.g. settings: {options: {-c: value}}"))
        elif kind == "remotes" and not (isinstance(value, dict) and set(value) <= {"set_by", "keys", "forcing", "sending_verbs"}
                                        and all(_names(value.get(k, ["x"])) for k in ("set_by", "keys", "sending_verbs"))
                                        and isinstance(value.get("forcing", {}), dict)):
            errors.append((at, "must be {set_by: [verbs], keys: [globs], forcing: {glob: value prefix}, sending_verbs: [verbs]}",
                           "e.g. remotes: {sending_verbs: [push]}"))
        elif kind == "aliases" and not (isinstance(value, dict) and isinstance(value.get("key"), str) and value["key"]
                                        and isinstance(value.get("shell", ""), str)):
            errors.append((at, "must be {key: prefix, shell: marker}", "e.g. aliases: {key: alias., shell: \"!\"}"))
        elif kind == "control_plane" and value is not None and not (
                isinstance(value, dict) and isinstance(value.get("within", value.get("verb_at")), int)
                and isinstance(value.get("read_only"), list) and isinstance(value.get("dry_run", []), list)
                and isinstance(value.get("secret_reads", []), list)):
            errors.append((at, "must give verb_at (where the verb is) or within (how far to look), and read_only (verbs)",
                           "e.g. {verb_at: 0, read_only: [get, list], dry_run: [--dry-run]}"))
        elif kind == "sql" and not (isinstance(value, dict) and isinstance(value.get("options", []), list)
                                    and isinstance(value.get("file_options", []), list)):
            errors.append((at, "must give options and file_options lists", "e.g. {options: [-c], file_options: [-f]}"))
        elif kind == "wrapper" and not (isinstance(value, dict) and isinstance(value.get("skip", 0), int)):
            errors.append((at, "must be {skip: N}", "give how many positionals come before the wrapped command"))
        elif kind == "subcommands":
            if not isinstance(value, dict):
                errors.append((at, "must map verbs to records", "e.g. {push: {network: true}}"))
            else:
                for verb, sub in value.items():
                    errors += _validate_record(f"{at}.{verb}", sub, languages, command_languages)
        elif kind == "examples":
            if not isinstance(value, list) or not all(
                    isinstance(e, dict) and isinstance(e.get("command"), str) and e.get("expect") in ("allow", "ask", "deny") for e in value):
                errors.append((at, "must be a list of {command, expect: allow | ask | deny}", "e.g. - {command: \"rm -rf /\", expect: deny}"))
    return errors
