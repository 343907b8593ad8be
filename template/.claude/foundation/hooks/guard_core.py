"""The guard's decisions (imported by guard.py, with its bytecode cached; see guard.py).

The rules are data (policy.json, rendered from the foundation's policy.yml); this file is the mechanism: the
`match` grammar (see MATCH_KEYS), path checks for secrets and foundation-owned files, the web and MCP checks.
Shell commands are parsed by shell.py and unwrapped by unwrap.py (imported only for Bash calls).

Fails closed: any error, malformed input, missing policy or a missed deadline ends in a block (exit 2, reason on
stderr), and the audit record of the decision is written by this same process. Standard library only.
"""

from __future__ import annotations

import sys

import hostos  # the calls the guard makes, without importing os (see hostos.py)
from hostos import normpath  # noqa: F401  (one path normaliser: the guard's, the unwrapper's, the hooks')

HOOKS_DIR = hostos.dirname(hostos.abspath(__file__))
DEADLINE_SECONDS = 5.0  # well under the hook timeout in settings.json: a hung guard must block, not time out
MAX_COMMAND = 100_000  # characters of one Bash call the guard reads; a longer one is refused with how to split it
UNKNOWN, END, EVAL = "\x00", "\x01", "\x02"
FILE_TOOLS = {"Read": "file_path", "Edit": "file_path", "Write": "file_path", "MultiEdit": "file_path",
              "NotebookEdit": "notebook_path", "NotebookRead": "notebook_path"}
WRITE_TOOLS = {"Edit", "Write", "MultiEdit", "NotebookEdit"}
TEMP_DIRS = ("/tmp", "/var/tmp", "/private/tmp", "/private/var/tmp")
CRITICAL_DIRS = {"/", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/var", "/opt", "/home", "/root", "/boot",
                 "/dev", "/proc", "/sys", "/srv", "/mnt", "/media", "/snap", "/run", "/Users", "/System", "/Library",
                 "/Applications", "/Volumes", "/private", "/usr/local", "/usr/bin", "/usr/lib", "/var/lib", "/var/log"}
DEVICE_SAFE = ("/dev/null", "/dev/zero", "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/random", "/dev/urandom",
               "/dev/tty", "/dev/fd/", "/dev/shm/")
DEVICE_PREFIXES = ("/dev/sd", "/dev/hd", "/dev/vd", "/dev/xvd", "/dev/nvme", "/dev/mmcblk", "/dev/disk", "/dev/rdisk",
                   "/dev/loop", "/dev/md", "/dev/dm-", "/dev/mapper/", "/dev/sr", "/dev/mem", "/dev/kmem", "/dev/port")
SECRET_NAMES = ("token", "secret", "password", "passwd", "api_key", "apikey", "access_key", "private_key", "credential",
                "auth", "client_secret", "access_token", "private_token", "key", "pwd", "sig", "signature")
SECRET_VAR_HINTS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY", "APIKEY", "ACCESS_KEY", "PRIVATE_KEY", "CREDENTIAL")
INNOCUOUS_NAMES = ("README.md", "main.py", "index.js", "data.json", "notes.txt", "Makefile", "a")
EXCLUDE_OPTIONS = ("--exclude", "--ignore", "--exclude-dir", "--exclude-from", "-path-not")



def __getattr__(name: str):
    """The match grammar (MATCH_KEYS, validate_match) on demand: the loader and the tests use it, a hook call does not."""
    if name in ("MATCH_KEYS", "validate_match"):
        import match_grammar

        return getattr(match_grammar, name)
    raise AttributeError(name)


class Decision:
    def __init__(self, decision: str, reason: str, rule: str | None = None, trace: list[str] | None = None):
        self.decision, self.reason, self.rule, self.trace = decision, reason, rule, trace or []


# ------------------------------------------------------------------ paths and globs (no re, no fnmatch: cheap start)


def _segment_match(pattern: str, text: str) -> bool:
    p = t = 0
    star_p, star_t = -1, 0
    while t < len(text):
        if p < len(pattern) and pattern[p] == "[":
            end = pattern.find("]", p + 2)
            if end > 0:
                body = pattern[p + 1:end]
                negate = body[:1] in ("!", "^")
                body = body[1:] if negate else body
                hit, i = False, 0
                while i < len(body):
                    if i + 2 < len(body) and body[i + 1] == "-":
                        hit = hit or body[i] <= text[t] <= body[i + 2]
                        i += 3
                    else:
                        hit = hit or body[i] == text[t]
                        i += 1
                if hit != negate:
                    p, t = end + 1, t + 1
                    continue
            elif pattern[p] == text[t]:
                p, t = p + 1, t + 1
                continue
        elif p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            p, t = p + 1, t + 1
            continue
        elif p < len(pattern) and pattern[p] == "*":
            star_p, star_t = p, t
            p += 1
            continue
        if star_p >= 0:
            p, star_t = star_p + 1, star_t + 1
            t = star_t
            continue
        return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def glob_match(pattern: str, path: str) -> bool:
    """Gitignore-style match of a whole path: `*` within a folder, `**` across folders."""
    return _match_parts(pattern.strip("/").split("/"), path.strip("/").split("/"))


def _match_parts(pattern: list[str], parts: list[str]) -> bool:
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_match_parts(pattern[1:], parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and _segment_match(pattern[0], parts[0]) and _match_parts(pattern[1:], parts[1:])


class Paths:
    """Where a path points, seen from the project, the cwd and the home folder."""

    def __init__(self, policy: dict, project: str | None, home: str):
        self.policy = policy
        self.project = normpath(project) if project else None
        self.home = normpath(home)
        self.secret_globs = policy["secrets"]["paths"] + (policy["secrets"].get("guard_only") or [])
        self.secret_except = policy["secrets"].get("except", []) + (policy["secrets"].get("not_secret") or [])
        self.protected = policy["protected"]["paths"]
        self.history = (policy.get("history") or {}).get("paths") or []

    def absolute(self, path: str, cwd: str | None) -> str | None:
        if path.startswith("~"):
            head, _, tail = path[1:].partition("/")
            path = (self.home if head in ("", "+") else "/home/" + head) + "/" + tail
        if path.startswith("/"):
            return normpath(path)
        base = cwd or self.project
        return normpath(base + "/" + path) if base else None

    def views(self, path: str, cwd: str | None) -> list[tuple[str, str]]:
        """(kind, text) views of a path to test globs against: project-relative, home-relative, absolute."""
        absolute = self.absolute(path, cwd)
        if absolute is None:
            rel = normpath(path)[1:]
            return [("project", rel), ("any", rel)]
        views = [("abs", absolute), ("any", absolute[1:])]
        if self.project and (absolute + "/").startswith(self.project + "/"):
            views.append(("project", absolute[len(self.project) + 1:]))
        if (absolute + "/").startswith(self.home + "/"):
            views.append(("home", absolute[len(self.home) + 1:]))
        return views

    def _matches(self, globs: list[str], views: list[tuple[str, str]]) -> bool:
        for glob in globs:
            if glob.startswith("~/"):
                wanted, pattern = "home", glob[2:]
            elif glob.startswith("/"):
                wanted, pattern = "abs", glob
            else:
                wanted, pattern = "project", glob
            for kind, text in views:
                if kind == wanted and glob_match(pattern, text):
                    return True
                if kind == "any" and glob.startswith("**/") and glob_match(glob, text):
                    return True
        return False

    def is_secret(self, path: str, cwd: str | None) -> bool:
        if not path or UNKNOWN in path:
            return False
        path = path.replace(EVAL, "")
        if any(c in path for c in "*?["):
            return self.glob_may_be_secret(path, cwd)
        views = self.views(path, cwd)
        if self._matches(self.secret_globs, views) and not self._matches(self.secret_except, views):
            return True
        absolute = self.absolute(path, cwd)
        if absolute and hostos.islink(absolute):  # a link to a secret reads the secret
            real = hostos.realpath(absolute)
            return real != absolute and self.is_secret(real, cwd)
        return False

    def glob_may_be_secret(self, pattern: str, cwd: str | None) -> bool:
        """Whether a shell glob such as `.en*` or `~/.ssh/id_*` could expand to a secret file."""
        absolute = self.absolute(pattern, cwd)
        folder = (absolute or ("/" + pattern)).rsplit("/", 1)[0] or "/"
        filled = "".join("x" if c in "*?" else c for c in pattern)  # ~/.mozilla/firefox/*/cookies.sqlite
        if "[" not in filled and "*" not in pattern.rsplit("/", 1)[-1] and self.is_secret(filled, cwd):
            return True
        for glob in self.secret_globs:
            for fill in ("", "x", "id_rsa"):
                sample = glob.replace("**/", "").replace("/**", "/id_rsa").replace("*", fill)
                if sample.startswith("~/"):
                    candidate = self.home + "/" + sample[2:]
                elif sample.startswith("/"):
                    candidate = sample
                else:
                    candidate = folder.rstrip("/") + "/" + sample.rsplit("/", 1)[-1]
                if absolute is None:
                    ok = glob_match(pattern, candidate.rsplit("/", 1)[-1]) or glob_match(pattern, candidate.lstrip("/"))
                else:
                    ok = glob_match(absolute, candidate)
                if ok and not any(c in candidate for c in "*?[") and self.is_secret(candidate, cwd):
                    return self._targets_secrets(pattern, absolute, folder, cwd)
        return False

    def _targets_secrets(self, pattern: str, absolute: str | None, folder: str, cwd: str | None) -> bool:
        """A glob aims at secrets when every ordinary file name it would also match is a secret too
        (`.en*`, `~/.ssh/*`), not when it is a broad sweep that happens to include one (`dist/*`)."""
        for name in INNOCUOUS_NAMES:
            probe = folder.rstrip("/") + "/" + name
            hit = glob_match(absolute, probe) if absolute else glob_match(pattern, name)
            if hit and not self.is_secret(probe, cwd):
                return False
        return True

    def holds_secrets(self, path: str, cwd: str | None) -> bool:
        """A folder under the home folder that holds secret files (grep -r x ~/.config reads ~/.config/gh/hosts.yml)."""
        absolute = self.absolute(path.replace(EVAL, ""), cwd) if path and UNKNOWN not in path else None
        if not absolute or not (absolute + "/").startswith(self.home + "/") or absolute == self.home + "/.ssh":
            return absolute == self.home if absolute else False
        for glob in self.secret_globs:
            if glob.startswith("~/"):
                literal = self.home + "/" + glob[2:].split("*", 1)[0]
                if literal.startswith(absolute.rstrip("/") + "/"):
                    return True
        return False

    def is_protected(self, path: str, cwd: str | None, ancestors: bool = False) -> bool:
        if not path or UNKNOWN in path:
            return False
        views = self.views(path.replace(EVAL, ""), cwd)
        if self._matches(self.protected, views):
            return True
        if ancestors:
            for kind, text in views:
                if kind != "project":
                    continue
                for glob in self.protected:
                    literal = glob.split("*", 1)[0].rstrip("/")
                    if text in ("", ".") or (literal + "/").startswith(text.rstrip("/") + "/"):
                        return True
        return False

    def region(self, path: str, cwd: str | None) -> str | None:
        """"home" or "system" for a path below the home folder or a system folder (/etc/hosts), else None."""
        absolute = self.absolute(path, cwd)
        if absolute is None:
            return None
        if absolute.startswith(self.home + "/"):
            return "home"
        if any(absolute.startswith(folder + "/") for folder in CRITICAL_DIRS if folder != "/"):
            return "system"
        return None

    def classify(self, path: str, cwd: str | None) -> str:
        """inside | temp | outside | critical | repo | unknown, for a deletion target."""
        if UNKNOWN in path or EVAL in path:
            known = path.replace(EVAL, "").split(UNKNOWN, 1)[0]
            temp = UNKNOWN in path and any(known.startswith(t + "/") and len(known) > len(t) + 1 for t in TEMP_DIRS) and ".." not in path
            return "temp" if temp else "unknown"  # $(mktemp)/x: a fresh name under the temp folder
        if not path:
            return "inside"
        traversal = ".." in path.split("/")
        glob = any(c in path for c in "*?[")
        absolute = self.absolute(path, cwd)
        if absolute is None:
            return "unknown"
        folder = (absolute.rsplit("/", 1)[0] or "/") if glob else absolute
        last_glob = glob and any(c in absolute.rsplit("/", 1)[-1] for c in "*?[")
        target = folder if last_glob else absolute
        if self.history and self._matches(self.history, [v for v in self.views(target, cwd) if v[0] == "project"]):
            return "repo"  # the repository's history: deleting it is as destructive as deleting the repository
        if target in CRITICAL_DIRS or target == self.home or (self.home + "/").startswith(target.rstrip("/") + "/"):
            return "critical"
        if self.project:
            if target == self.project or (self.project + "/").startswith(target.rstrip("/") + "/"):
                return "repo" if target == self.project else "critical"
            if (absolute + "/").startswith(self.project + "/"):
                return "inside"
        for temp in TEMP_DIRS:
            if absolute.startswith(temp + "/") and not traversal and not (last_glob and folder == temp):
                return "temp"
        return "outside"


# ------------------------------------------------------------------ the match grammar


def flag_set(args: list[str]) -> set[str]:
    found = set()
    for arg in args:
        arg = arg.replace(EVAL, "")
        if arg == "--":
            break
        if arg.startswith("--"):
            found.add(arg.split("=", 1)[0])
        elif arg.startswith("-") and len(arg) > 1 and UNKNOWN not in arg:
            found.update("-" + letter for letter in arg[1:] if letter.isalnum())
    return found


def has_flag(present: set[str], wanted: list[str]) -> bool:
    for flag in wanted:
        if flag in present:
            return True
        if flag.startswith("--"):
            for given in present:
                if given.startswith("--") and len(given) >= 4 and flag.startswith(given):
                    return True  # an unambiguous prefix, as git and GNU tools accept (--forc, --har)
    return False


def positionals(args: list[str]) -> list[str]:
    out, rest = [], False
    for arg in args:
        if rest:
            out.append(arg)
        elif arg == "--":
            rest = True
        elif not arg.replace(EVAL, "").startswith("-") or arg == "-":
            out.append(arg)
    return out


def effects_of(invocation, paths: "Paths") -> list[tuple[str, str, str]]:
    """Stage 2's effects of one invocation, derived once and kept on it; written paths seen through the links this
    command made (ln -s /etc/x link && echo > link writes /etc/x)."""
    found = invocation.derived
    if found is None:
        import guard

        found = guard.cached_import("effects").derive(invocation, paths.table)
        links = invocation.links
        if links and invocation.program not in ("ln", "link"):
            extra = []
            for kind, target, why in found:
                if kind in ("write", "delete"):
                    absolute = paths.absolute(target, invocation.cwd)
                    if absolute in links:
                        extra.append((kind, links[absolute], f"{target} is a link this command made to {links[absolute]}"))
            found = found + extra
        invocation.derived = found
    return found


def targets(invocation, paths: "Paths") -> list[str]:
    """What an invocation writes or deletes (the targets of the destructive-delete and disk rules)."""
    return [target for kind, target, _ in effects_of(invocation, paths) if kind in ("write", "delete") and not target.startswith(DEVICE_SAFE)]


def looks_remote(arg: str) -> bool:
    if "://" in arg:
        return not arg.startswith("file://")
    head, sep, _ = arg.partition(":")
    return bool(sep) and bool(head) and "/" not in head and UNKNOWN not in head and not head.startswith("-")


def exfiltrates(invocation, paths: "Paths") -> str | None:
    """Exfiltration as a flow: local content (a file, a pipe, a substitution's output) reaching a network sink."""
    for kind, target, why in effects_of(invocation, paths):
        if kind == "send":
            return why
    return None


def secret_in_url(invocation, prefixes: tuple = ()) -> bool:
    """A credential in a URL: user:password@, a query key that names one (token, aws_secret_access_key ...), a value
    in a known token format, or a secret-named variable."""
    for arg in invocation.args:
        if "://" not in arg:
            continue
        rest = arg.split("://", 1)[1]
        authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        if "@" in authority:
            userinfo = authority.rsplit("@", 1)[0]
            if ":" in userinfo and userinfo.split(":", 1)[1]:
                return True
        if "?" in rest:
            query = rest.split("?", 1)[1].split("#", 1)[0]
            for pair in query.split("&"):
                key, _, value = pair.partition("=")
                words = key.lower().replace("-", "_").split("_")
                if value and (key.lower() in SECRET_NAMES or any(w in SECRET_NAMES and len(w) > 3 for w in words)):
                    return True
                if value.startswith(prefixes):
                    return True
        for piece in arg.split(UNKNOWN)[1:]:
            name = piece.split(END, 1)[0].upper()
            if any(hint in name for hint in SECRET_VAR_HINTS):
                return True
    return False


def setuid(invocation) -> bool:
    """A permission mode that sets the setuid or setgid bit, where the program's record says its mode is given
    (programs.yml `mode`: chmod's first positional, install's -m)."""
    where = (invocation.record or {}).get("mode") or {}
    args = invocation.args
    modes = []
    for i, arg in enumerate(args):
        for option in where.get("options") or ():
            if arg == option:
                modes.append(args[i + 1] if i + 1 < len(args) else "")
            elif arg.startswith(option + "=") or (not option.startswith("--") and arg.startswith(option) and len(arg) > len(option)):
                modes.append(arg[len(option):].lstrip("="))
    if "positional" in where:
        found = positionals(args)
        modes += found[where["positional"]:where["positional"] + 1]
    return any(sets_setuid(mode) for mode in modes)


def sets_setuid(mode: str) -> bool:
    """An octal mode with the 4000 or 2000 bit, or a symbolic one that adds or sets `s` (u+s, g=s, +s)."""
    if not mode:
        return False
    if mode.isdigit():
        return len(mode) >= 4 and mode[-4] in "01234567" and int(mode[-4]) & 6 != 0
    return any("s" in clause.split("+", 1)[-1].split("=", 1)[-1] and ("+" in clause or "=" in clause) for clause in mode.split(","))


def reads_secret(invocation, paths: Paths) -> bool:
    cwd = invocation.cwd
    skip_next = False
    for kind, target, _ in effects_of(invocation, paths):
        if kind == "secret_read":
            return True
        if kind not in ("read", "send"):
            continue
        if skip_next:
            skip_next = False
            continue
        if target.startswith(EXCLUDE_OPTIONS):
            skip_next = "=" not in target
            continue
        candidates = {target}
        if "=" in target:
            candidates.add(target.split("=", 1)[1])
        if ":" in target and "://" not in target:
            candidates.add(target.rsplit(":", 1)[1])
        if target.startswith("@"):
            candidates.add(target[1:])
        if any(paths.is_secret(candidate, cwd) or paths.holds_secrets(candidate, cwd)
               for candidate in candidates if candidate and not candidate.startswith("-")):
            return True
    return False


def writes_protected(invocation, paths: Paths) -> bool:
    cwd = invocation.cwd
    for kind, target, _ in effects_of(invocation, paths):
        if kind in ("write", "delete") and paths.is_protected(target, cwd, ancestors=kind == "delete" or target.endswith("/")):
            return True
    return False


def writes_outside(invocation, paths: Paths) -> str | None:
    """A write or delete outside the repository and temp folders (critical folders and the repository root included)."""
    for kind, target, why in effects_of(invocation, paths):
        if kind not in ("write", "delete") or target.startswith(DEVICE_SAFE) or target in ("-", ""):
            continue
        if kind == "write" and (paths.absolute(target, invocation.cwd) or "") in TEMP_DIRS:
            continue  # into /tmp/
        where = paths.classify(target, invocation.cwd)
        # A delete elsewhere outside the repository (/builds/x, /srv/data) is judged with its flags by
        # destructive-delete; here the critical and system folders, the home folder, the repository and its .git.
        if where == "outside" and (kind == "write" or paths.region(target, invocation.cwd)) or where == "critical" or where == "repo" and kind == "delete":
            return f"{kind}s {target.replace(UNKNOWN, '$').replace(END, '').replace(EVAL, '')} ({why})"
    return None


def unresolved(invocation, paths: Paths) -> str | None:
    """A program name, or a path it writes, only known at run time."""
    for kind, target, why in effects_of(invocation, paths):
        if kind == "unresolved":
            return why
        runtime = [piece.split(END, 1)[0] for piece in target.split(UNKNOWN)[1:]]
        if runtime and all(name in ("xargs", "stdin") for name in runtime):
            continue  # file names a local listing feeds in (grep -l ... | xargs sed -i): judged where they come from
        if kind == "write" and (UNKNOWN in target or EVAL in target) and paths.classify(target, invocation.cwd) == "unknown":
            return f"writes {target.replace(UNKNOWN, '$').replace(END, '')}, a path only known at run time"
    return None


def effect_of_kind(kind: str):
    def check(invocation, paths: Paths) -> str | None:
        return next((why for k, _, why in effects_of(invocation, paths) if k == kind), None)
    return check


EFFECT_KEYS = {"writes_outside": writes_outside, "unresolved": unresolved, "exfiltrates": exfiltrates,
               "upload_data": exfiltrates, "control_plane_change": effect_of_kind("control"),
               "data_change": effect_of_kind("data_change"), "unclassified": effect_of_kind("unclassified"),
               "privilege": effect_of_kind("privilege")}


def matches(match: dict, invocation, paths: Paths) -> bool:
    if "any_of" in match:
        base = {k: v for k, v in match.items() if k != "any_of"}
        return any(matches({**base, **alternative}, invocation, paths) for alternative in match["any_of"])
    program, args = invocation.program, invocation.args
    if "program" in match:
        wanted = match["program"]
        if program not in ([wanted] if isinstance(wanted, str) else wanted):
            return False
    if "subcommand" in match or "args_any" in match:
        found = [p.replace(EVAL, "") for p in positionals(args)]
        if "subcommand" in match:
            wanted = match["subcommand"]
            wanted = [wanted] if isinstance(wanted, str) else wanted
            if not any(p in wanted for p in found[: match.get("subcommand_within", 1)]):
                return False
        if "args_any" in match and not any(p in match["args_any"] for p in found):
            return False
    present = flag_set(args) if any(k.startswith("flags") or k.startswith("refspec") for k in match) else set()
    if "flags_none" in match and has_flag(present, match["flags_none"]):
        return False
    for group in match.get("flags_all", []):
        if not has_flag(present, group):
            return False
    if "flags_any" in match or "refspec_plus" in match or "refspec_delete" in match:
        refs = positionals(args)[1:]
        hit = "flags_any" in match and has_flag(present, match["flags_any"])
        hit = hit or bool(match.get("refspec_plus") and any(r.startswith("+") or ":+" in r for r in refs))
        hit = hit or bool(match.get("refspec_delete") and any(r.startswith(":") and len(r) > 1 for r in refs[1:]))
        if not hit:
            return False
    if match.get("target_outside_repo") or match.get("target_critical"):
        wanted = {"outside", "critical", "repo", "unknown"} if match.get("target_outside_repo") else {"critical", "repo"}
        kinds = [paths.classify(t, invocation.cwd) for t in targets(invocation, paths)]
        if not any(kind in wanted for kind in kinds):
            return False
    if match.get("target_device"):
        if not any(t.startswith(DEVICE_PREFIXES) and not t.startswith(DEVICE_SAFE) for t in targets(invocation, paths)):
            return False
    if match.get("remote_target") and not (positionals(args) and looks_remote(positionals(args)[-1])):  # sent to a remote
        return False
    for key, check in EFFECT_KEYS.items():
        if match.get(key):
            detail = check(invocation, paths)
            if not detail:
                return False
            invocation.facts.setdefault(key, detail)
    if match.get("setuid") and not setuid(invocation):
        return False
    for fact in ("pipe_into_shell", "raw_network_redirect"):
        if match.get(fact) and fact not in invocation.facts:
            return False
    if match.get("reads_secret") and not reads_secret(invocation, paths):
        return False
    if match.get("writes_protected") and not writes_protected(invocation, paths):
        return False
    if match.get("secret_in_url") and not secret_in_url(invocation, tuple(paths.policy["secrets"].get("token_prefixes") or ())):
        return False
    return True


# ------------------------------------------------------------------ decisions


def rule_by_key(policy: dict, key: str) -> dict:
    for rule in policy["commands"]:
        if rule["match"].get(key) is True:
            return rule
    raise KeyError(f"policy.json has no command rule with match {{{key}: true}}")


def message(rule: dict, what: str) -> str:
    verb = "blocked" if rule["decision"] == "deny" else "needs a human's approval for"
    return (f"agent-foundation {verb} {what} (rule {rule['id']}, {rule['family']}): {rule['reason']} "
            f"Instead: {rule['instead']}")


def short(command: str) -> str:
    command = " ".join(command.split())
    return command if len(command) <= 120 else command[:117] + "..."


def decide_bash(command: str, policy: dict, project: str | None, cwd: str | None = None, home: str | None = None) -> tuple[Decision, list]:
    import guard

    unwrap = guard.cached_import("unwrap")

    home = home or hostos.home()
    if len(command) > MAX_COMMAND:
        return too_large(command, f"{len(command)} characters, the guard reads up to {MAX_COMMAND}"), []
    table = unwrap.Table(policy)
    ctx = unwrap.Context(project, cwd or project, home, table)
    try:
        invocations = unwrap.analyse(command, ctx)
    except guard.cached_import("shell").TooDeep as error:
        return too_large(command, str(error)), []
    paths = Paths(policy, project, home)
    paths.table = table
    trace = list(ctx.trace)
    for invocation in invocations:
        via = f" (via {' > '.join(invocation.via)})" if invocation.via else ""
        trace.append(f"runs: {invocation.display[:160]}{via}")
    hits = []
    for rule in policy["commands"]:
        for invocation in invocations:
            if matches(rule["match"], invocation, paths):
                hits.append((rule, invocation))
                detail = next(iter(invocation.facts.values()), "")
                trace.append(f"rule {rule['id']} ({rule['decision']}) matched `{invocation.display[:100]}`" + (f": {detail}" if detail else ""))
                break
    for invocation in invocations:  # stage 2's findings, for explain
        shown = [f"{k} {t.replace(UNKNOWN, '$').replace(END, '').replace(EVAL, '')[:60]}" for k, t, _ in invocation.derived or ()
                 if k not in ("read", "network")]
        if shown:
            trace.append(f"effects of `{invocation.display[:60]}`: " + ", ".join(shown[:6]))
    for kind in ("deny", "ask"):
        for rule, invocation in hits:
            if rule["decision"] == kind:
                what = f"`{short(command)}`"
                if invocation.display.strip() != command.strip() and not invocation.program.startswith(":"):
                    what += f", which runs `{short(invocation.display)}`"
                detail = next(iter(invocation.facts.values()), "")
                reason = message(rule, what) + (f" ({detail})" if detail else "")
                return Decision(kind, reason, rule["id"], trace), invocations
    return Decision("allow", "no rule matched", None, trace), invocations


def too_large(command: str, why: str) -> Decision:
    """Fail closed on a command too large or too deep to check in time, and say how to get it through."""
    return Decision("deny", f"agent-foundation blocked `{short(command)}` (rule too-large-to-check): the command is too large "
                    f"to check in time ({why}). Instead: split it into smaller calls (one step per call, scripts "
                    f"written to a file first and run in their own call).", "too-large-to-check")


def host_of(url: str) -> str:
    rest = url.split("://", 1)[-1]
    authority = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    return authority.split(":", 1)[0].lower().rstrip(".")


class _UrlCall:
    def __init__(self, url: str):
        self.program, self.args, self.facts = "webfetch", [url], {}


def decide_tool(tool: str, tool_input: dict, policy: dict, project: str | None, cwd: str | None) -> Decision:
    paths = Paths(policy, project, hostos.home())
    checks: list[tuple[str, str]] = []  # (path, "read" | "write" | "glob")
    if tool in FILE_TOOLS:
        checks.append((str(tool_input.get(FILE_TOOLS[tool]) or ""), "write" if tool in WRITE_TOOLS else "read"))
    elif tool == "Grep":
        checks.append((str(tool_input.get("path") or ""), "read"))
        if tool_input.get("glob"):
            folder = str(tool_input.get("path") or ".")
            checks.append((folder.rstrip("/") + "/" + str(tool_input["glob"]).lstrip("/"), "glob"))
    elif tool == "Glob":
        folder = str(tool_input.get("path") or ".")
        checks.append((folder, "read"))
        pattern = str(tool_input.get("pattern") or "")
        if pattern:
            checks.append((pattern if pattern.startswith(("/", "~")) else folder.rstrip("/") + "/" + pattern, "glob"))
    elif tool.startswith("mcp__"):
        routed = mcp_by_role(tool, tool_input, policy, project, cwd)
        if isinstance(routed, Decision):
            return routed
        checks += routed
    for path, kind in checks:
        if not path:
            continue
        secret = paths.is_secret(path, cwd) or (kind == "glob" and paths.glob_may_be_secret(path, cwd))
        secret = secret or (tool in ("Grep", "Glob") and kind == "read" and paths.holds_secrets(path, cwd))
        if kind == "glob" and path.endswith("/**") or kind == "glob" and "**" in path:
            secret = secret or paths.glob_may_be_secret(path.replace("**/", "").replace("/**", "/*"), cwd)
        if secret:
            rule = rule_by_key(policy, "reads_secret")
            return Decision(rule["decision"], message(rule, f"{tool} on {path}"), rule["id"])
        if kind == "write" and paths.is_protected(path, cwd):
            rule = rule_by_key(policy, "writes_protected")
            return Decision(rule["decision"], message(rule, f"{tool} on {path}"), rule["id"])
        if kind == "write" and paths.classify(path, cwd) in ("outside", "critical", "repo") and not path.startswith(DEVICE_SAFE):
            rule = rule_by_key(policy, "writes_outside")  # the same write classifier as every shell route
            return Decision(rule["decision"], message(rule, f"{tool} on {path}"), rule["id"])
    if tool == "WebFetch":
        url = str(tool_input.get("url") or "")
        if secret_in_url(_UrlCall(url), tuple(policy["secrets"].get("token_prefixes") or ())):
            rule = rule_by_key(policy, "secret_in_url")
            return Decision(rule["decision"], message(rule, f"WebFetch of {url}"), rule["id"])
        # No other opinion: the client already asks per domain, and the OS sandbox limits where commands connect.
    if tool.startswith("mcp__"):
        _, server, name = (tool.split("__", 2) + ["", ""])[:3]
        known = ((policy.get("mcp") or {}).get("servers") or {}).get(server)
        if not known:
            return Decision("ask", f"agent-foundation needs a human to approve {tool} (rule mcp-unvetted): the MCP server "
                            f"{server!r} is not in the vetted registry. Instead: use a vetted server, or ask the platform team to vet it.", "mcp-unvetted")
        if not known.get("enabled", True):
            return Decision("ask", f"agent-foundation needs a human to approve {tool} (rule mcp-not-enabled): the team did "
                            f"not enable {server!r} in its answers. Instead: add it to mcp_servers and update the foundation.", "mcp-not-enabled")
        if name not in known.get("read_tools", []):
            what = "can change things outside this repository" if name in known.get("write_tools", []) else "is not a known read-only tool"
            return Decision("ask", f"agent-foundation needs a human to approve {tool} (rule mcp-write): it {what} "
                            f"({known.get('risk', 'unknown')} risk). Instead: use a read-only tool, or let a human approve this call.", "mcp-write")
    return Decision("allow", "no rule matched")


def mcp_by_role(tool: str, tool_input: dict, policy: dict, project: str | None, cwd: str | None):
    """MCP inputs by the role of each field (the program table's mcp_fields): a command or code is guarded as the shell
    command it is, SQL as a database statement, a URL for secrets; paths come back as (path, read | write) checks.
    A field the table does not name is checked as a path when it looks like one."""
    import guard

    spec = guard.cached_import("unwrap").Table(policy).mcp_fields
    roles = {field: role for role, fields in (spec.get("roles") or {}).items() for field in fields}
    name = tool.split("__", 2)[-1].lower()
    writes = any(verb in name.replace("-", "_").split("_") for verb in spec.get("write_verbs") or ())
    checks: list[tuple[str, str]] = []
    for field, value in tool_input.items():
        role = roles.get(str(field).lower())
        strings = _strings(value)
        if role == "command":
            line = " ".join(_shell_word(s) for s in strings) if isinstance(value, list) else " ".join(strings)
            decision = decide_bash(line, policy, project, cwd)[0]
        elif role == "code":
            decision = decide_bash("node -e " + _shell_word(" ".join(strings)), policy, project, cwd)[0]
        elif role == "sql":
            decision = decide_bash("psql -c " + _shell_word(" ".join(strings)), policy, project, cwd)[0]
        elif role == "url":
            prefixes = tuple(policy["secrets"].get("token_prefixes") or ())
            decision = next((Decision(*_secret_url_rule(policy, tool, s)) for s in strings if secret_in_url(_UrlCall(s), prefixes)), None)
        else:
            for text in strings:
                if role == "path":
                    path = text.split(":", 1)[0] if str(field).lower() in ("volumes", "mounts", "binds") else text
                    checks.append((path, "write" if writes or str(field).lower() in ("destination", "dest", "target") else "read"))
                elif len(text) < 300 and "\n" not in text and (" " not in text or "/" in text):
                    checks.append((text, "read"))
            continue
        if decision is not None and decision.decision != "allow":
            return Decision(decision.decision, f"{tool}, field {field}: {decision.reason}", decision.rule, decision.trace)
    return checks


def _shell_word(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _secret_url_rule(policy: dict, tool: str, url: str) -> tuple[str, str, str]:
    rule = rule_by_key(policy, "secret_in_url")
    return rule["decision"], message(rule, f"{tool} of {url}"), rule["id"]


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def decide(event: dict, policy: dict, project: str | None) -> Decision:
    tool = event.get("tool_name")
    tool_input = event.get("tool_input")
    if not isinstance(tool, str) or not isinstance(tool_input, dict):
        return Decision("deny", "agent-foundation blocked this call (rule malformed-input): the hook input has no tool_name "
                        "or tool_input. Instead: retry the call; report the problem if it persists.", "malformed-input")
    cwd = event.get("cwd") if isinstance(event.get("cwd"), str) and event.get("cwd") else project
    if tool == "Bash":
        command = tool_input.get("command")
        if not isinstance(command, str):
            return Decision("deny", "agent-foundation blocked this call (rule malformed-input): the Bash call has no "
                            "command. Instead: retry with a command string.", "malformed-input")
        return decide_bash(command, policy, project, cwd)[0]
    return decide_tool(tool, tool_input, policy, project, cwd)


# ------------------------------------------------------------------ the hook


def project_dir(event: dict | None = None) -> str:
    """The team repository: $CLAUDE_PROJECT_DIR, else the folder this file was rendered into."""
    return hostos.getenv("CLAUDE_PROJECT_DIR") or hostos.dirname(hostos.dirname(hostos.dirname(HOOKS_DIR)))


def load_policy(project: str) -> dict:
    with open(hostos.join(project, ".claude", "foundation", "policy.json"), encoding="utf-8") as handle:
        policy = _codec().loads(handle.read())
    for key in ("secrets", "protected", "commands"):
        if key not in policy:
            raise ValueError(f"policy.json has no {key!r} section")
    # The program table is read only by the calls that need it (shell commands, MCP inputs): see unwrap.Table.
    policy["program_table_file"] = hostos.join(project, ".claude", "foundation", "programs.tsv")
    return policy


def respond(decision: Decision) -> str:
    if decision.decision == "allow":
        return ""
    return _codec().dumps({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": decision.decision,
                                              "permissionDecisionReason": decision.reason}})


def _codec():
    """JSON through audit_core's C-scanner codec: importing the json module (with re and enum) would be
    most of the guard's start-up, and the guard runs before every tool call."""
    import guard

    return guard.cached_import("audit_core")


_state = {"auditing": False, "event": None, "policy": None}


def _audit(event: dict, decision: str, reason: str, policy: dict | None) -> None:
    import guard

    audit = guard.cached_import("audit")

    _state["auditing"] = True
    try:
        audit.record_event(event, decision, reason, policy)
    finally:
        _state["auditing"] = False


def _signals():
    """The C signal module: `signal` itself imports enum, a large share of the guard's start-up."""
    try:
        import _signal

        return _signal
    except ImportError:  # an interpreter without it
        import signal

        return signal


def block(reason: str) -> None:
    """Fail closed: log what happened if that is still safe, then exit 2, which blocks the call."""
    signal = _signals()

    signal.signal(signal.SIGALRM, lambda *_: hostos._exit(2))
    signal.setitimer(signal.ITIMER_REAL, 1.0)  # the log write below must not turn a block into a hang
    sys.stderr.write(f"agent-foundation guard: {reason}. The call is blocked for safety.\n")
    sys.stderr.flush()
    if not _state["auditing"]:
        try:
            event = _state["event"] if isinstance(_state["event"], dict) else {"hook_event_name": "PreToolUse", "tool_name": "unknown"}
            _audit(event, "deny", f"guard failure: {reason}", _state["policy"] if isinstance(_state["policy"], dict) else None)
        except Exception:  # noqa: BLE001 - the block stands whatever the log does
            pass
    hostos._exit(2)


def run_hook(adapter=None) -> None:
    """Decide one hook event from stdin. `adapter` (adapters.py) translates another agent's event in and the
    decision out; without it the event and the answer are Claude Code's."""
    signal = _signals()

    deadline = DEADLINE_SECONDS
    override = hostos.getenv("AGENT_FOUNDATION_GUARD_DEADLINE")
    if override:
        try:
            deadline = min(deadline, max(float(override), 0.000001))  # may only be shortened
        except ValueError:
            pass
    signal.signal(signal.SIGALRM, lambda *_: block(f"no decision within {deadline:g} s: the call is too large to check "
                                                   "in time; split it into smaller calls"))
    signal.setitimer(signal.ITIMER_REAL, deadline)
    try:
        raw = sys.stdin.read()
        event = _codec().loads(raw)
        if not isinstance(event, dict):
            raise ValueError("the hook input is not a JSON object")
        if adapter is not None:
            event = adapter.event(event)
        _state["event"] = event
        project = project_dir(event)
        policy = load_policy(project)
        _state["policy"] = policy
        decision = decide(event, policy, project)
        _audit(event, decision.decision, decision.reason, policy)
    except Exception as error:  # noqa: BLE001 - every failure must end in a block
        block(f"internal error ({type(error).__name__}: {error})")
        return
    signal.setitimer(signal.ITIMER_REAL, 0)
    sys.stdout.write(adapter.respond(decision) if adapter is not None else respond(decision))
    sys.stdout.flush()
    hostos._exit(0)


USAGE = """usage: python3 .claude/foundation/hooks/guard.py explain "COMMAND"
  shows whether the guard allows, asks about or blocks COMMAND, and why.
Claude Code runs this file without arguments as a PreToolUse hook, with the tool call as JSON on stdin."""


def main(argv: list) -> None:
    """guard.py's command line: the hook (no arguments, the event on stdin), `explain COMMAND`, or usage."""
    if argv[1:] in (["-h"], ["--help"]):
        print(USAGE)
        sys.exit(0)
    hook = len(argv) == 1 and not sys.stdin.isatty()  # a person at a terminal gets usage, and nothing is logged
    if not hook and not (len(argv) > 2 and argv[1] == "explain"):
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    if not hook:
        sys.exit(explain(" ".join(argv[2:])))
    run_hook()


def explain(command: str) -> int:
    project = project_dir()
    policy = load_policy(project)
    decision, invocations = decide_bash(command, policy, project, hostos.getcwd() if hostos.getcwd().startswith(project) else project)
    print(f"decision: {decision.decision}")
    print(f"rule: {decision.rule or '-'}")
    print(f"reason: {decision.reason}")
    print("trace:")
    for step in decision.trace:
        print(f"  - {step}")
    return 0
