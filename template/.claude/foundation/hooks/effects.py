"""Stage 2 of the guard: what each program a command runs would do, as effects.

    derive(invocation, table) -> list[(kind, target, why)]

Kinds: read, write, delete (files), send (local content reaching the network), network (talks to a host),
privilege, control (a control-plane change), data_change (a destructive database statement), unclassified (code
or a command the guard cannot classify), unresolved (a program name only known at run time).

Stage 1 (shell.py, unwrap.py) parsed and expanded the shell and found every program a command really runs; this
module reads the program table (policy.json's `programs`) to say what each one does with its arguments; stage 3
(guard_core.py) decides by policy. A program the table does not know gets the pessimistic default: every
path-like argument or option value is a potential read and a potential write. Standard library only.
"""

from __future__ import annotations

from unwrap import END, EVAL, FLAG_ROLES, UNKNOWN, option_values, split_positionals

ROLE_EFFECTS = {"read": ("read",), "write": ("write",), "delete": ("delete",), "write_dir": ("write",),
                "archive_dir": ("write",), "send": ("send", "read"), "mount": ("write",)}
LOOPBACK = ("localhost", "127.", "[::1]", "0.0.0.0", "host.docker.internal")


def derive(invocation, table) -> list[tuple[str, str, str]]:
    out = list(invocation.effects)
    out += [("read", path, "redirected into it") for path in invocation.inputs]
    out += [("write", path, "redirected to it") for path in invocation.outputs]
    if invocation.unresolved:
        out.append(("unresolved", invocation.display.split(" ", 1)[0], f"the program name is only known at run time: {invocation.display[:80]}"))
    if invocation.program.startswith(":"):
        return out
    record = invocation.record
    if record is None:
        # Code read as shell (`node -e "rm -rf /"`) is a guess: its words get no pessimistic default.
        guessed = any(step.endswith("read as shell") for step in invocation.via)
        return out if guessed else out + pessimistic(invocation)
    return out + described(invocation, record, table)


def pessimistic(invocation) -> list[tuple[str, str, str]]:
    """A program nobody described: every path-like argument or option value may be read and may be written."""
    out = []
    why = f"{invocation.program} is not in the program table, so each path it is given may be written"
    for arg in invocation.args:
        value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        out.append(("read", arg, "an argument of a program the table does not know"))
        if value != arg:
            out.append(("read", value, "an option value of a program the table does not know"))
        if path_like(value):
            out.append(("write", value, why))
    return out


def path_like(text: str) -> bool:
    text = text.replace(EVAL, "")
    if not text or text.startswith("-") or "://" in text or UNKNOWN in text.split("/", 1)[0] and "/" not in text:
        return False
    return text.startswith(("/", "~", "./", "../")) or text in (".", "..") or "/" in text and " " not in text


def described(invocation, record: dict, table) -> list[tuple[str, str, str]]:
    args = invocation.args
    out: list[tuple[str, str, str]] = []
    roles = record.get("options") or {}
    with_value = set(record.get("value_options") or ()) | {o for o, r in roles.items() if r not in FLAG_ROLES}
    for option, value in option_values(args, with_value):
        out += option_effects(roles.get(option), option, value)
    out += [e for a in args if roles.get(a) == "writes_root" for e in option_effects("writes_root", a, "")]
    out += [("secret_read", a, f"{invocation.program} {a} prints secret keys") for a in args if roles.get(a) == "reveals_secrets"]
    found, _ = split_positionals(args, with_value)
    found = found[record.get("depth", 0):]
    skip = record.get("skip", 0)
    if skip and any(a.split("=", 1)[0] in (record.get("skip_unless") or ()) for a in args):
        skip = 0
    files = found[skip:]
    if record.get("variable_paths"):  # make install PREFIX=/usr/local: where the build will write
        out += [("write", a.split("=", 1)[1], f"{a.split('=', 1)[0]} names where it writes")
                for a in found if "=" in a and path_like(a.split("=", 1)[1])]
    if any(roles.get(a) == "deletes_sources" for a in args):  # rsync --remove-source-files
        out += [("delete", target, "removes the files it copied") for target in files[:-1]]
    in_place = invocation.code_writes or any(roles.get(a.split("=", 1)[0]) == "in_place" or
                                             (a.startswith("-i") and roles.get("-i") == "in_place") for a in args)
    selectors = {"read": record.get("reads", "all"), "write": "all" if in_place else record.get("writes", "none"),
                 "delete": record.get("deletes", "none")}
    for kind, selector in selectors.items():
        for target in select(files, selector):
            out.append((kind, target, f"{invocation.program} {kind}s its {'files' if selector == 'all' else selector + ' argument'}"))
    if record.get("network") and loopback_only(found):
        out = [effect for effect in out if effect[0] != "send"]  # a local test server is not another host
    elif record.get("network"):
        out.append(("network", invocation.program, "a network client"))
        if invocation.stdin_from in ("local", "dynamic"):
            out.append(("send", "stdin", f"{invocation.program} sends what is piped into it ({invocation.stdin_from} content)"))
        out += [("send", path, f"{invocation.program} sends the file redirected into it") for path in invocation.inputs
                if path not in ("/dev/null", "/dev/zero")]
        for arg in found:
            if UNKNOWN + "$(" in arg or EVAL in arg:
                out.append(("send", arg, f"{invocation.program} is given the output of a command substitution ({arg[:40]!r})"))
    if record.get("reveals_secrets"):  # git credential fill, op read, pass show: prints a stored credential
        out.append(("secret_read", invocation.program, f"{invocation.program} prints stored credentials"))
    if record.get("privilege"):
        out.append(("privilege", invocation.program, "runs a command as another user"))
    plane = record.get("control_plane")
    if plane and not any(a.split("=", 1)[0] in (plane.get("dry_run") or ()) for a in args):
        verb = control_verb(found if not record.get("verb") else [record["verb"], *found], plane, table)
        secret = secret_phrase(found if not record.get("verb") else [record["verb"], *found], plane)
        if secret:
            out.append(("secret_read", secret, f"`{secret}` reads a secret from the secret store"))
        if verb is not True:
            out.append(("control", verb or "?", f"{invocation.program} {verb or ''} is not a read-only verb".replace("  ", " ")))
    return out


def loopback_only(found: list[str]) -> bool:
    urls = [a.split("://", 1)[1] for a in found if "://" in a]
    return bool(urls) and all(url.split("@")[-1].startswith(LOOPBACK) for url in urls)


def option_effects(role: str | None, option: str, value: str) -> list[tuple[str, str, str]]:
    if role == "writes_root":
        return [("write", "/", f"{option} lets it write anywhere")]
    if role == "mount":  # -v HOST:CONTAINER: the host side is what the container may write
        value = value.split(",", 1)[0].split("source=", 1)[-1].split(":", 1)[0] if ":" in value or "source=" in value else value
        if not value.startswith(("/", "~", ".")):
            return []  # a named volume
    if role in ROLE_EFFECTS:
        return [(kind, value, f"the value of {option}") for kind in ROLE_EFFECTS[role]]
    if role in ("send_data", "send_literal"):
        dynamic = UNKNOWN + "$(" in value or EVAL in value or (role == "send_data" and UNKNOWN in value)
        payload = value.split("=", 1)[1] if "=" in value and value[:1] != "@" else value
        for marker in ("@", "<"):
            if role == "send_data" and payload.startswith(marker) and payload not in ("@-", "<-"):
                path = payload[1:].split(";", 1)[0]
                return [("send", path, f"{option} sends the file {path}"), ("read", path, f"{option} reads it")]
        if dynamic:
            return [("send", value, f"{option} sends data only known at run time")]
    return []


def select(items: list[str], selector: str) -> list[str]:
    if not items or selector == "none":
        return []
    return {"all": items, "first": items[:1], "last": items[-1:], "rest": items[1:], "but_last": items[:-1]}[selector]


def control_verb(found: list[str], plane: dict, table) -> str | bool | None:
    """True when the call's verb is read-only; else the verb that changes something (None when there is none)."""
    read_only = plane.get("read_only") or []
    if "verb_at" in plane:
        verb = found[plane["verb_at"]].replace(EVAL, "") if len(found) > plane["verb_at"] else None
        return True if verb and any(glob(pattern, verb) for pattern in read_only) else verb
    for word in found[: plane.get("within", 1)]:
        word = word.replace(EVAL, "")
        if any(glob(pattern, word) for pattern in read_only):
            return True
        if word in table.mutating:
            return word
    return found[0] if found else None


def secret_phrase(found: list[str], plane: dict) -> str | None:
    words = " " + " ".join(w.replace(EVAL, "") for w in found) + " "
    return next((p for p in plane.get("secret_reads") or () if " " + p + " " in words), None)


def glob(pattern: str, word: str) -> bool:
    if "*" not in pattern:
        return pattern == word
    head, _, tail = pattern.partition("*")
    return word.startswith(head) and word.endswith(tail) and len(word) >= len(head) + len(tail)


def unknown_name(text: str) -> str:
    return text.replace(UNKNOWN, "$").replace(END, "").replace(EVAL, "")
