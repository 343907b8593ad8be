"""What a shell command really runs: prefixes stripped, shells and interpreters looked into.

    analyse(command, ctx) -> list[Invocation]

Every Invocation is one program the command would start (after `sudo`, `env`, `xargs`, `bash -c`, `find -exec`,
git aliases, interpreter one-liners ... are unwrapped), its arguments with the variables this command assigned
expanded, the files it writes by redirection, and facts the guard's rules match on (`pipe_into_shell`,
`raw_network_redirect`). A value that is only known at run time is written UNKNOWN (with the variable's name),
so the guard can refuse to assume it is harmless. Standard library only, no regular expressions.
"""

from __future__ import annotations

import shell
from guard_core import normpath  # one path normaliser for the guard and the unwrapper

UNKNOWN = "\x00"
END = "\x01"
FOUND = "\x03found"  # a file find matches under its root: known to be below the root, name unknown
EVAL = "\x02"  # starts a value computed in process from a substitution ($(echo rm)): known, but dynamic
# What the guard knows about programs is data (policy.json's `programs`, from foundation/programs.yml); this module
# only knows shell grammar and how each handler kind looks inside a call.
MAX_SCRIPT_FILE = 65536
MAX_BRACE_WORDS = 256  # words one brace expansion may make before the command is too large to check
FLAG_ROLES = ("in_place", "writes_root", "remote_name", "deletes_sources", "reveals_secrets")  # option roles of flags without a value
SYSTEM_CODE = ("/usr", "/bin", "/sbin", "/opt", "/lib", "/nix", "/snap")  # installed programs, not agent-written files  # a script file the command runs is read and classified when it is at most this big


class Table:
    """The program table (.claude/foundation/programs.tsv, rendered from foundation/programs.yml): one record per
    program, found by name (python3.12 finds python). A line is parsed only when a command uses it."""

    def __init__(self, policy: dict):
        self.text = program_table_text(policy)
        self.blocks = table_blocks(self.text)
        self.records: dict[str, dict | None] = {}
        self.languages: dict[str, dict] = {}
        self.command_languages: dict[str, dict] = {}
        settings = self.line("!", "settings")
        if settings is None:
            raise ValueError("the program table has no settings line; re-render the foundation")
        verbs, environment = settings.get("verbs") or {}, settings.get("environment") or {}
        self.mutating = set(verbs.get("mutating") or ())
        self.sql_destructive = verbs.get("sql_destructive") or []
        self.mcp_fields = settings.get("mcp_fields") or {}
        self.command_env = set(environment.get("commands") or ())
        self.library_env = set(environment.get("libraries") or ())
        self.option_env = environment.get("options") or {}

    def line(self, kind: str, name: str):
        start = self.text.find("\n" + kind + name + "\t", *self.blocks[kind])
        if start < 0 or not name or "\n" in name or "\t" in name:
            return None
        start += len(name) + 3
        value = self.text[start:self.text.find("\n", start)]
        return value.rstrip("\r") if kind == "@" else parse_json(value)  # a CRLF checkout leaves \r at line ends

    def find(self, program: str) -> dict | None:
        for name in (program, program.rstrip("0123456789.-_") or program):
            if name not in self.records:
                self.records[name] = self.line("=", self.line("@", name) or name)
            if self.records[name] is not None:
                return self.records[name]
        return None

    def language(self, name: str) -> dict:
        if name not in self.languages:
            self.languages[name] = self.line("%", name) or {}
        return self.languages[name]

    def command_language(self, name: str) -> dict:
        if name not in self.command_languages:
            self.command_languages[name] = self.line("&", name) or {}
        return self.command_languages[name]

    def with_subcommand(self, record: dict | None, args: list[str]) -> dict | None:
        """The record merged with its subcommand's (git push, docker run), found after the options that take values."""
        if not record or "subcommands" not in record:
            return record
        merged, depth = record, 0
        while "subcommands" in merged:
            found, _ = split_positionals(args, set(merged.get("value_options") or ()))
            verb = found[depth] if len(found) > depth else None
            sub = merged["subcommands"].get(verb) if verb else None
            if sub is None:
                break
            depth += 1
            value_options = list(merged.get("value_options") or ()) + list(sub.get("value_options") or ())
            merged = {**{k: v for k, v in merged.items() if k != "subcommands"}, **sub, "value_options": value_options,
                      "verb": verb, "depth": depth}
        return merged

    def has(self, program: str, field: str) -> bool:
        return bool((self.find(program) or {}).get(field))


TABLE_BLOCKS = "@=%&"  # after the settings line, in the order render.program_table writes them


def table_blocks(text: str) -> dict[str, tuple[int, int]]:
    """Where each kind of line lies: a search scans its own block only (most searches are for a name that is no
    alias). A kind the table lacks gets an empty block, so nothing is found by accident in another."""
    starts, at = {}, 0
    for kind in TABLE_BLOCKS:
        found = text.find("\n" + kind, at)
        starts[kind] = found if found >= 0 else -1
        at = found if found >= 0 else at
    blocks = {"!": (0, next((starts[k] for k in TABLE_BLOCKS if starts[k] >= 0), len(text)))}
    for index, kind in enumerate(TABLE_BLOCKS):
        if starts[kind] < 0:
            blocks[kind] = (0, 0)
            continue
        following = [starts[k] for k in TABLE_BLOCKS[index + 1:] if starts[k] >= 0]
        blocks[kind] = (starts[kind], following[0] if following else len(text))
    return blocks


def program_table_text(policy: dict) -> str:
    """The table's text: given inline (`program_table`), or read from the file load_policy named."""
    text = policy.get("program_table")
    if text is None:
        with open(policy["program_table_file"], "rb") as handle:  # bytes, decoded once: cheaper than a text reader
            text = policy["program_table"] = "\n" + handle.read().decode("utf-8")
    return text


def parse_json(text: str):
    import guard

    return guard.cached_import("audit_core").loads(text)


def first_positional(args: list[str], with_value) -> str | None:
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return args[i + 1] if i + 1 < len(args) else None
        if not arg.startswith("-") or arg == "-":
            return arg
        i += 2 if arg in with_value and "=" not in arg else 1
    return None


class Invocation:
    __slots__ = ("program", "args", "cwd", "via", "facts", "outputs", "inputs", "code_writes", "display", "record", "effects",
                 "unresolved", "stdin_from", "derived", "links")

    def __init__(self, program: str, args: list[str], ctx: "Context", via: list[str]):
        self.program = program
        self.record = ctx.table.with_subcommand(ctx.table.find(program), args) if program[:1] != ":" else None
        self.effects: list[tuple[str, str, str]] = []  # (kind, target, why) found in stage 1 (inline code, state)
        self.unresolved = False  # the program name was only known at run time
        self.stdin_from: str | None = None  # what feeds stdin: "literal", "local" (file content), "dynamic"
        self.derived = None  # stage 2's effects, once derived
        self.links = ctx.links
        self.args = args
        self.cwd = ctx.cwd
        self.via = list(via)
        self.facts: dict[str, str] = {}
        self.outputs: list[str] = []
        self.inputs: list[str] = []
        self.code_writes = False
        self.display = " ".join([program, *args]).replace(UNKNOWN, "$").replace(END, "").replace(EVAL, "").replace(FOUND, "{found}")


class Context:
    def __init__(self, project: str | None, cwd: str | None, home: str, table: Table):
        self.table = table
        self.files: dict[str, str | None] = {}  # written by this command: path -> content (None: unknown content)
        self.links: dict[str, str] = {}  # links this command made: link path -> target
        self.project = project
        self.cwd = cwd
        self.home = home
        self.vars: dict[str, str] = {"HOME": home, "TMPDIR": "/tmp/$TMPDIR", "SHELL": "sh", "BASH": "bash"}
        if cwd:
            self.vars["PWD"] = cwd
        self.trace: list[str] = []
        self.downloaded: set[str] = set()
        self.aliases: dict[str, str] = {}  # git aliases this command set (git config alias.x ...)
        self.arrays: dict[str, list[str]] = {}  # arrays this command assigned: a=(x y z)
        self.shell_aliases: dict[str, str] = {}  # alias ls='...' 
        self.force_push: str | None = None  # a forcing refspec or mirror this command configured
        self.new_remote: str | None = None  # a remote (or URL rewrite) this command configured
        self.invocations: list[Invocation] = []
        self.budget = 4000  # unwrapping steps; a pathological command ends in TooDeep, not a hang

    def knows(self, name: str) -> bool:
        """Whether this command set the variable (or array) an expansion reads: ${a[@]} reads a."""
        base = name.strip("{}").lstrip("#!")
        for i, char in enumerate(base):
            if not (char.isalnum() or char == "_"):
                base = base[:i]
                break
        return base in self.vars or base in self.arrays

    def step(self) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise shell.TooDeep("the command is too complex to analyse")


def analyse(command: str, ctx: Context) -> list[Invocation]:
    walk(shell.parse(command), ctx, [], 0)
    return ctx.invocations


def norm_program(word: str) -> str:
    name = word.replace(EVAL, "").replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name[:-4] if name.endswith(".exe") else name


# ------------------------------------------------------------------ expansion


def expand(word: shell.Word, ctx: Context) -> str:
    """A word's value as one string (redirection targets, here-documents, traces)."""
    return " ".join(expand_words(word, ctx))


def expand_words(word: shell.Word, ctx: Context) -> list[str]:
    """The words a shell word becomes, in bash's order: brace expansion, tilde, parameters (with defaults, arrays
    and the ${x/a/b}-style operations), command substitution (evaluated when it only prints), arithmetic, word
    splitting of unquoted expansions on IFS, quote removal. A value only known at run time is UNKNOWN+name+END."""
    if all(part[0] == "lit" and not part[2] for part in word.parts) and "{" in "".join(p[1] for p in word.parts):
        text = "".join(p[1] for p in word.parts)
        braced = brace_expand(text)
        if len(braced) > MAX_BRACE_WORDS:
            raise shell.TooDeep(f"a brace expansion makes {len(braced)} words (the guard reads up to {MAX_BRACE_WORDS})")
        if braced != [text]:
            return [w for piece in braced for w in expand_words(shell.Word([("lit", piece, False)]), ctx)]
    fields, separators = [""], ctx.vars.get("IFS", " \t\n")
    for index, part in enumerate(word.parts):
        kind = part[0]
        if kind == "lit":
            text = part[1]
            if index == 0 and not part[2] and text.startswith("~"):
                head, _, tail = text[1:].partition("/")
                base = ctx.home if head in ("", "+") else "/home/" + head
                text = base + ("/" + tail if tail or text.endswith("/") else "")
            fields[-1] += text
            continue
        if kind == "var":
            values = parameter(part, ctx)
            quoted = len(part) > 3 and part[3]
        elif kind == "sub":
            value = evaluate(part[2], ctx)
            values, quoted = [EVAL + value if value is not None else UNKNOWN + "$(" + END], True
        else:
            values, quoted = [arithmetic(part[1], ctx)], True
        for number, value in enumerate(values):
            pieces = split_fields(value, separators) if not quoted and UNKNOWN not in value else [value]
            if number:
                fields.append("")
            fields[-1] += pieces[0] if pieces else ""
            fields += pieces[1:]
    return [f for f in fields if f] or ([""] if word.quoted or not word.parts else [])


def split_fields(value: str, separators: str) -> list[str]:
    out, current = [], ""
    for char in value:
        if char in separators:
            if current or char not in " \t\n":
                out.append(current)
            current = ""
        else:
            current += char
    out.append(current)
    return [piece for piece in out if piece] if any(c in " \t\n" for c in separators) else out


def brace_expand(text: str) -> list[str]:
    """{a,b}c and {1..3}: the first top-level group with a comma or a range, then the rest recursively."""
    depth, start = 0, -1
    for i, char in enumerate(text):
        if char == "{":
            if depth == 0:
                start = i
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                body = text[start + 1:i]
                options = top_level_split(body)
                if len(options) == 1 and ".." in body:
                    low, _, high = body.partition("..")
                    if low.lstrip("-").isdigit() and high.lstrip("-").isdigit() and abs(int(high) - int(low)) < 256:
                        step = 1 if int(high) >= int(low) else -1
                        options = [str(n) for n in range(int(low), int(high) + step, step)]
                if len(options) > 1:
                    head, tail = text[:start], text[i + 1:]
                    words: list[str] = []
                    for option in options:
                        words += brace_expand(head + option + tail)
                        if len(words) > MAX_BRACE_WORDS:
                            return words  # the caller refuses it: too many to check
                    return words
    return [text]


def top_level_split(body: str) -> list[str]:
    out, depth, current = [], 0, ""
    for char in body:
        if char == "," and depth == 0:
            out.append(current)
            current = ""
            continue
        depth += char == "{"
        depth -= char == "}"
        current += char
    return out + [current]


def parameter(part: tuple, ctx: Context) -> list[str]:
    """The values of $x, ${x:-default}, ${a[@]}, ${a[1]}, ${#x}, ${x:1:2}, ${x/a/b}, ${x#a}, ${x%a}, ${x^^}."""
    name, default = part[1], part[2]
    if not name.startswith("{"):
        if name in ctx.vars:
            return [ctx.vars[name]]
        if default is not None:
            return [expand(shell.Word(default), ctx)]
        return [UNKNOWN + name + END]
    inner = name[1:-1]
    base = ""
    while base.__len__() < len(inner) and (inner[len(base)].isalnum() or inner[len(base)] == "_"):
        base += inner[len(base)]
    rest = inner[len(base):]
    if inner.startswith("#") and inner[1:].isidentifier() and inner[1:] in ctx.vars:
        return [str(len(ctx.vars[inner[1:]]))]
    if base not in ctx.vars and base not in ctx.arrays:
        return [UNKNOWN + name + END]
    if rest.startswith("[") and rest.endswith("]"):
        items, index = ctx.arrays.get(base, [ctx.vars.get(base, "")]), rest[1:-1]
        if index in ("@", "*"):
            return list(items)
        return [items[int(index)]] if index.isdigit() and int(index) < len(items) else [UNKNOWN + name + END]
    value = ctx.vars.get(base, "")
    computed = string_operation(value, rest)
    return [computed if computed is not None else UNKNOWN + name + END]


def string_operation(value: str, op: str) -> str | None:
    if not op:
        return value
    if any(c in op[1:] for c in "*?[$`"):
        return None  # a pattern or a nested expansion: computed at run time
    if op in ("^^", ",,", "^", ","):
        return {"^^": value.upper(), ",,": value.lower(), "^": value[:1].upper() + value[1:], ",": value[:1].lower() + value[1:]}[op]
    if op.startswith(":") and op[1:2] not in "-=+?":
        numbers = op[1:].split(":")
        try:
            start = int(numbers[0].strip() or 0)
            length = int(numbers[1]) if len(numbers) > 1 else None
        except ValueError:
            return None
        piece = value[start:]
        return piece[:length] if length is not None else piece
    if op.startswith("//") or op.startswith("/"):
        every = op.startswith("//")
        pattern, _, replacement = op[2 if every else 1:].partition("/")
        return value.replace(pattern, replacement) if every else value.replace(pattern, replacement, 1)
    for marker, strip in (("##", "prefix"), ("#", "prefix"), ("%%", "suffix"), ("%", "suffix")):
        if op.startswith(marker):
            text = op[len(marker):]
            if strip == "prefix":
                return value[len(text):] if value.startswith(text) else value
            return value[:-len(text)] if text and value.endswith(text) else value
    return None


def arithmetic(text: str, ctx: Context) -> str:
    expression = text
    for name in sorted(ctx.vars, key=len, reverse=True):
        if name.isidentifier():
            expression = expression.replace("$" + name, ctx.vars[name]).replace(name, ctx.vars[name])
    if expression.strip() and all(c in "0123456789+-*/%() " for c in expression) and len(expression) < 80:
        try:
            return str(eval(expression.replace("/", "//"), {"__builtins__": {}}))  # digits and operators only
        except (ArithmeticError, SyntaxError, ValueError):
            pass
    return UNKNOWN + "((" + END


def printed_text(program: str, args: list[str]) -> str | None:
    """What echo/printf print, when their arguments are known."""
    if any(UNKNOWN in a for a in args):
        return None
    if program == "echo":
        interpret = False
        while args and args[0] in ("-n", "-e", "-E", "-ne", "-en"):
            interpret = interpret or "e" in args[0]
            args = args[1:]
        text = " ".join(args)
        return shell.ansi_c(text) if interpret else text
    if program == "printf" and args:
        fmt, rest = shell.ansi_c(args[0]), list(args[1:])
        out, i = [], 0
        while i < len(fmt):
            if fmt[i] == "%" and i + 1 < len(fmt):
                spec = fmt[i + 1]
                if spec == "%":
                    out.append("%")
                else:
                    value = rest.pop(0) if rest else ""
                    out.append(shell.ansi_c(value) if spec == "b" else value)
                i += 2
                continue
            out.append(fmt[i])
            i += 1
        return "".join(out)
    return None


def decode(program: str, args: list[str], data: str) -> str | None:
    """Run a decoder stage of a pipeline in process (base64 -d, xxd -r -p, rev)."""
    try:
        if program in ("base64", "basenc") and any(a in ("-d", "--decode", "-D") or (a.startswith("-") and "d" in a and not a.startswith("--")) for a in args):
            import binascii

            return binascii.a2b_base64(data.strip().encode()).decode("utf-8", "replace")
        if program == "xxd" and "-r" in args:
            return bytes.fromhex("".join(data.split())).decode("utf-8", "replace")
        if program == "rev":
            return "\n".join(line[::-1] for line in data.split("\n"))
    except ValueError:
        return None
    return None


def evaluate(commands: list[shell.Command], ctx: Context) -> str | None:
    """The output of a substitution when it is plain printing (and decoding): `$(echo rm)`, `$(echo cm0= | base64 -d)`."""
    if not commands or len(commands) > 4:
        return None
    text = None
    for index, command in enumerate(commands):
        if index and command.pipe_prev is not commands[index - 1]:
            return None
        argv = [expand(w, ctx) for w in command.words]
        if not argv:
            return None
        program = norm_program(argv[0])
        if index == 0 and ctx.table.has(program, "prints_temp_path"):
            text = "/tmp/tmp." + UNKNOWN + "mktemp" + END  # a fresh name under the temp folder
        elif index == 0:
            text = printed_text(program, argv[1:])
        else:
            text = decode(program, argv[1:], text or "")
        if text is None:
            return None
    return text.rstrip("\n") if text is not None else None


# ------------------------------------------------------------------ walking commands


def walk(commands: list[shell.Command], ctx: Context, via: list[str], depth: int) -> None:
    if depth > shell.MAX_DEPTH:
        raise shell.TooDeep("commands nested too deeply")
    for command in commands:
        ctx.step()
        words = list(command.words)
        for word in words + [w for _, w in command.redirects] + ([command.stdin] if command.stdin else []):
            for sub in word.subs():
                label = {"$(": "$(...)", "`": "`...`", "<(": "<(...)", ">(": ">(...)"}.get(sub[3], "$(...)")
                ctx.trace.append(f"looked inside {label}: {sub[1].strip()[:80]}")
                walk(sub[2], ctx, via + [label], depth + 1)
        argv, aligned = [], []
        for word in words:
            for value in expand_words(word, ctx):
                argv.append(value)
                aligned.append(word)
        words = aligned
        outputs, inputs, network = [], [], []
        for op, target in command.redirects:
            path = expand(target, ctx)
            if path.startswith(("/dev/tcp/", "/dev/udp/")):
                network.append(path)
            if op in ("<", "<>"):
                inputs.append(path)
            if op != "<":
                outputs.append(path)
        stdin = None
        if command.stdin is not None:
            stdin = ("text", expand(command.stdin, ctx))
        elif command.pipe_prev is not None:
            stdin = ("pipe", command.pipe_prev)
        elif inputs:
            stdin = ("file", inputs[-1])
        before = len(ctx.invocations)
        resolve(argv, words, ctx, via, stdin, depth)
        produced = ctx.invocations[before:]
        if (outputs or inputs or network) and not produced:
            holder = Invocation(":redirect", [], ctx, via)
            ctx.invocations.append(holder)
            produced = [holder]
        if produced:
            last = next((p for p in reversed(produced) if not (p.record or {}).get("privilege")), produced[-1])
            last.outputs += outputs
            last.inputs += inputs
            if network:
                last.facts["raw_network_redirect"] = f"redirects to {network[0]}"
            if (last.record or {}).get("downloads"):
                ctx.downloaded.update(o for o in outputs if UNKNOWN not in o)
            remember_writes(last, outputs, command, ctx)
            if command.pipe_prev is not None:
                for invocation in produced:
                    if (invocation.record or {}).get("network"):
                        invocation.stdin_from = stdin_kind(command.pipe_prev, ctx)


def stdin_kind(command: shell.Command, ctx: Context) -> str:
    """What a pipe carries: "literal" (printed text known now), "local" (a file's content) or "dynamic"."""
    kind, _ = producer_text(command, ctx)
    return "literal" if kind in ("text", "decoded") else kind


def producer_text(command: shell.Command, ctx: Context) -> tuple[str, str | None]:
    """Classify what a pipeline feeds into a shell: ("text", script) when it is printed literally,
    ("local", None) for a plain file, ("dynamic", description) otherwise."""
    chain = []
    node: shell.Command | None = command
    while node is not None and len(chain) < 8:
        chain.append(node)
        node = node.pipe_prev
    chain.reverse()
    text = None
    for index, stage in enumerate(chain):
        argv = [expand(w, ctx) for w in stage.words]
        while argv and "=" in argv[0] and not argv[0].startswith("-"):
            argv = argv[1:]
        if not argv:
            return "dynamic", "an empty command"
        program = norm_program(argv[0])
        if index == 0:
            if program in ("echo", "printf"):
                text = printed_text(program, argv[1:])
                if text is None:
                    return "dynamic", f"`{stage.text()}` (prints a value only known at run time)"
                continue
            if program in ("cat", "head", "tail") and stage.stdin is None:
                files = [a for a in argv[1:] if not a.startswith("-")]
                if files and not any(UNKNOWN in f for f in files) and not any(w.subs() for w in stage.words):
                    if any(f in ctx.downloaded for f in files):
                        return "dynamic", f"`{stage.text()}` (a file this command downloaded)"
                    return ("local", None) if len(chain) == 1 else ("dynamic", f"`{stage.text()}` transformed")
            if stage.stdin is not None and program in ("cat",):
                text = expand(stage.stdin, ctx)
                if UNKNOWN in text:
                    return "dynamic", "a here-document with substitutions"
                continue
            return "dynamic", f"the output of `{stage.text()[:60]}`"
        decoded = decode(program, argv[1:], text or "")
        if decoded is None:
            return "dynamic", f"the output of `{stage.text()[:60]}`"
        ctx.trace.append(f"decoded the payload with {program}: {decoded.strip()[:80]}")
        text = decoded
    if len(chain) > 1:
        return "decoded", text
    return "text", text


# ------------------------------------------------------------------ resolving one simple command


def emit(ctx: Context, program: str, args: list[str], via: list[str]) -> Invocation:
    invocation = Invocation(program, args, ctx, via)
    ctx.invocations.append(invocation)
    return invocation


def strip_options(args: list[str], with_value: set[str], positional_first: int) -> list[str]:
    """Drop a prefix command's options (and their values), then `positional_first` positionals."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if arg == "-":
            i += 1
            continue
        if not arg.startswith("-"):
            break
        name = arg.split("=", 1)[0]
        if name in with_value and "=" not in arg:
            i += 2
            continue
        if len(arg) > 2 and not arg.startswith("--") and arg[:2] in with_value:
            i += 1  # value glued to a short option: -n19, -uPATH
            continue
        i += 1
    i += positional_first
    return args[i:]


class Call:
    """One simple command being resolved: its words, where it runs, what feeds it, and its program's record."""

    __slots__ = ("argv", "words", "ctx", "via", "stdin", "depth", "env", "program", "record")

    def __init__(self, argv: list[str], words: list, ctx: Context, via: list[str], stdin, depth: int, env: dict[str, str]):
        self.argv, self.words, self.ctx, self.via, self.stdin, self.depth, self.env = argv, words, ctx, via, stdin, depth, env
        self.program = norm_program(argv[0])
        self.record = ctx.table.find(self.program)

    def then(self, argv: list[str], words: list, via: list[str] | None = None) -> tuple:
        """Resolve another command line in this one's place (a prefix stripped, an alias expanded)."""
        return argv, words, via if via is not None else self.via


def resolve(argv: list[str], words: list, ctx: Context, via: list[str], stdin, depth: int) -> None:
    words = list(words) + [None] * (len(argv) - len(words))
    for _ in range(64):
        ctx.step()
        env: dict[str, str] = {}
        while argv and "=" in argv[0] and not argv[0].startswith(("-", "=")) and "/" not in argv[0].split("=", 1)[0]:
            name, _, value = argv[0].partition("=")
            if value.startswith("(") and value.endswith(")"):  # an array
                ctx.arrays[name] = [w.literal or UNKNOWN + name + END for c in shell.parse(value[1:-1]) for w in c.words]
                value = (ctx.arrays[name] or [""])[0]
            env[name] = value
            argv, words = argv[1:], words[1:]
        if argv and argv[0].startswith("=") and len(argv) > 1:  # `=2 cmd`: bash runs nothing sane; look at the rest
            argv, words = argv[1:], words[1:]
        settings_run_later(env, ctx, via, depth)
        if not argv:
            ctx.vars.update(env)
            return
        if env:
            ctx.trace.append("set " + ", ".join(f"{k}={v}" for k, v in env.items()).replace(UNKNOWN, "$").replace(END, ""))
        call = Call(argv, words, ctx, via, stdin, depth, env)
        if words and words[0] is not None and any(p[0] == "var" and not ctx.knows(p[1]) for p in words[0].parts):
            # ${RUNNER:-pytest}: the default is known, but the environment chooses the program
            holder = emit(ctx, ":program", [argv[0]], via)
            holder.unresolved = True
            holder.display = f"{words[0].text()} (the environment chooses the program)"
        if argv[0] in ctx.shell_aliases and not via[-1:] == ["alias " + argv[0]]:
            line = [w.literal or "" for c in shell.parse(ctx.shell_aliases[argv[0]]) for w in c.words] + argv[1:]
            ctx.trace.append(f"expanded the alias {argv[0]} = {ctx.shell_aliases[argv[0]]}")
            argv, words, via = line, [None] * len(line), via + ["alias " + argv[0]]
            continue
        planted = planted_program(call)
        if planted is not None:
            run_script(planted, [], ctx, via + [f"{argv[0]} from PATH"], depth, f"{argv[0]}, a file this command put first on PATH")
            return
        handler = HANDLERS[(call.record or {}).get("handler", "plain") if UNKNOWN not in argv[0] else "plain"]
        following = handler(call)
        if following is None:
            return
        argv, words, via = following


def planted_program(call: Call) -> str | None:
    """State across steps: a program name that resolves to a file this command wrote into a folder it put on PATH."""
    path = call.ctx.vars.get("PATH")
    if not path or "/" in call.argv[0]:
        return None
    for folder in path.split(":"):
        if UNKNOWN in folder:
            break
        where = normpath(join(folder, call.argv[0]))
        if where in call.ctx.files:
            return call.ctx.files[where] or UNKNOWN + "planted" + END
    return None


def alias_call(call: Call) -> None:
    for arg in call.argv[1:]:
        if "=" in arg:
            name, _, value = arg.partition("=")
            call.ctx.shell_aliases[name] = value


def keyword_call(call: Call):
    return call.then(call.argv[1:], call.words[1:])


def loop_call(call: Call) -> None:
    if len(call.argv) > 1:
        call.ctx.vars.pop(call.argv[1], None)


def cd_call(call: Call) -> None:
    ctx = call.ctx
    target = next((a for a in call.argv[1:] if not a.startswith("-")), ctx.home)
    if UNKNOWN in target or ctx.cwd is None and not target.startswith("/"):
        ctx.cwd = None
    else:
        ctx.cwd = normpath(join(ctx.cwd or "/", target))
    ctx.trace.append(f"cd: now in {ctx.cwd or 'an unknown folder'}")


def assign_call(call: Call) -> None:
    assigned = {}
    for arg in call.argv[1:]:
        if "=" in arg and not arg.startswith("-"):
            name, _, value = arg.partition("=")
            call.ctx.vars[name] = assigned[name] = value
    settings_run_later(assigned, call.ctx, call.via, call.depth)


def settings_run_later(env: dict[str, str], ctx: Context, via: list[str], depth: int) -> None:
    """Environment variables whose value runs later: a command (GIT_SSH_COMMAND, PROMPT_COMMAND) is guarded now;
    a library or startup file loaded into every program (LD_PRELOAD, BASH_ENV) asks unless it is in the repository."""
    for name, value in env.items():
        if name in ctx.table.command_env and value.strip():
            run_script(value, [None], ctx, via + [f"{name}="], depth, f"{name}, a command run later")
        elif name in ctx.table.option_env and value.strip():  # LESS='+!cmd': the program's own commands, run later
            program = ctx.table.option_env[name]
            words = value.split(" ")
            plus = next((i for i, word in enumerate(words) if word.startswith("+")), None)
            if plus is not None:  # a +command runs to the end of the value
                text = " ".join(words[plus:])
                own_commands(ctx, ctx.table.find(program) or {}, program, text[2:] if text.startswith("++") else text[1:],
                             via + [f"{name}="], depth, f"{name}, {program}'s options")
        elif name in ctx.table.library_env and value.strip():
            where = normpath(join(ctx.cwd or ctx.project or "/", value.split()[0].lstrip("-")))
            if UNKNOWN in value or not inside(where, ctx.project) and not installed(where):
                emit(ctx, ":environment", [f"{name}={value}"], via).effects.append(
                    ("unclassified", value, f"{name} loads {value} into every program it starts"))


def unset_call(call: Call) -> None:
    for arg in call.argv[1:]:
        call.ctx.vars.pop(arg, None)


def eval_call(call: Call) -> None:
    script = " ".join(call.argv[1:])
    run_script(script, call.words[1:], call.ctx, call.via + ["eval"], call.depth, f"eval {script[:60]}")


def source_call(call: Call) -> None:
    argv = call.argv
    emit(call.ctx, call.program, argv[1:], call.via)
    target = argv[1] if len(argv) > 1 else ""
    script_from_file(target, call.words[1] if len(call.words) > 1 else None, call.stdin, call.ctx, call.via + [call.program],
                     call.depth, call.program)


def wrapper_call(call: Call):
    """A prefix that runs the rest of its arguments as a command (env, timeout, sudo, nohup ...)."""
    record, argv, ctx = call.record, call.argv, call.ctx
    if record.get("privilege"):
        emit(ctx, call.program, argv[1:], call.via)
    if any(a in (record.get("lookup_options") or ()) for a in argv[1:2]):
        emit(ctx, call.program, argv[1:], call.via)
        return None
    with_value = set(record.get("value_options") or ())
    scripts = [(o, v) for o, v in option_values(argv[1:], with_value) if (record.get("options") or {}).get(o) == "command"]
    rest = strip_options(argv[1:], with_value, (record.get("wrapper") or {}).get("skip", 0))
    if scripts and call.program == "env":  # env -S splits its value into the command's first words
        rest = [w.literal or "" for c in shell.parse(scripts[0][1]) for w in c.words] + rest
    elif scripts:
        run_script(scripts[0][1], [None], ctx, call.via + [f"{call.program} {scripts[0][0]}"], call.depth, f"{call.program} {scripts[0][0]}")
        return None
    if call.program == "timeout" and rest and rest[0][:1].isdigit():
        rest = rest[1:]
    ctx.trace.append(f"unwrapped the {call.program} prefix")
    return call.then(rest, call.words[len(argv) - len(rest):], call.via + [call.program])


def su_call(call: Call) -> None:
    emit(call.ctx, call.program, call.argv[1:], call.via)
    for option, value in option_values(call.argv[1:], set(call.record.get("value_options") or ()) | {"-c", "--command"}):
        if option in ("-c", "--command"):
            run_script(value, [None], call.ctx, call.via + ["su -c"], call.depth, "su -c")


def option_values(args: list[str], with_value: set[str]) -> list[tuple[str, str]]:
    """(option, value) for each option that takes a value: `-o x`, `--out=x`, `-ox`."""
    found, i = [], 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            break
        if arg.startswith("--") and "=" in arg and arg.split("=", 1)[0] in with_value:
            found.append(tuple(arg.split("=", 1)))
        elif arg in with_value:
            found.append((arg, args[i + 1] if i + 1 < len(args) else ""))
            i += 2
            continue
        elif arg.startswith("-") and not arg.startswith("--") and len(arg) > 2 and arg[:2] in with_value:
            found.append((arg[:2], arg[2:]))
        elif arg.startswith("-") and not arg.startswith("--") and len(arg) > 2 and arg[1:].isalpha():
            # combined short flags: -sLo FILE, -qc 'cmd' (the first letter that takes a value takes the rest)
            at = next((k for k in range(2, len(arg)) if "-" + arg[k] in with_value), None)
            if at is not None:
                if at + 1 < len(arg):
                    found.append(("-" + arg[at], arg[at + 1:]))
                else:
                    value = args[i + 1] if i + 1 < len(args) else ""
                    found.append(("-" + arg[at], value))
                    # vim -es -S x.vim: a letter that may take a value, then an option; read both ways
                    i += 1 if value.startswith("-") and len(value) > 1 else 2
                    continue
        elif "=" in arg and arg.split("=", 1)[0] in with_value:  # dd's of=FILE
            found.append(tuple(arg.split("=", 1)))
        i += 1
    return found


def split_positionals(args: list[str], with_value) -> tuple[list[str], int]:
    """The positionals of a call (option values dropped), and the index in args where positionals end the options
    (for a command line that follows them: `docker run IMAGE cmd ...`)."""
    out, i = [], 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return out + args[i + 1:], i + 1
        if arg.startswith("-") and arg != "-" and UNKNOWN not in arg[:1]:
            i += 2 if arg in with_value and "=" not in arg else 1
            continue
        out.append(arg)
        i += 1
    return out, len(args)


def nested_after(args: list[str], with_value, count: int) -> list[str] | None:
    """The command line after `count` positionals (options and their values skipped before each)."""
    i, seen = 0, 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            if seen >= count:
                return args[i:]
            continue
        if arg.startswith("-") and arg != "-":
            i += 2 if arg in with_value and "=" not in arg else 1
            continue
        if seen >= count:
            return args[i:]
        seen += 1
        i += 1
    return None


def plain_call(call: Call) -> None:
    """A program the guard does not look inside by handler: emit it, then guard its command-taking arguments."""
    ctx, argv, head = call.ctx, call.argv, call.argv[0]
    args = argv[1:]
    if call.stdin and call.stdin[0] == "pipe" and (call.record or {}).get("deletes") and not [a for a in args if not a.startswith("-")]:
        args = args + [UNKNOWN + "stdin" + END]  # fed by a pipe: whatever the writer meant to delete is unknown
    invocation = emit(ctx, call.program if UNKNOWN not in call.program else "?", args, call.via)
    if UNKNOWN in head:
        invocation.unresolved = True
        ctx.trace.append(f"the program name `{head.replace(UNKNOWN, '$').replace(END, '')}` is only known at run time")
    runs_written_file(call, invocation)
    record = invocation.record
    if not record:
        guess_code_options(call, args)
        return
    nested_commands(call, record, args)
    record_downloads(call, record, args)
    if record.get("sql"):
        sql_statements(call, invocation, record, args)
    if record.get("script_sends") and call.stdin and call.stdin[0] == "text":
        for line in call.stdin[1].splitlines():  # ftp/sftp batch: put FILE sends FILE
            words = line.split()
            if words and words[0].lower() in record["script_sends"]:
                invocation.effects += [(kind, w, f"{call.program} {words[0]} sends {w}") for w in words[1:2] for kind in ("send", "read")]
    if record.get("writes") == "last" and not record.get("network"):
        found, _ = split_positionals(args, set(record.get("value_options") or ()))
        source = normpath(join(ctx.cwd or ctx.project or "/", found[0])) if found else None
        if len(found) >= 2 and UNKNOWN not in found[-1] and source in ctx.files:  # cp/mv: the copy holds what the source held
            ctx.files[normpath(join(ctx.cwd or ctx.project or "/", found[-1]))] = ctx.files[source]
    for name in record.get("runs_files") or ():
        where = normpath(join(ctx.cwd or ctx.project or "/", name))
        if where in ctx.files:
            content = ctx.files[where]
            if content is None or name.endswith(".json"):
                invocation.effects.append(("unclassified", name, f"{call.program} runs what {name} says, and this command rewrote it"))
            else:
                run_script(content, [], ctx, call.via + [f"{call.program} runs {name}"], call.depth, f"{call.program} runs {name}")
    roles = record.get("options") or {}
    for option, value in option_values(args, set(record.get("value_options") or ())):
        if roles.get(option) in ("recipes", "recipes_text"):
            text = value if roles[option] == "recipes_text" else (
                call.stdin[1] if value == "-" and call.stdin and call.stdin[0] == "text" else ctx.files.get(normpath(join(ctx.cwd or ctx.project or "/", value))))
            for line in recipe_lines(text or ""):
                run_script(line, [], ctx, call.via + [f"{call.program} {option}"], call.depth, f"{call.program} recipe")


def recipe_lines(text: str) -> list[str]:
    """The shell lines of a Makefile or justfile: indented recipe lines, and what follows `target: ;`."""
    lines = []
    for line in text.replace("\\n", "\n").split("\n"):
        if line[:1] in ("\t", " ") and line.strip():
            lines.append(line.strip().lstrip("@-"))
        elif ":" in line and ";" in line.split(":", 1)[1]:
            lines.append(line.split(":", 1)[1].split(";", 1)[1].strip().lstrip("@-"))
    return [make_variables(line) for line in lines]


def make_variables(line: str) -> str:
    """A recipe line as the shell sees it: make's own $(VAR), ${VAR} and $@-style variables are make's, `$$` is `$`."""
    out, i = [], 0
    while i < len(line):
        if line.startswith("$$", i):
            out.append("$")
            i += 2
        elif line.startswith(("$(", "${"), i):
            end = line.find(")" if line[i + 1] == "(" else "}", i)
            out.append("x")
            i = len(line) if end < 0 else end + 1
        elif line[i] == "$" and i + 1 < len(line):
            out.append("x")
            i += 2
        else:
            out.append(line[i])
            i += 1
    return "".join(out)


def record_downloads(call: Call, record: dict, args: list[str]) -> None:
    """State across steps: what a download writes (curl -o, -O, a clone's folder) is remembered, so running it
    later in the same command is running fetched code."""
    ctx = call.ctx
    if not record.get("downloads"):
        return
    roles = record.get("options") or {}
    for option, value in option_values(args, set(record.get("value_options") or ())):
        if roles.get(option) == "write" and UNKNOWN not in value:
            ctx.downloaded.add(value)
    if any(roles.get(a) == "remote_name" for a in args) or any(a[:1] == "-" and a[1:].isalpha() and roles.get("-O") == "remote_name" and "O" in a[1:] for a in args):
        ctx.downloaded.update(a.rsplit("/", 1)[-1] for a in args if "://" in a)  # curl -O: named after the URL
    if record.get("writes") == "last":
        found, _ = split_positionals(args, set(record.get("value_options") or ()))
        if len(found) > 1 + record.get("depth", 0):
            ctx.downloaded.add(found[-1].rstrip("/") + "/")  # a clone: everything below it came from the network


CODE_LIKE_OPTIONS = ("-c", "-e", "--command", "--eval", "--exec", "--run", "-x", "--execute")


def guess_code_options(call: Call, args: list[str]) -> None:
    """A program nobody described, given `-c 'rm -rf ~'`: read the value as shell too (a guess, so its own words
    get no pessimistic default), the way `node -e "rm -rf /"` is."""
    for option, value in option_values(args, set(CODE_LIKE_OPTIONS)):
        if " " in value.strip():
            walk(shell.parse(value, call.depth + 1), call.ctx, call.via + [f"{call.program} {option} read as shell"], call.depth + 1)


def runs_written_file(call: Call, invocation: Invocation) -> None:
    """State across steps: a file this command downloaded or wrote, then ran as a program."""
    ctx, head = call.ctx, call.argv[0]
    where = normpath(join(ctx.cwd or "/", head))
    fetched = {normpath(join(ctx.cwd or "/", d)) + ("/" if d.endswith("/") else "") for d in ctx.downloaded}
    if head in ctx.downloaded or where in fetched or any(d.endswith("/") and where.startswith(d) for d in fetched):
        invocation.facts["pipe_into_shell"] = f"runs {head}, a file this command just downloaded"
    elif "/" in head and where in ctx.files:
        content = ctx.files[where]
        if content is None:
            invocation.effects.append(("unclassified", head, f"runs {head}, which this command wrote with content only known at run time"))
        else:
            run_script(content, [], ctx, call.via + [f"{head}, written by this command"], call.depth, f"{head} (written above)")


def nested_commands(call: Call, record: dict, args: list[str]) -> None:
    """Every command-taking argument is a nested command, guarded the same way."""
    ctx, via, depth = call.ctx, call.via, call.depth
    roles = record.get("options") or {}
    with_value = set(record.get("value_options") or ()) | {o for o, r in roles.items() if r not in FLAG_ROLES}
    for option, value in option_values(args, with_value):
        role = roles.get(option)
        if role == "command" and value:
            run_script(value, [None], ctx, via + [f"{call.program} {option}"], depth, f"{call.program} {option}")
        elif role == "argv" and value:
            line = value.split()
            resolve(line, [None] * len(line), ctx, via + [f"{call.program} {option}"], None, depth + 1)
        elif role == "program_command" and value:  # vim -c ':!cmd', emacs --eval '(shell-command ...)'
            own_commands(ctx, record, call.program, value, via, depth, f"{call.program} {option}")
        elif role == "program_command_file" and value:  # vim -S script.vim, vim -s keys.txt
            commands_from_file(call, record, option, value)
        elif role == "program_dir" and value:  # git --exec-path=DIR runs its subcommands from DIR
            programs_in_folder(call, f"{call.program} {option}", value)
    if record.get("plus_commands"):  # less +'!cmd', vim '+!cmd'
        found, _ = split_positionals(args, with_value)
        for arg in found:
            if arg.startswith("+") and len(arg) > 1:
                own_commands(ctx, record, call.program, arg[2:] if arg.startswith("++") else arg[1:], via, depth, f"{call.program} {arg[:20]}")
    verb_offset = record.get("depth", 0)
    if "command_after" in record:
        rest = nested_after(args, with_value, record["command_after"] + verb_offset)
        if rest:
            ctx.trace.append(f"looked inside {call.program}'s command: {' '.join(rest)[:80]}")
            resolve(rest, [None] * len(rest), ctx, via + [f"{call.program} {record.get('verb') or ''}".strip()], None, depth + 1)
    if "script_after" in record:
        rest = nested_after(args, with_value, record["script_after"] + verb_offset)
        if rest:  # joined with spaces and parsed again, as ssh and watch do; and word by word, as the caller meant
            run_script(" ".join(rest), [None], ctx, via + [call.program], depth, f"{call.program}'s command line")
            if len(rest) > 1 and any(" " in word for word in rest):
                run_script(" ".join(shell_quote(w) for w in rest), [None], ctx, via + [call.program], depth, f"{call.program}'s command words")
    if record.get("command_values") or record.get("script_dir_values"):
        stored_commands(call, record, args)


def commands_from_file(call: Call, record: dict, option: str, path: str) -> None:
    """A file of the program's own commands (vim -S, -s, -u): read like its command line when the guard can read it
    (written earlier in this command, or small on disk); one outside the repository that it cannot read asks."""
    ctx, label = call.ctx, f"{call.program} {option} {path}"
    if path.startswith("-") and len(path) > 1:  # vim -es -S x.vim: an option, read as one too (option_values)
        return
    content = read_small_file(path, ctx)
    if content is not None:
        own_commands(ctx, record, call.program, content, call.via + [label], call.depth, label)
        return
    where = normpath(join(ctx.cwd or ctx.project or "/", path))
    if UNKNOWN in path or not inside(where, ctx.project) and not installed(where):
        emit(ctx, ":" + call.program, [path], call.via).effects.append(
            ("unclassified", path, f"{label}: runs the commands of a file the guard cannot read"))


def programs_in_folder(call: Call, label: str, value: str) -> None:
    """A folder a program runs scripts or programs from (core.hooksPath, git --exec-path): what this command put
    there is guarded as run; a folder outside the repository that is not installed code asks."""
    ctx = call.ctx
    folder = normpath(join(ctx.cwd or ctx.project or "/", value))
    planted = [content for path, content in ctx.files.items() if path.startswith(folder + "/")]
    for content in planted:
        run_script(content or UNKNOWN + "hook" + END, [], ctx, call.via + [f"{label} = {value}"], call.depth, f"a program in {value}")
    if not planted and ctx.project and not inside(folder, ctx.project) and not installed(folder):
        emit(ctx, ":config", [label, value], call.via).effects.append(
            ("unclassified", value, f"{label} points at {value}, programs outside the repository the guard cannot see"))


def inside(path: str, project: str | None) -> bool:
    return bool(project) and (path + "/").startswith(project.rstrip("/") + "/")


def installed(path: str) -> bool:
    return any(path == d or path.startswith(d + "/") for d in SYSTEM_CODE)


def own_commands(ctx: Context, record: dict, program: str, text: str, via: list[str], depth: int, label: str) -> None:
    """Commands in a program's own command language (less +cmd, vim -c, emacs --eval, psql's \\!): a shell escape is
    a nested shell command, guarded the same way; code the guard cannot read there asks."""
    spec = ctx.table.command_language(record.get("command_language") or "")
    if not spec or not text:
        return
    if UNKNOWN in text:
        emit(ctx, ":" + program, [text], via).effects.append(("unclassified", "?", f"{label}: commands only known at run time"))
        return
    scripts, unreadable = command_escapes(text, spec)
    for script in scripts:
        ctx.trace.append(f"{label} runs a shell command")
        run_script(script, [None], ctx, via + [label], depth, f"{label}'s shell escape")
    if unreadable:
        emit(ctx, ":" + program, [text], via).effects.append(
            ("unclassified", text[:80], f"{label} runs `{unreadable}`, code the guard cannot read"))


def command_escapes(text: str, spec: dict) -> tuple[list[str], str | None]:
    """The shell commands a program's own commands run (each to the end of its line), and the first command or call
    that runs code the guard cannot read, by the command language's spec (programs.yml, command_languages)."""
    separator, skip = spec.get("separator") or "", spec.get("skip") or " \t"
    modifiers = {m.lower() for m in spec.get("modifiers") or ()}
    code_commands = {c.lower() for c in spec.get("code_commands") or ()}
    scripts: list[str] = []
    unreadable = None
    for line in text.split("\n"):
        start = 0
        while True:
            end = line.find(separator, start) if separator else -1
            tail = line[start:].lstrip(skip)  # to the end of the line: a shell escape takes the rest of it
            for _ in range(8):
                escape = next((p for p in spec.get("shell") or () if starts_with_word(tail, p)), None)
                if escape is not None:
                    scripts.append(tail[len(escape):])
                    break
                word = leading_word(tail)
                if word.lower() in modifiers and word:
                    tail = tail[len(word):].lstrip(" \t")
                    continue
                if word.lower() in code_commands:
                    unreadable = unreadable or word
                break
            if escape is not None or end < 0:
                break
            start = end + len(separator)
        for marker in spec.get("shell_anywhere") or ():
            at = line.find(marker)
            if at >= 0:
                scripts.append(line[at + len(marker):])
    lowered = text.lower()
    unreadable = unreadable or next((c for c in spec.get("code_calls") or () if c.lower() in lowered), None)
    return [script for script in scripts if script.strip()], unreadable


def starts_with_word(text: str, prefix: str) -> bool:
    """A command prefix; one that starts with a letter matches in any case (mysql's `SYSTEM cmd`)."""
    return text.startswith(prefix) or (prefix[:1].isalpha() and text.lower().startswith(prefix.lower()))


def leading_word(text: str) -> str:
    for index, char in enumerate(text):
        if not (char.isalnum() or char == "_"):
            return text[:index]
    return text


def stored_commands(call: Call, record: dict, args: list[str]) -> None:
    """A command stored now and run later (git config alias.x '!...', npm pkg set scripts.x=...): guard it now,
    and remember git aliases for the steps that follow."""
    found, _ = split_positionals(args, set(record.get("value_options") or ()))
    found = found[record.get("depth", 0):]
    pairs = []
    for index, arg in enumerate(found):
        if "=" in arg and not arg.startswith("-"):
            pairs.append(tuple(arg.split("=", 1)))
        elif index + 1 < len(found):
            pairs.append((arg, found[index + 1]))
    for key, value in pairs:
        if key.lower() in {k.lower() for k in record.get("script_dir_values") or ()}:
            programs_in_folder(call, key, value)
            continue
        if not any(glob_like(pattern.lower(), key.lower()) for pattern in record.get("command_values") or ()):
            continue
        label = f"{call.program} stores {key}"
        call.ctx.trace.append(f"{label}: a command run later")
        alias_prefix = ((record.get("aliases") or {}).get("key") or "").lower()
        if alias_prefix and key.lower().startswith(alias_prefix):
            call.ctx.aliases[key[len(alias_prefix):].lower()] = value
            continue
        forcing = ((record.get("remotes") or {}).get("forcing") or {})
        if any(glob_like(pattern.lower(), key.lower()) and value.lower().startswith(str(start).lower()) for pattern, start in forcing.items()):
            call.ctx.force_push = f"{key} = {value}"
            continue
        run_script(value.lstrip("!"), [None], call.ctx, call.via + [label], call.depth, label)


def glob_like(pattern: str, text: str) -> bool:
    if "*" not in pattern:
        return pattern == text
    head, _, tail = pattern.partition("*")
    return text.startswith(head) and text.endswith(tail.replace("*", "")) and len(text) >= len(head) + len(tail.replace("*", ""))


def sql_statements(call: Call, invocation: Invocation, record: dict, args: list[str]) -> None:
    """SQL from every channel (options, positionals, here-docs, pipes, files) checked for destructive statements."""
    spec, ctx = record["sql"], call.ctx
    texts: list[str | None] = []
    with_value = set(record.get("value_options") or ())
    for option, value in option_values(args, with_value | set(spec.get("options", ())) | set(spec.get("file_options", ()))):
        if option in spec.get("options", ()):
            texts.append(value)
        elif option in spec.get("file_options", ()):
            texts.append(read_small_file(value, ctx))
    if "positional" in spec:
        found, _ = split_positionals(args, with_value | set(spec.get("options", ())) | set(spec.get("file_options", ())))
        found = found[spec["positional"]:] if spec["positional"] < 99 else found[1:]
        texts += [t for t in found if " " in t or spec["positional"] == 0 or t.isalpha()]
    if call.stdin is not None and call.stdin[0] != "file":
        texts.append(call.stdin[1] if call.stdin[0] == "text" else producer_sql(call.stdin[1], ctx))
    for path in call.stdin[1:] if call.stdin and call.stdin[0] == "file" else ():
        texts.append(path[1:] if path.startswith(EVAL) else read_small_file(path, ctx))  # < <(printf ...) or < file
    if record.get("command_language"):  # psql's \\! and sqlite3's .shell run the shell, whatever database is open
        for text in texts:
            if text is not None:
                own_commands(ctx, record, call.program, text, call.via, call.depth, f"{call.program}'s commands")
    if "positional" in spec and 0 < spec["positional"] < 99 and found_db_is_scratch(args, with_value):
        return  # a database file under the temp folder is scratch
    for text in texts:
        if text is None or UNKNOWN in text:
            invocation.effects.append(("data_change", "?", "statements only known at run time"))
            return
        word = destructive_sql(text, ctx.table.sql_destructive)
        if word:
            invocation.effects.append(("data_change", word, f"the statement `{' '.join(text.split())[:80]}` changes or destroys data ({word})"))
            return


def found_db_is_scratch(args: list[str], with_value) -> bool:
    found, _ = split_positionals(args, with_value)
    return bool(found) and (found[0].startswith(("/tmp/", "/var/tmp/")) or found[0] == ":memory:")


def destructive_sql(text: str, words: list[str]) -> str | None:
    tokens = " " + "".join(c.lower() if c.isalnum() or c == "_" else " " for c in text) + " "
    return next((w for w in words if " " + w.lower().strip() + " " in tokens), None)


def producer_sql(command: shell.Command, ctx: Context) -> str | None:
    kind, text = producer_text(command, ctx)
    if kind == "local":
        argv = [expand(w, ctx) for w in command.words]
        files = [a for a in argv[1:] if not a.startswith("-")]
        return "\n".join(read_small_file(f, ctx) or UNKNOWN for f in files)
    return text if kind in ("text", "decoded") else None


def read_small_file(path: str, ctx: Context) -> str | None:
    """The content of a file the command names (a SQL or script file), when it is known: written earlier in this
    command, or on disk and small. None when it cannot be known."""
    if not path or UNKNOWN in path:
        return None
    where = normpath(join(ctx.cwd or ctx.project or "/", path))
    if where in ctx.files:
        return ctx.files[where]
    try:
        with open(where, encoding="utf-8", errors="replace") as handle:
            text = handle.read(MAX_SCRIPT_FILE + 1)
    except OSError:
        return None
    return text if len(text) <= MAX_SCRIPT_FILE else None


def remember_writes(invocation: Invocation, outputs: list[str], command: shell.Command, ctx: Context) -> None:
    """State across steps: what this step wrote (echo 'x' > f.sh), and the links it made (ln -s target link)."""
    for path in outputs:
        if UNKNOWN in path or path.startswith("/dev/"):
            continue
        text = None
        if invocation.program in ("echo", "printf"):
            text = printed_text(invocation.program, invocation.args)
        elif invocation.program == "cat" and command.stdin is not None and not invocation.args:
            text = expand(command.stdin, ctx)
        where = normpath(join(ctx.cwd or ctx.project or "/", path))
        previous = ctx.files.get(where, "") if any(op == ">>" for op, _ in command.redirects) else ""
        ctx.files[where] = None if text is None or previous is None else previous + text + "\n"
    if invocation.program in ("ln", "link") and invocation.args:
        found = [a for a in invocation.args if not a.startswith("-")]
        if len(found) >= 2 and UNKNOWN not in found[-1]:
            link = normpath(join(ctx.cwd or ctx.project or "/", found[-1]))
            ctx.links[link] = normpath(join(link.rsplit("/", 1)[0] or "/", found[0]))


HANDLERS = {
    "plain": plain_call, "keyword": keyword_call, "loop": loop_call, "cd": cd_call, "assign": assign_call,
    "unset": unset_call, "eval": eval_call, "source": source_call, "wrapper": wrapper_call, "su": su_call,
    "alias": alias_call,
}


def run_script(script: str, words: list, ctx: Context, via: list[str], depth: int, label: str, args: list[str] | None = None) -> None:
    """Analyse code a shell is told to run (`bash -c`, eval, here-docs, decoded payloads)."""
    source = [w for w in words if w is not None]
    fetched = [sub for w in source for sub in w.subs() if runs_network_or_decoder(sub[2], ctx)]
    if fetched:
        invocation = emit(ctx, ":shell", [script], via)
        invocation.facts["pipe_into_shell"] = f"{label} runs code produced at run time by `{fetched[0][1].strip()[:60]}`"
        return
    stripped = script.strip()
    if source and stripped and not stripped.replace(UNKNOWN + "$(" + END, "").strip():
        # eval "$(ssh-agent -s)": the output of local programs (none fetches or decodes, checked above), guarded
        # where they ran; what they print is their own business.
        ctx.trace.append(f"{label} runs the output of local programs")
        return
    if UNKNOWN in stripped:
        unknown_names = [piece.split(END, 1)[0] for piece in stripped.split(UNKNOWN)[1:]]
        if stripped.startswith(UNKNOWN) and (len(unknown_names) and all(n[:1].isdigit() or n in ("@", "*", "{}", "xargs") for n in unknown_names)):
            invocation = emit(ctx, ":shell", [script], via)
            invocation.facts["pipe_into_shell"] = f"{label} runs code that only arrives at run time (its input or arguments)"
            return
    script = script.replace(EVAL, "")
    ctx.trace.append(f"looked inside {label}")
    saved = {k: ctx.vars.get(k) for k in "0123456789@*"}
    for index, value in enumerate(args or []):
        if index < 10:
            ctx.vars[str(index)] = value
    if args:
        ctx.vars["@"] = ctx.vars["*"] = " ".join(args[1:])
    saved_cwd = ctx.cwd
    try:
        walk(shell.parse(script, depth + 1), ctx, via, depth + 1)
    finally:
        ctx.cwd = saved_cwd
        for key, value in saved.items():
            if value is None:
                ctx.vars.pop(key, None)
            else:
                ctx.vars[key] = value


def runs_network_or_decoder(commands: list[shell.Command], ctx: Context) -> bool:
    for command in commands:
        for word in command.words:
            for sub in word.subs():
                if runs_network_or_decoder(sub[2], ctx):
                    return True
        argv = [expand(w, ctx) for w in command.words]
        table = ctx.table
        while argv and ("=" in argv[0] or (table.find(norm_program(argv[0])) or {}).get("handler") == "wrapper") and len(argv) > 1:
            argv = argv[1:]
        record = table.find(norm_program(argv[0])) if argv else None
        if record and (record.get("network") or record.get("decoder")) and not record.get("sql"):
            return True
    return False


def script_from_file(target: str, word, stdin, ctx: Context, via: list[str], depth: int, label: str, language: str = "shell") -> None:
    """A shell or interpreter runs a file: a download, a process substitution, its stdin, a file this command wrote
    (classified by its content), or a file on disk (classified when it is small)."""
    if word is not None and word.subs():
        sub = word.subs()[0]
        if runs_network_or_decoder(sub[2], ctx):
            invocation = emit(ctx, ":shell", [target], via)
            invocation.facts["pipe_into_shell"] = f"{label} runs code produced at run time by `{sub[1].strip()[:60]}`"
        return
    if target in ctx.downloaded or normpath(join(ctx.cwd or "/", target)) in {normpath(join(ctx.cwd or "/", d)) for d in ctx.downloaded}:
        invocation = emit(ctx, ":shell", [target], via)
        invocation.facts["pipe_into_shell"] = f"{label} runs {target}, which this command just downloaded"
        return
    if target in ("/dev/stdin", "-", "/proc/self/fd/0", "/dev/fd/0"):
        from_stdin(stdin, ctx, via, depth, label, language)
        return
    if "://" in target:
        emit(ctx, ":shell", [target], via).facts["pipe_into_shell"] = f"{label} runs code straight from {target}"
        return
    if UNKNOWN in target and all(p.split(END, 1)[0] in ("xargs",) for p in target.split(UNKNOWN)[1:]):
        return  # file names a listing feeds in (find ... | xargs bash -n): files of the repository, run as such
    if UNKNOWN in target:
        emit(ctx, ":shell", [target], via).effects.append(("unclassified", target, f"{label} runs a file only known at run time"))
        return
    where = normpath(join(ctx.cwd or ctx.project or "/", target))
    outside = ctx.project is not None and not (where + "/").startswith(ctx.project.rstrip("/") + "/")
    if where not in ctx.files and outside and not any(where.startswith(d + "/") for d in SYSTEM_CODE):
        content = read_small_file(where, ctx)
        scratch = any(where.startswith(t + "/") for t in ("/tmp", "/var/tmp", "/dev/shm"))
        if content is None and not scratch:
            return  # an installed tool's script under the home folder (~/.nvm/nvm.sh, ~/.cargo/env): run as installed
        if content is None:
            emit(ctx, ":shell", [target], via).effects.append(
                ("unclassified", target, f"{label} runs {target}, a file outside the repository the guard cannot read"))
        elif language == "shell":
            run_script(content, [], ctx, via + [target], depth, f"{label} {target}")
        else:
            inline().code_call(language, content, ctx, via + [target], depth)
        return
    if where in ctx.files:
        content = ctx.files[where]
        if content is None:
            emit(ctx, ":shell", [target], via).effects.append(("unclassified", target, f"{label} runs {target}, written above with content only known at run time"))
        elif language == "shell":
            run_script(content, [], ctx, via + [f"{target} (written above)"], depth, f"{label} {target} (written above)")
        else:
            inline().code_call(language, content, ctx, via + [f"{target} (written above)"], depth)


def from_stdin(stdin, ctx: Context, via: list[str], depth: int, label: str, language: str) -> None:
    if stdin is None:
        return
    if stdin[0] == "file":
        script_from_file(stdin[1], None, None, ctx, via, depth, label + " reading a file", language)
        return
    if stdin[0] == "text":
        if language == "shell":
            run_script(stdin[1], [], ctx, via + [label + " <<here-doc"], depth, label + " reading a here-document")
        else:
            inline().code_call(language, stdin[1], ctx, via + [label + " <<here-doc"], depth)
        return
    kind, text = producer_text(stdin[1], ctx)
    if kind == "local":
        ctx.trace.append(f"{label} reads a local file from the pipe")
        return
    if kind == "dynamic":
        invocation = emit(ctx, ":shell", [], via)
        invocation.facts["pipe_into_shell"] = f"{label} runs code piped in from {text}"
        return
    if kind == "decoded":
        invocation = emit(ctx, ":shell", [text or ""], via)
        invocation.facts["pipe_into_shell"] = f"{label} runs a decoded payload: {(text or '').strip()[:80]}"
    if language == "shell":
        run_script(text or "", [], ctx, via + [label + " reading a pipe"], depth, label + " reading printed text")
    else:
        inline().code_call(language, text or "", ctx, via + [label + " reading a pipe"], depth)


def shell_call(call: Call) -> None:
    program, argv, words, ctx, via, stdin, depth = call.program, call.argv, call.words, call.ctx, call.via, call.stdin, call.depth
    i, has_c, reads_stdin = 1, False, False
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if arg in call.record.get("value_options", ()):
            i += 2
            continue
        if arg.startswith("-") and not arg.startswith("--") and len(arg) > 1:
            has_c = has_c or "c" in arg[1:]
            reads_stdin = reads_stdin or "s" in arg[1:]
            i += 1
            continue
        if arg.startswith("--") or (arg.startswith("+") and len(arg) > 1):
            i += 1
            continue
        break
    label = f"{program} -c" if has_c else program
    if has_c:
        if i >= len(argv):
            return
        run_script(argv[i], [words[i] if i < len(words) else None], ctx, via + [label], depth, label, args=argv[i + 1:])
        return
    if i < len(argv) and not reads_stdin:
        script_from_file(argv[i], words[i] if i < len(words) else None, stdin, ctx, via + [program], depth, program)
        return
    from_stdin(stdin, ctx, via, depth, program, "shell")


def xargs_call(call: Call) -> None:
    argv, ctx, via, depth = call.argv, call.ctx, call.via, call.depth
    with_value = set(call.record.get("value_options") or ())
    i, replace = 1, None
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if not arg.startswith("-"):
            break
        if arg in ("-I", "-J"):
            replace = argv[i + 1] if i + 1 < len(argv) else "{}"
            i += 2
            continue
        if arg.startswith(("-I", "-J")) and len(arg) > 2:
            replace = arg[2:]
        elif arg == "-i" or arg.startswith("-i"):
            replace = arg[2:] or "{}"
        elif arg == "--replace" or arg.startswith("--replace="):
            replace = arg.partition("=")[2] or "{}"
        elif arg.split("=", 1)[0] in with_value and "=" not in arg:
            i += 2
            continue
        i += 1
    rest = argv[i:] or ["echo"]
    marker = UNKNOWN + "xargs" + END
    root = listed_root(call.stdin, ctx)
    if root is not None:  # find ~ ... | xargs rm: names below the listing's root
        marker = root.rstrip("/") + "/" + FOUND
    if replace and any(replace in a for a in rest):
        rest = [a.replace(replace, marker) for a in rest]
    else:
        rest = rest + [marker]
    ctx.trace.append("unwrapped xargs: its input becomes arguments, unknown until run time")
    resolve(rest, [None] * len(rest), ctx, via + ["xargs"], None, depth + 1)


def listed_root(stdin, ctx: Context) -> str | None:
    """The folder a piped listing (find ROOT, fd ... ROOT, ls ROOT) names files under, when it is literal."""
    if not stdin or stdin[0] != "pipe" or stdin[1].pipe_prev is not None:
        return None
    argv = [expand(w, ctx) for w in stdin[1].words]
    record = ctx.table.find(norm_program(argv[0])) if argv else None
    if not record or not record.get("lists_paths"):
        return None
    found, _ = split_positionals(argv[1:], set(record.get("value_options") or ()))
    root = found[0] if found else "."
    return root if UNKNOWN not in root and EVAL not in root else None


def parallel_call(call: Call) -> None:
    argv, ctx, via, stdin, depth = call.argv, call.ctx, call.via, call.stdin, call.depth
    with_value = set(call.record.get("value_options") or ())
    i = 1
    while i < len(argv) and argv[i].startswith("-") and not argv[i].startswith(":::"):
        i += 2 if argv[i] in with_value else 1
    rest = argv[i:]
    template, inputs, seen = [], [], False
    for arg in rest:
        if arg in (":::", "::::", ":::+", "::::+"):
            seen = True
            continue
        (inputs if seen else template).append(arg)
    if not seen and not template:
        from_stdin(stdin, ctx, via, depth, "parallel", "shell")  # parallel runs each input line as a command
        return
    if not seen:
        inputs = [UNKNOWN + "xargs" + END]
    ctx.trace.append("unwrapped parallel")
    for value in inputs or [""]:
        if not template:
            run_script(value, [], ctx, via + ["parallel"], depth, "parallel")
            continue
        command = [a.replace("{}", value) for a in template] if any("{}" in a for a in template) else template + [value]
        resolve(command, [None] * len(command), ctx, via + ["parallel"], None, depth + 1)


def find_call(call: Call) -> None:
    argv, ctx, via, depth = call.argv, call.ctx, call.via, call.depth
    with_value = set(call.record.get("value_options") or ())
    filters = set(call.record.get("filters") or ())  # tests that narrow what find matches (-name, -newer ...)
    args = argv[1:]
    roots: list[str] = []
    i = 0
    while i < len(args) and args[i] in ("-H", "-L", "-P", "-E", "-X", "-s", "-x", "-d"):
        i += 1
    while i < len(args) and not args[i].startswith(("-", "(", "!", ")")) and args[i] != ",":
        roots.append(args[i])
        i += 1
    if i < len(args) and args[i] == "-f" and i + 1 < len(args):
        roots.append(UNKNOWN + "find -f" + END)  # BSD `find -f path`: a root we do not trust
    filtered, deletes, execs, named = False, False, [], None
    while i < len(args):
        arg = args[i]
        if arg in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            while j < len(args) and args[j] not in (";", "+", "\\;"):
                j += 1
            execs.append(args[i + 1:j])
            i = j + 1
            continue
        if UNKNOWN in arg:
            roots.append(arg)  # an argument only known at run time (xargs input): could be any root
        if arg in filters:
            filtered = True
        if arg in ("-name", "-iname") and i + 1 < len(args) and not any(c in args[i + 1] for c in "*?[") and UNKNOWN not in args[i + 1]:
            named = args[i + 1]  # -name .git: what it finds is called that
        if arg == "-delete":
            deletes = True
        if arg in with_value:
            i += 2
            continue
        i += 1
    roots = roots or ["."]
    found_name = FOUND if not named else named
    emit(ctx, "find", args, via)
    for root in roots:
        found = (root.rstrip("/") + "/" + found_name) if filtered and UNKNOWN not in root else root
        if deletes:
            ctx.trace.append(f"find -delete removes {'matches under' if filtered else 'everything under'} {root}")
            emit(ctx, "rm", ["-rf", found], via + ["find -delete"])
        for command in execs:
            if not command:
                continue
            filled = [a.replace("{}", found) for a in command]
            ctx.trace.append("looked inside find -exec: " + " ".join(command)[:80])
            resolve(filled, [None] * len(filled), ctx, via + ["find -exec"], None, depth + 1)


def call_settings(call: Call) -> tuple[dict[str, str], list[str], list[str]]:
    """The configuration one call sets (the record's `settings`: git -c key=value, --config-env key=VARIABLE, the
    numbered GIT_CONFIG_KEY_n variables) and the aliases among it (the record's `aliases`): (aliases, the other
    settings as key=value, the arguments after the program's own options)."""
    record, argv, env, ctx = call.record, call.argv, call.env, call.ctx
    spec, alias = record.get("settings") or {}, record.get("aliases") or {}
    options, numbered = spec.get("options") or {}, spec.get("env") or {}
    prefix = (alias.get("key") or "").lower()
    aliases: dict[str, str] = dict(ctx.aliases)
    pairs: list[tuple[str, str]] = []
    count = env.get(numbered.get("count", ""), "0") if numbered else "0"
    for n in range(int(count) if count.isdigit() else 0):
        pairs.append((env.get(f"{numbered.get('key', '')}{n}", ""), env.get(f"{numbered.get('value', '')}{n}", "")))
    quoted = env.get(numbered.get("pairs", ""), ctx.vars.get(numbered.get("pairs", ""), "")) if numbered.get("pairs") else ""
    for word in single_quoted_words(quoted):  # GIT_CONFIG_PARAMETERS="'core.pager'='cmd'"
        key, _, setting = word.partition("=")
        pairs.append((key, setting))
    with_value = set(record.get("value_options") or ()) | set(options)
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if not arg.startswith("-"):
            break
        name, value = arg.split("=", 1)[0], None
        if name in with_value and "=" not in arg:
            value = argv[i + 1] if i + 1 < len(argv) else ""
            i += 2
        elif arg[:2] in with_value and not arg.startswith("--") and len(arg) > 2:  # -ckey=value, -Cdir
            name, value = arg[:2], arg[2:]
            i += 1
        else:
            value = arg.split("=", 1)[1] if "=" in arg else None
            i += 1
        if name in options and value:
            key, _, setting = value.partition("=")
            if options[name] == "variable":  # the value names the variable that holds the setting
                setting = env.get(setting, ctx.vars.get(setting, UNKNOWN + setting + END))
            pairs.append((key, setting))
    settings = []
    for key, setting in pairs:
        if prefix and key.lower().startswith(prefix):
            aliases[key[len(prefix):].lower()] = setting
        elif key:
            settings.append(f"{key}={setting}")
    return aliases, settings, argv[i:]


def single_quoted_words(text: str) -> list[str]:
    """Words in the form git writes its settings to the environment: single-quoted parts, a backslash escaping one
    character, spaces between words. Text the program could not parse itself gives nothing (it refuses to run)."""
    words, word, i = [], None, 0
    while i < len(text):
        char = text[i]
        if char == "'":
            close = text.find("'", i + 1)
            if close < 0:
                return []
            word, i = (word or "") + text[i + 1:close], close + 1
        elif char == "\\" and i + 1 < len(text):
            word, i = (word or "") + text[i + 1], i + 2
        elif char.isspace():
            if word is not None:
                words.append(word)
            word, i = None, i + 1
        else:
            word, i = (word or "") + char, i + 1
    return words + ([word] if word is not None else [])


def git_call(call: Call):
    argv, ctx, via, depth = call.argv, call.ctx, call.via, call.depth
    with_value = set(call.record.get("value_options") or ())
    aliases, settings, rest = call_settings(call)
    shell_marker = (call.record.get("aliases") or {}).get("shell")
    if rest and rest[0].lower() in aliases:
        value = aliases[rest[0].lower()]
        ctx.trace.append(f"expanded the {call.program} alias {rest[0]} = {value}")
        if shell_marker and value.startswith(shell_marker):
            run_script(value[len(shell_marker):] + " " + " ".join(rest[1:]), [], ctx, via + [f"{call.program} alias {rest[0]}"], depth,
                       f"{call.program} alias {rest[0]}")
            return None
        expanded = [w.literal or "" for c in shell.parse(value) for w in c.words]
        line = [argv[0], *expanded, *rest[1:]]
        return call.then(line, [None] * len(line))
    invocation = emit(ctx, "git", rest, via)
    own_options = {"options": call.record.get("options"), "value_options": call.record.get("value_options")}
    nested_commands(call, own_options, argv[1:len(argv) - len(rest)])  # git --exec-path=DIR, before the verb
    config = (call.record.get("subcommands") or {}).get("config") or {}
    if settings and config.get("command_values"):
        stored_commands(call, {"command_values": config["command_values"], "aliases": call.record.get("aliases"),
                               "remotes": call.record.get("remotes")}, settings)
    if invocation.record:
        nested_commands(call, invocation.record, rest)
        record_downloads(call, invocation.record, rest)
        remote_where(call, invocation, rest, with_value)
    return None


def remote_where(call: Call, invocation: Invocation, rest: list[str], with_value: set[str]) -> None:
    """Where the repository goes (the record's `remotes`): a verb that sends it forces when this command configured a
    forcing refspec or mirror, and sends to a URL it names or to a remote this command set."""
    ctx, remotes = call.ctx, call.record.get("remotes") or {}
    verb = invocation.record.get("verb")
    sending = set(remotes.get("sending_verbs") or ())
    if verb in sending and ctx.force_push:
        ctx.trace.append(f"{call.program} {verb} forces: this command configured {ctx.force_push}")
        invocation.args = invocation.args + ["--force"]
    found, _ = split_positionals(rest, with_value | set(invocation.record.get("value_options") or ()))
    if verb in (remotes.get("set_by") or ()) and (any(("://" in a or "@" in a) for a in found[1:]) or any(
            glob_like(pattern.lower(), key.lower()) for pattern in remotes.get("keys") or () for key in found[1:2])):
        ctx.new_remote = " ".join(found)[:80]
    sent_by = next((word for word in found[:2] if word in sending), None)
    if sent_by:
        target = next((a for a in found[found.index(sent_by) + 1:] if "://" in a or ("@" in a and ":" in a)), None)
        if target or ctx.new_remote:
            invocation.effects.append(("send", target or ctx.new_remote, f"{call.program} {sent_by} sends the repository to "
                                       f"{target or 'a remote this command set: ' + ctx.new_remote}"))
    return None


def inline():
    """The inline-code classifier (inline_code.py), imported only when a command runs an interpreter."""
    import guard

    return guard.cached_import("inline_code")


def lazy(name: str):
    def handler(call: Call):
        return getattr(inline(), name)(call)
    return handler


HANDLERS.update({"shell": shell_call, "xargs": xargs_call, "parallel": parallel_call, "find": find_call, "git": git_call,
                 "interpreter": lazy("interpreter_call"), "pwsh": lazy("pwsh_call"), "cmd": lazy("cmd_call")})


def shell_quote(word: str) -> str:
    return word if word and all(c.isalnum() or c in "-_./=:@%+," for c in word) else "'" + word.replace("'", "'\\''") + "'"


# ------------------------------------------------------------------ paths (no os.path import needed beyond posixpath)



def join(base: str, path: str) -> str:
    return path if path.startswith("/") else base.rstrip("/") + "/" + path
