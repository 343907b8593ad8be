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
SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "yash", "csh", "tcsh"}
DOWNLOADERS = {"curl", "wget", "fetch", "aria2c", "http", "https", "xh", "lwp-request", "get", "httpie", "curlie"}
DECODERS = {"base64", "base32", "xxd", "uudecode", "openssl", "gunzip", "zcat", "gzip", "bunzip2", "xz", "unxz", "rev", "tr", "od", "basenc"}
KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "esac", "function", "in", "[[", "]]"}
INTERPRETER_PREFIXES = ("python", "pypy", "node", "nodejs", "bun", "deno", "perl", "ruby", "php", "lua", "rscript", "awk", "gawk", "mawk", "nawk")
# Prefix commands: option letters that take a value, and whether a positional (duration, priority ...) comes first.
WRAPPERS = {
    "env": ({"-u", "--unset", "-C", "--chdir", "-P", "-S", "--split-string"}, 0),
    "nice": ({"-n", "--adjustment"}, 0),
    "timeout": ({"-s", "--signal", "-k", "--kill-after"}, 1),
    "nohup": (set(), 0),
    "setsid": (set(), 0),
    "stdbuf": ({"-i", "-o", "-e", "--input", "--output", "--error"}, 0),
    "ionice": ({"-c", "-n", "-p", "-t", "--class", "--classdata"}, 0),
    "chrt": (set(), 1),
    "taskset": (set(), 1),
    "time": ({"-f", "--format", "-o", "--output"}, 0),
    "command": (set(), 0),
    "builtin": (set(), 0),
    "exec": ({"-a"}, 0),
    "watch": ({"-n", "--interval", "-d", "--differences", "-q", "--equexit"}, 0),
    "busybox": (set(), 0),
    "unbuffer": (set(), 0),
    "caffeinate": ({"-t", "-w"}, 0),
    "chroot": ({"--userspec", "--groups"}, 1),
    "flock": ({"-w", "--timeout", "-E", "--conflict-exit-code"}, 1),
    "sudo": ({"-u", "--user", "-g", "--group", "-h", "--host", "-p", "--prompt", "-C", "--close-from", "-D", "--chdir",
              "-r", "--role", "-t", "--type", "-U", "--other-user", "-T", "--command-timeout"}, 0),
    "doas": ({"-u", "-C"}, 0),
    "pkexec": ({"--user"}, 0),
    "runuser": ({"-u", "--user", "-g", "--group", "-G", "--supp-group"}, 0),
    "strace": ({"-o", "-e", "-p", "-s", "-u"}, 0),
    "ltrace": ({"-o", "-e", "-p", "-s", "-u"}, 0),
}
ESCALATION = {"sudo", "doas", "pkexec", "runuser"}
GIT_GLOBAL_WITH_VALUE = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env", "--exec-path", "--super-prefix", "--list-cmds", "--attr-source"}
FIND_WITH_VALUE = {"-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex", "-type", "-xtype",
                   "-user", "-group", "-uid", "-gid", "-perm", "-size", "-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin",
                   "-newer", "-anewer", "-cnewer", "-maxdepth", "-mindepth", "-inum", "-samefile", "-links", "-lname", "-ilname",
                   "-fstype", "-printf", "-fprint", "-fprint0", "-fls", "-context", "-used", "-regextype", "-newermt", "-newerct",
                   "-newerat", "-newermm", "-files0-from", "-D", "-O", "-f"}
FIND_FILTERS = {"-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex", "-user", "-group",
                "-uid", "-gid", "-perm", "-size", "-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin", "-newer", "-anewer",
                "-cnewer", "-inum", "-samefile", "-links", "-lname", "-ilname", "-empty", "-used", "-newermt", "-newerct",
                "-newerat", "-newermm"}
XARGS_WITH_VALUE = {"-a", "--arg-file", "-d", "--delimiter", "-E", "-e", "--eof", "-L", "--max-lines", "-l", "-n", "--max-args",
                    "-P", "--max-procs", "-s", "--max-chars", "--process-slot-var", "-R", "-S", "-J", "-I"}
PARALLEL_WITH_VALUE = {"-j", "--jobs", "-n", "--max-args", "-N", "-S", "--sshlogin", "--delay", "--timeout", "--joblog",
                       "--results", "--tmpdir", "--workdir", "-a", "--arg-file", "--colsep", "-d", "--delimiter", "-E", "-I"}
EXEC_CALLS = ("system", "popen", "exec", "execSync", "execFileSync", "spawn", "spawnSync", "check_output", "check_call",
              "call", "run", "Popen", "getoutput", "getstatusoutput", "shell_exec", "passthru", "proc_open", "execv", "execvp",
              "execl", "execlp", "spawnv", "capture2", "capture3", "popen3")
DELETE_CALLS = ("rmtree", "rm_rf", "rm_r", "remove_dir", "remove_entry", "remove_entry_secure", "rmSync", "rmdirSync",
                "unlinkSync", "rimraf", "os.remove", "os.unlink", "os.rmdir", "os.removedirs", "File.delete", "fs.rm",
                "fs.rmdir", "fs.unlink", "FileUtils.rm", "unlink", "RemoveAll")
NETWORK_IN_CODE = ("'https'", '"https"', "'http'", '"http"', "urlopen", "urllib", "requests.", "http.get", "https.get", "fetch(", "Net::HTTP", "open-uri", "LWP",
                   "HTTP::Tiny", "socket", "httpx", "http.client", "URI.open", "curl", "wget")
EVAL_IN_CODE = ("exec(", "eval(", "exec ", "eval ", "Function(", "instance_eval", "runInThisContext", "compile(")
WRITE_IN_CODE = ("'w", '"w', "'a", '"a', "write", "unlink", "remove", "rename", "replace", "rmtree", "truncate", "chmod",
                 "appendFile", "rmSync", "copy", "move", "symlink", "touch", ">>", "File.open", "IO.write")


class Invocation:
    __slots__ = ("program", "args", "cwd", "via", "facts", "outputs", "inputs", "code_writes", "display")

    def __init__(self, program: str, args: list[str], ctx: "Context", via: list[str]):
        self.program = program
        self.args = args
        self.cwd = ctx.cwd
        self.via = list(via)
        self.facts: dict[str, str] = {}
        self.outputs: list[str] = []
        self.inputs: list[str] = []
        self.code_writes = False
        self.display = " ".join([program, *args]).replace(UNKNOWN, "$").replace(END, "").replace(EVAL, "").replace(FOUND, "{found}")


class Context:
    def __init__(self, project: str | None, cwd: str | None, home: str):
        self.project = project
        self.cwd = cwd
        self.home = home
        self.vars: dict[str, str] = {"HOME": home, "TMPDIR": "/tmp/$TMPDIR", "SHELL": "sh", "BASH": "bash"}
        if cwd:
            self.vars["PWD"] = cwd
        self.trace: list[str] = []
        self.downloaded: set[str] = set()
        self.invocations: list[Invocation] = []
        self.budget = 4000  # unwrapping steps; a pathological command ends in TooDeep, not a hang

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


def is_interpreter(program: str) -> bool:
    return program.startswith(INTERPRETER_PREFIXES) and not program.endswith(("-config", "doc"))


# ------------------------------------------------------------------ expansion


def expand(word: shell.Word, ctx: Context) -> str:
    out = []
    for index, part in enumerate(word.parts):
        kind = part[0]
        if kind == "lit":
            text = part[1]
            if index == 0 and not part[2] and text.startswith("~"):
                head, _, tail = text[1:].partition("/")
                base = ctx.home if head in ("", "+") else "/home/" + head
                text = base + ("/" + tail if tail or text.endswith("/") else "")
            out.append(text)
        elif kind == "var":
            name, default = part[1], part[2]
            if name in ctx.vars:
                out.append(ctx.vars[name])
            elif default is not None and not name.startswith("{"):
                out.append(expand(shell.Word(default), ctx))
            else:
                out.append(UNKNOWN + name + END)
        elif kind == "sub":
            value = evaluate(part[2], ctx)
            out.append(EVAL + value if value is not None else UNKNOWN + "$(" + END)
        else:
            out.append(UNKNOWN + "((" + END)
    return "".join(out)


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
        if index == 0:
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
        argv = [expand(w, ctx) for w in words]
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
        before = len(ctx.invocations)
        resolve(argv, words, ctx, via, stdin, depth)
        produced = ctx.invocations[before:]
        if (outputs or inputs or network) and not produced:
            holder = Invocation(":redirect", [], ctx, via)
            ctx.invocations.append(holder)
            produced = [holder]
        if produced:
            last = next((p for p in reversed(produced) if p.program not in ESCALATION), produced[-1])
            last.outputs += outputs
            last.inputs += inputs
            if network:
                last.facts["raw_network_redirect"] = f"redirects to {network[0]}"
            if last.program in DOWNLOADERS:
                ctx.downloaded.update(o for o in outputs if UNKNOWN not in o)


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


def resolve(argv: list[str], words: list, ctx: Context, via: list[str], stdin, depth: int) -> None:
    words = list(words) + [None] * (len(argv) - len(words))
    for _ in range(64):
        ctx.step()
        env: dict[str, str] = {}
        while argv and "=" in argv[0] and not argv[0].startswith(("-", "=")) and "/" not in argv[0].split("=", 1)[0]:
            name, _, value = argv[0].partition("=")
            env[name] = value
            argv, words = argv[1:], words[1:]
        if argv and argv[0].startswith("=") and len(argv) > 1:  # `=2 cmd`: bash runs nothing sane; look at the rest
            argv, words = argv[1:], words[1:]
        if not argv:
            ctx.vars.update(env)
            return
        if env:
            ctx.trace.append("set " + ", ".join(f"{k}={v}" for k, v in env.items()).replace(UNKNOWN, "$").replace(END, ""))
        head = argv[0]
        program = norm_program(head)
        if program in KEYWORDS:
            argv, words = argv[1:], words[1:]
            continue
        if program in ("for", "select", "case"):
            if len(argv) > 1:
                ctx.vars.pop(argv[1], None)
            return
        if program in ("cd", "pushd"):
            target = next((a for a in argv[1:] if not a.startswith("-")), ctx.home)
            if UNKNOWN in target or ctx.cwd is None and not target.startswith("/"):
                ctx.cwd = None
            else:
                ctx.cwd = normpath(join(ctx.cwd or "/", target))
            ctx.trace.append(f"cd: now in {ctx.cwd or 'an unknown folder'}")
            return
        if program in ("export", "declare", "local", "readonly", "typeset", "let"):
            for arg in argv[1:]:
                if "=" in arg and not arg.startswith("-"):
                    name, _, value = arg.partition("=")
                    ctx.vars[name] = value
            return
        if program in ("unset", "read", "mapfile", "readarray"):
            for arg in argv[1:]:
                ctx.vars.pop(arg, None)
            return
        if program == "eval":
            script = " ".join(argv[1:])
            run_script(script, words[1:], ctx, via + ["eval"], depth, f"eval {script[:60]}")
            return
        if program in ("source", "."):
            emit(ctx, program, argv[1:], via)
            target = argv[1] if len(argv) > 1 else ""
            script_from_file(target, words[1] if len(words) > 1 else None, stdin, ctx, via + [program], depth, program)
            return
        if program in WRAPPERS:
            with_value, positional = WRAPPERS[program]
            if program in ESCALATION:
                emit(ctx, program, argv[1:], via)
            if program == "env":
                split = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-S", "--split-string")), None)
                if split is None:
                    split = next((a[2:] for a in argv[1:] if a.startswith("-S") and len(a) > 2), None)
                rest = strip_options(argv[1:], with_value, positional)
                if split is not None:
                    rest = [w.literal or "" for c in shell.parse(split) for w in c.words] + rest
            else:
                rest = strip_options(argv[1:], with_value, positional)
            if program == "timeout" and rest and rest[0][:1].isdigit():
                rest = rest[1:]
            if program in ("nice",) and rest and rest[0][:1] == "-" and rest[0][1:].isdigit():
                rest = rest[1:]
            if program == "flock" and rest and rest[0] in ("-c", "--command") and len(rest) > 1:
                run_script(rest[1], [None], ctx, via + ["flock -c"], depth, "flock -c")
                return
            ctx.trace.append(f"unwrapped the {program} prefix")
            words = words[len(argv) - len(rest):]
            argv = rest
            via = via + [program]
            continue
        if program == "su":
            emit(ctx, "su", argv[1:], via)
            if "-c" in argv:
                index = argv.index("-c")
                if index + 1 < len(argv):
                    run_script(argv[index + 1], [words[index + 1]], ctx, via + ["su -c"], depth, "su -c")
            return
        if program in SHELLS:
            shell_call(program, argv, words, ctx, via, stdin, depth)
            return
        if program == "xargs":
            xargs_call(argv, words, ctx, via, stdin, depth)
            return
        if program == "parallel":
            parallel_call(argv, ctx, via, stdin, depth)
            return
        if program == "find":
            find_call(argv, ctx, via, depth)
            return
        if program == "git":
            result = git_call(argv, env, ctx, via, depth)
            if result is None:
                return
            argv, words = result, [None] * len(result)
            continue
        if is_interpreter(program):
            interpreter_call(program, argv, words, ctx, via, stdin, depth)
            return
        args = argv[1:]
        if stdin and stdin[0] == "pipe" and program in ("rm", "srm", "shred") and not [a for a in args if not a.startswith("-")]:
            args = args + [UNKNOWN + "stdin" + END]  # fed by a pipe: whatever the writer meant to delete is unknown
        invocation = emit(ctx, program if UNKNOWN not in program else "?", args, via)
        if UNKNOWN in program:
            ctx.trace.append(f"the program name `{head.replace(UNKNOWN, '$').replace(END, '')}` is only known at run time")
        if head in ctx.downloaded or normpath(join(ctx.cwd or "/", head)) in {normpath(join(ctx.cwd or "/", d)) for d in ctx.downloaded}:
            invocation.facts["pipe_into_shell"] = f"runs {head}, a file this command just downloaded"
        if program in DOWNLOADERS:
            for i, arg in enumerate(argv[1:-1], start=1):
                if arg in ("-o", "--output", "-O", "--output-document") and UNKNOWN not in argv[i + 1]:
                    ctx.downloaded.add(argv[i + 1])
        return


def run_script(script: str, words: list, ctx: Context, via: list[str], depth: int, label: str, args: list[str] | None = None) -> None:
    """Analyse code a shell is told to run (`bash -c`, eval, here-docs, decoded payloads)."""
    source = [w for w in words if w is not None]
    fetched = [sub for w in source for sub in w.subs() if runs_network_or_decoder(sub[2], ctx)]
    if fetched:
        invocation = emit(ctx, ":shell", [script], via)
        invocation.facts["pipe_into_shell"] = f"{label} runs code produced at run time by `{fetched[0][1].strip()[:60]}`"
        return
    stripped = script.strip()
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
        while argv and ("=" in argv[0] or norm_program(argv[0]) in WRAPPERS) and len(argv) > 1:
            argv = argv[1:]
        if argv and (norm_program(argv[0]) in DOWNLOADERS or norm_program(argv[0]) in DECODERS or norm_program(argv[0]) in ("nc", "ncat", "socat")):
            return True
    return False


def script_from_file(target: str, word, stdin, ctx: Context, via: list[str], depth: int, label: str) -> None:
    """A shell or interpreter runs a file: a download, a process substitution, or its stdin."""
    if word is not None and word.subs():
        sub = word.subs()[0]
        if runs_network_or_decoder(sub[2], ctx):
            invocation = emit(ctx, ":shell", [target], via)
            invocation.facts["pipe_into_shell"] = f"{label} runs code produced at run time by `{sub[1].strip()[:60]}`"
        return
    if target in ctx.downloaded:
        invocation = emit(ctx, ":shell", [target], via)
        invocation.facts["pipe_into_shell"] = f"{label} runs {target}, which this command just downloaded"
        return
    if target in ("/dev/stdin", "-", "/proc/self/fd/0", "/dev/fd/0"):
        from_stdin(stdin, ctx, via, depth, label, "shell")


def from_stdin(stdin, ctx: Context, via: list[str], depth: int, label: str, language: str) -> None:
    if stdin is None:
        return
    if stdin[0] == "text":
        if language == "shell":
            run_script(stdin[1], [], ctx, via + [label + " <<here-doc"], depth, label + " reading a here-document")
        else:
            code_call(language, stdin[1], ctx, via + [label + " <<here-doc"], depth)
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
        code_call(language, text or "", ctx, via + [label + " reading a pipe"], depth)


def shell_call(program: str, argv: list[str], words: list, ctx: Context, via: list[str], stdin, depth: int) -> None:
    i, has_c, reads_stdin = 1, False, False
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if arg in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
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


def xargs_call(argv: list[str], words: list, ctx: Context, via: list[str], stdin, depth: int) -> None:
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
        elif arg.split("=", 1)[0] in XARGS_WITH_VALUE and "=" not in arg:
            i += 2
            continue
        i += 1
    rest = argv[i:] or ["echo"]
    marker = UNKNOWN + "xargs" + END
    if replace and any(replace in a for a in rest):
        rest = [a.replace(replace, marker) for a in rest]
    else:
        rest = rest + [marker]
    ctx.trace.append("unwrapped xargs: its input becomes arguments, unknown until run time")
    resolve(rest, [None] * len(rest), ctx, via + ["xargs"], None, depth + 1)


def parallel_call(argv: list[str], ctx: Context, via: list[str], stdin, depth: int) -> None:
    i = 1
    while i < len(argv) and argv[i].startswith("-") and not argv[i].startswith(":::"):
        i += 2 if argv[i] in PARALLEL_WITH_VALUE else 1
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


def find_call(argv: list[str], ctx: Context, via: list[str], depth: int) -> None:
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
    filtered, deletes, execs = False, False, []
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
        if arg in FIND_FILTERS:
            filtered = True
        if arg == "-delete":
            deletes = True
        if arg in FIND_WITH_VALUE:
            i += 2
            continue
        i += 1
    roots = roots or ["."]
    emit(ctx, "find", args, via)
    for root in roots:
        found = (root.rstrip("/") + "/" + FOUND) if filtered and UNKNOWN not in root else root
        if deletes:
            ctx.trace.append(f"find -delete removes {'matches under' if filtered else 'everything under'} {root}")
            emit(ctx, "rm", ["-rf", found], via + ["find -delete"])
        for command in execs:
            if not command:
                continue
            filled = [a.replace("{}", found) for a in command]
            ctx.trace.append("looked inside find -exec: " + " ".join(command)[:80])
            resolve(filled, [None] * len(filled), ctx, via + ["find -exec"], None, depth + 1)


def git_call(argv: list[str], env: dict[str, str], ctx: Context, via: list[str], depth: int) -> list[str] | None:
    aliases: dict[str, str] = {}
    count = env.get("GIT_CONFIG_COUNT", "0")
    for n in range(int(count) if count.isdigit() else 0):
        key = env.get(f"GIT_CONFIG_KEY_{n}", "")
        if key.lower().startswith("alias."):
            aliases[key[6:].lower()] = env.get(f"GIT_CONFIG_VALUE_{n}", "")
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if not arg.startswith("-"):
            break
        name = arg.split("=", 1)[0]
        value = None
        if name in GIT_GLOBAL_WITH_VALUE and "=" not in arg:
            value = argv[i + 1] if i + 1 < len(argv) else ""
            i += 2
        elif arg.startswith("-c") and len(arg) > 2:
            name, value = "-c", arg[2:]
            i += 1
        elif arg.startswith("-C") and len(arg) > 2:
            i += 1
        else:
            value = arg.split("=", 1)[1] if "=" in arg else None
            i += 1
        if name == "-c" and value and value.lower().startswith("alias."):
            key, _, alias_value = value[6:].partition("=")
            aliases[key.lower()] = alias_value
    rest = argv[i:]
    if rest and rest[0].lower() in aliases:
        value = aliases[rest[0].lower()]
        ctx.trace.append(f"expanded the git alias {rest[0]} = {value}")
        if value.startswith("!"):
            run_script(value[1:] + " " + " ".join(rest[1:]), [], ctx, via + [f"git alias {rest[0]}"], depth, f"git alias {rest[0]}")
            return None
        expanded = [w.literal or "" for c in shell.parse(value) for w in c.words]
        return ["git", *expanded, *rest[1:]]
    emit(ctx, "git", rest, via)
    return None


# ------------------------------------------------------------------ interpreters


def string_literals(code: str) -> list[str]:
    out, i, n = [], 0, len(code)
    while i < n:
        c = code[i]
        if c in "'\"`":
            j, buf = i + 1, []
            while j < n and code[j] != c:
                if code[j] == "\\" and j + 1 < n:
                    buf.append(code[j:j + 2])
                    j += 2
                    continue
                buf.append(code[j])
                j += 1
            raw = "".join(buf)
            out.append(shell.ansi_c(raw) if "\\" in raw else raw)
            i = j + 1
            continue
        i += 1
    return out


def call_arguments(code: str, names: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """(name, string literals of its arguments) for each call of one of `names` in code."""
    found = []
    for name in names:
        start = 0
        while True:
            index = code.find(name, start)
            if index < 0:
                break
            start = index + len(name)
            before = code[index - 1] if index else " "
            if before.isalnum() or before == "_":
                continue
            after = code[start:start + 2]
            if after[:1].isalnum() or after[:1] == "_":
                continue
            j = start
            while j < len(code) and code[j] in " \t":
                j += 1
            if j >= len(code):
                continue
            if code[j] == "(":
                depth, k = 0, j
                while k < len(code):
                    if code[k] in "'\"":
                        end = code.find(code[k], k + 1)
                        k = len(code) if end < 0 else end + 1
                        continue
                    if code[k] == "(":
                        depth += 1
                    elif code[k] == ")":
                        depth -= 1
                        if depth == 0:
                            break
                    k += 1
                segment = code[j + 1:k]
            elif code[j] in "'\"`":
                end = code.find(";", j)
                segment = code[j:len(code) if end < 0 else end]
            else:
                continue
            found.append((name, string_literals(segment)))
    return found


def code_call(language: str, code: str, ctx: Context, via: list[str], depth: int) -> None:
    """Look for dangerous calls inside an interpreter one-liner."""
    label = f"{language} code"
    ctx.trace.append(f"looked inside the {language} one-liner: {code.strip()[:80]}")
    literals = string_literals(code)
    holder = emit(ctx, ":code", literals, via + [label])
    holder.code_writes = any(token in code for token in WRITE_IN_CODE)
    if any(token in code for token in EVAL_IN_CODE) and any(token in code for token in NETWORK_IN_CODE):
        holder.facts["pipe_into_shell"] = f"the {language} one-liner evaluates code it downloads"
    for name, args in call_arguments(code, EXEC_CALLS):
        if not args:
            continue
        script = " ".join(args)
        run_script(script, [], ctx, via + [f"{language} {name}()"], depth, f"{language} {name}()")
    for name, args in call_arguments(code, DELETE_CALLS):
        if args:
            ctx.trace.append(f"{language} {name}() deletes {args[0]}")
            emit(ctx, "rm", ["-rf", "--", args[0]], via + [f"{language} {name}()"])
    for quote in ("`", "%x(", "qx(", "qx{"):
        if quote in code and language in ("perl", "ruby"):
            start = code.find(quote) + len(quote)
            end = code.find(")" if "(" in quote else ("}" if "{" in quote else "`"), start)
            run_script(code[start:end if end > 0 else len(code)], [], ctx, via + [f"{language} backticks"], depth, f"{language} backticks")
    if language == "awk" and ("| \"sh" in code or "|\"sh" in code or "| \"bash" in code):
        holder.facts["pipe_into_shell"] = "the awk program pipes text into a shell"
    # Also read the one-liner as a shell command: `node -e "rm -rf /"` is a mistake worth stopping too.
    if language not in ("awk", "python"):
        walk(shell.parse(code, depth + 1), ctx, via + [f"{language} text read as shell"], depth + 1)


def interpreter_call(program: str, argv: list[str], words: list, ctx: Context, via: list[str], stdin, depth: int) -> None:
    family = "awk" if program.endswith("awk") else next(p for p in INTERPRETER_PREFIXES if program.startswith(p))
    family = {"nodejs": "node", "pypy": "python", "bun": "node", "deno": "node"}.get(family, family)
    args = argv[1:]
    code = None
    script_index = None
    in_place = False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if family == "awk":
            if arg in ("-f", "--file"):
                emit(ctx, program, args, via)
                return
            if arg in ("-v", "-F", "--assign", "--field-separator"):
                i += 2
                continue
            if arg in ("-e", "--source"):
                code = args[i + 1] if i + 1 < len(args) else ""
                i += 2
                continue
            if arg.startswith("-i") or arg == "--inplace":
                in_place = True
                i += 2 if arg == "-i" else 1
                continue
            if arg.startswith("-"):
                i += 1
                continue
            if code is None:
                code = arg
                i += 1
            break
        if family == "node" and (arg.startswith("--eval=") or arg.startswith("--print=")):
            code = arg.split("=", 1)[1]
            break
        if family == "node" and arg in ("--eval", "--print", "-e", "-p", "-pe", "-ep"):
            code = args[i + 1] if i + 1 < len(args) else ""
            break
        if program == "deno" and arg == "eval":
            code = args[i + 1] if i + 1 < len(args) else ""
            break
        if family == "python" and (arg == "-m" or (arg.startswith("-m") and len(arg) > 2)):
            emit(ctx, program, args, via)
            module = args[i + 1:] if arg == "-m" else [arg[2:], *args[i + 1:]]
            if module:
                ctx.trace.append(f"python -m {module[0]} runs the {module[0]} module's command")
                resolve(module, [None] * len(module), ctx, via + [f"{program} -m"], stdin, depth + 1)
            return
        if family == "python" and arg in ("-W", "-X", "-Q"):
            i += 2
            continue
        if arg.startswith("-") and not arg.startswith("--") and len(arg) > 1:
            letters = arg[1:]
            code_letter = {"python": "c", "perl": "eE", "ruby": "e", "php": "r", "lua": "e", "rscript": "e"}.get(family, "e")
            if family in ("perl", "ruby") and letters.startswith(("M", "I", "r")) and len(letters) > 1:
                i += 1
                continue
            if family in ("perl", "ruby") and "i" in letters:
                in_place = True
            if any(letters.endswith(ch) for ch in code_letter):
                code = args[i + 1] if i + 1 < len(args) else ""
                break
            if family == "python" and "c" in letters:
                code = args[i + 1] if i + 1 < len(args) else ""
                break
            i += 1
            continue
        if arg.startswith("--"):
            i += 1
            continue
        script_index = i
        break
    invocation = emit(ctx, program, args, via)
    if in_place:
        invocation.code_writes = True
    if code is not None:
        code_call(family, code, ctx, via + [program], depth)
        return
    if script_index is not None:
        word = words[script_index + 1] if script_index + 1 < len(words) else None
        if args[script_index] == "-":
            from_stdin(stdin, ctx, via, depth, program, family)
        else:
            script_from_file(args[script_index], word, stdin, ctx, via + [program], depth, program)
        return
    if family != "awk":
        from_stdin(stdin, ctx, via, depth, program, family)


# ------------------------------------------------------------------ paths (no os.path import needed beyond posixpath)


def join(base: str, path: str) -> str:
    return path if path.startswith("/") else base.rstrip("/") + "/" + path
