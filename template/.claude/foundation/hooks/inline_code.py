"""Inline code, classified by capability: what an interpreter one-liner, here-document, piped or written script
would do (delete, write, read, network, execute, eval, dynamic), per language from the program table's
`languages`; PowerShell (-Command, -EncodedCommand) and cmd /c. Imported by unwrap.py only when a command runs an
interpreter, so an ordinary command does not pay for it. Standard library only, no regular expressions.
"""

from __future__ import annotations

import shell
from unwrap import (END, UNKNOWN, Call, Context, Invocation, emit, from_stdin, resolve, run_script,
                    script_from_file, shell_quote, walk)

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


def call_arguments(code: str, names) -> list[tuple[str, list[str], bool, str]]:
    """(name, string literals of its arguments, whether some argument is not a literal) for each call of one of
    `names` in code: `name(...)`, `name "..."` (ruby, perl), and for a method name (`.write_text`) the literals of
    the receiver's call too (`Path('/etc/x').write_text(...)`)."""
    found = []
    for name in names:
        start = 0
        while True:
            index = code.find(name, start)
            if index < 0:
                break
            start = index + len(name)
            before = code[index - 1] if index else " "
            if name[:1].isalnum() and (before.isalnum() or before in "_$"):
                continue
            after = code[start:start + 1]
            if name[-1:].isalnum() and (after.isalnum() or after == "_"):
                continue
            j = start
            while j < len(code) and code[j] in " \t":
                j += 1
            if j < len(code) and code[j] == "(":
                k = balanced_end(code, j)
                segment = code[j + 1:k]
            elif j < len(code) and j > start and (code[j] in "'\"`" or code[j].isalpha() or code[j] == "$"):
                end = code.find(";", j)  # perl and ruby call without parentheses: unlink glob "...";
                segment = code[j:len(code) if end < 0 else end]
            else:
                continue
            literals = string_literals(segment)
            if name.startswith(".") and before == ")":
                opener = receiver_start(code, index - 1)
                literals = string_literals(code[opener:index]) + literals
            bare = "".join(segment.split())
            dynamic = bool(bare) and not all_literal(segment)
            statement = max(code.rfind(";", 0, index), code.rfind("\n", 0, index)) + 1
            found.append((name, literals, dynamic, code[statement:index] + segment))
    return found


def argument_values(call_text: str) -> list[str]:
    """The arguments of a call as values: each literal (or list of literals) as itself, anything else UNKNOWN."""
    text = call_text.strip()
    if text.startswith("("):
        text = text[1:balanced_end(text, 0)]
    else:
        text = text.split(";", 1)[0]
    values, depth, current = [], 0, ""
    for char in text + ",":
        if char == "," and depth == 0:
            piece = current.strip().strip("[]")
            found = string_literals(piece)
            values += found if found and not strip_literals(piece).strip(" ,\t") else [UNKNOWN + "code" + END] if piece else []
            current = ""
            continue
        depth += char in "([{"
        depth -= char in ")]}"
        current += char
    return values


def balanced_end(code: str, j: int) -> int:
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
                return k
        k += 1
    return len(code)


def receiver_start(code: str, close: int) -> int:
    depth, k = 0, close
    while k >= 0:
        if code[k] == ")":
            depth += 1
        elif code[k] == "(":
            depth -= 1
            if depth == 0:
                return k
        k -= 1
    return 0


def all_literal(segment: str) -> bool:
    """Whether a call's first argument is a plain string literal (what comes after a comma is options or modes)."""
    text = segment.strip()
    if text[:1] in "[(" and text:  # a list of string literals: ['rm', '-rf', '/etc']
        close = balanced_end(text.replace("[", "(").replace("]", ")"), 0)
        rest = text[close + 1:].lstrip()
        return not strip_literals(text[:close + 1]).strip("[](), \t") and (not rest or rest[0] in ",)")
    if not text or text[0] not in "'\"`":
        return False
    end = text.find(text[0], 1)
    while end > 0 and text[end - 1] == "\\":
        end = text.find(text[0], end + 1)
    if end < 0:
        return False
    rest = text[end + 1:].lstrip()
    return not rest or rest[0] in ",)" or rest.startswith(("encoding", "mode"))


def strip_literals(code: str) -> str:
    out, i = [], 0
    while i < len(code):
        if code[i] in "'\"":
            end = code.find(code[i], i + 1)
            i = len(code) if end < 0 else end + 1
            continue
        out.append(code[i])
        i += 1
    return "".join(out)


CAPABILITIES = ("delete", "write", "read", "network", "execute", "eval", "dynamic")


def code_call(language: str, code: str, ctx: Context, via: list[str], depth: int) -> None:
    """Classify inline code by capability (per language, from the program table): delete, write, read, network,
    execute, eval, dynamic. Targets that are not literals count as outside the repository; eval with network input
    is remote code execution; code that builds names or code at run time cannot be classified and asks."""
    label = f"{language} code"
    ctx.trace.append(f"looked inside the {language} code: {code.strip()[:80]}")
    spec = ctx.table.language(language)
    holder = emit(ctx, ":code", [], via + [label])
    if language == "powershell":
        return powershell_code(code, spec, holder, ctx, via, depth)
    calls = {cap: call_arguments(code, [n for n in spec.get(cap) or () if n[:1].isalnum() or n[:1] in "._$"])
             for cap in ("delete", "write", "read", "execute", "eval")}
    literals = string_literals(code)
    for cap in ("delete", "execute"):  # a function named by a string: array_map("unlink", ...), call_user_func('system', ...)
        named = [n for n in literals if n in (spec.get(cap) or ()) and n.isidentifier()]
        for name in named:
            others = [lit for lit in literals if lit != name]
            calls[cap].append((name, others, not others, code))
    present = {cap: [n for n in spec.get(cap) or () if mentions(code, n)] for cap in ("network", "dynamic", "read", "execute")}
    modes = set(spec.get("write") or ()) & set(spec.get("read") or ())
    home = spec.get("home") or ()
    for name, args, dynamic, text in calls["write"]:
        if name in modes and not writes_by_mode(args):
            continue
        targets = code_targets(args, dynamic, ">+< ", text, home)
        for target in targets[:1] if name in modes else targets:
            holder.effects.append(("write", target, f"the {language} code calls {name}"))
    for name, args, dynamic, text in calls["delete"]:
        targets = code_targets(args, dynamic, "", text, home)
        for target in targets:  # a delete in code is a recursive delete in shell terms, judged by the same rules
            ctx.trace.append(f"{language} {name}() deletes {target}")
            emit(ctx, "rm", ["-rf", "--", target], via + [f"{language} {name}()"])
    reads = [a for _, args, _, _ in calls["read"] for a in args if path_like(a)]
    for target in reads:
        holder.effects.append(("read", target.lstrip("<"), f"the {language} code reads it"))
    network = present["network"]
    if network and (calls["read"] or present["read"]):
        holder.effects.append(("send", (reads or ["local data"])[0], f"the {language} code reads local data and uses the network ({network[0]})"))
    evals = [n for n in spec.get("eval") or () if mentions(code, n.rstrip("("))]
    if network and evals:
        holder.facts["pipe_into_shell"] = f"the {language} code evaluates what it fetches ({evals[0]} with {network[0]})"
    for name, args, dynamic, text in calls["execute"]:
        values = argument_values(text[text.rfind(name) + len(name):] if name in text else text)
        if len(values) > 1 and any(UNKNOWN in v for v in values) and not UNKNOWN in values[0]:
            args, dynamic = values, False  # system "rm", "-rf", $ENV{HOME}: the unknown argument stays unknown
        if args and not dynamic:
            script = args[0] if len(args) == 1 else " ".join(shell_quote(a) for a in args)  # a string, or an argv list
            run_script(script, [], ctx, via + [f"{language} {name}()"], depth, f"{language} {name}()")
        elif dynamic:
            holder.effects.append(("unclassified", name, f"the {language} code runs a command only known at run time ({name})"))
    for name, args, dynamic, _ in calls["eval"]:
        if dynamic and not network:
            holder.effects.append(("unclassified", name, f"the {language} code evaluates code built at run time ({name})"))
        elif args and not dynamic:
            code_call(language, " ".join(args), ctx, via + [f"{language} {name}()"], depth + 1)
    if present["dynamic"]:
        holder.effects.append(("unclassified", present["dynamic"][0], f"the {language} code builds names or code at run time ({present['dynamic'][0]})"))
    if language in ("perl", "ruby", "php"):
        for quote in ("`", "%x(", "qx(", "qx{"):
            if quote in code:
                begin = code.find(quote) + len(quote)
                end = code.find(")" if "(" in quote else ("}" if "{" in quote else "`"), begin)
                run_script(code[begin:end if end > 0 else len(code)], [], ctx, via + [f"{language} backticks"], depth, f"{language} backticks")
    if language == "awk":
        awk_effects(code, spec, holder, ctx, via, depth)
    # Also read the code as a shell command: `node -e "rm -rf /"` is a mistake worth stopping too.
    if language not in ("awk", "python", "powershell"):
        walk(shell.parse(code, depth + 1), ctx, via + [f"{language} text read as shell"], depth + 1)


def mentions(code: str, name: str) -> bool:
    index = code.find(name)
    while index >= 0:
        before = code[index - 1] if index else " "
        after = code[index + len(name):index + len(name) + 1]
        if not (name[:1].isalnum() and (before.isalnum() or before == "_")) and not (name[-1:].isalnum() and (after.isalnum() or after == "_")):
            return True
        index = code.find(name, index + 1)
    return False


def writes_by_mode(args: list[str]) -> bool:
    """open(path, 'w'), File.open(path, 'a'), open(F, '>path'): a mode that writes."""
    if any(a[:1] in (">", "+") or a.startswith("|") for a in args):
        return True
    return any(0 < len(a) <= 3 and set(a) <= set("rwaxbt+") and set(a) & set("wax+") for a in args[1:])


def code_targets(args: list[str], dynamic: bool, strip: str = "", text: str = "", home=()) -> list[str]:
    """The path a capability call acts on: its first argument when that is a plain literal; a path built on the
    home folder (Path.home(), os.homedir(), $ENV{HOME}) is under ~; anything else (a variable, a call, an
    interpolated string) is only known at run time and counts as outside the repository."""
    first = args[0].lstrip(strip) if args else ""
    if any(marker in text for marker in home):
        named = next((a.lstrip(strip + "/") for a in args if path_like(a.lstrip(strip)) and not a.startswith("~")), "")
        return ["~/" + named if named else "~"]
    if dynamic or any(mark in first for mark in ("$", "#{", "%s", "{}")):
        return [UNKNOWN + "code" + END]
    return [first] if path_like(first) else []


def path_like(text: str) -> bool:
    return bool(text) and " " not in text.strip() and "\n" not in text and "://" not in text and len(text) < 300


def awk_effects(code: str, spec: dict, holder: Invocation, ctx: Context, via: list[str], depth: int) -> None:
    for marker in spec.get("execute") or ():
        if marker in code:
            at = code.find(marker)
            # `"cmd" | getline` names the command before the pipe; `print | "cmd"` and system("cmd") after it
            literals = string_literals(code[:at])[-1:] if marker.startswith("|") and "getline" in marker else string_literals(code[at:])[:1]
            if literals:
                run_script(literals[0], [], ctx, via + [f"awk {marker.strip()}"], depth, f"awk {marker.strip()}")
            else:
                holder.effects.append(("unclassified", marker, "the awk program runs a command only known at run time"))
            break
    for marker in spec.get("write") or ():
        index = code.find(marker)
        if index >= 0:
            literals = string_literals(code[index + len(marker):])
            holder.effects.append(("write", literals[0] if literals else UNKNOWN + "awk" + END, "the awk program writes a file"))
            break
    if any(m in code for m in spec.get("network") or ()):
        holder.effects.append(("send", "awk", "the awk program opens a network connection"))


def powershell_code(code: str, spec: dict, holder: Invocation, ctx: Context, via: list[str], depth: int) -> None:
    """PowerShell, read command by command (cmdlets and aliases are case-insensitive)."""
    lower = {cap: {n.lower() for n in spec.get(cap) or ()} for cap in CAPABILITIES}
    text = code.replace("(", " ; ").replace(")", " ; ").replace("{", " ; ").replace("}", " ; ")
    lowered = text.lower()
    network = any(n in lowered for n in lower["network"] if len(n) > 3) or any(
        (" " + n + " ") in (" " + lowered.replace(";", " ") + " ") for n in lower["network"])
    for command in shell.parse(text.replace("\\", "/"), depth + 1):
        argv = [w.text() for w in command.words]
        if not argv:
            continue
        name = argv[0].lower()
        named = {argv[k].lower(): argv[k + 1] for k in range(1, len(argv) - 1) if argv[k].startswith("-")}
        values = [a for k, a in enumerate(argv[1:], 1) if not a.startswith("-") and "$" not in a[:1] and not argv[k - 1].startswith("-")]
        values = [named[p] for p in PS_PATH_PARAMETERS if p in named] + values
        dynamic = any(a.startswith("$") for a in argv[1:])
        if name in lower["network"]:
            for parameter in ("-infile", "-body"):
                if parameter in named:
                    holder.effects.append(("send", windows_path(named[parameter]), f"PowerShell {argv[0]} {parameter}"))
                    holder.effects.append(("read", windows_path(named[parameter]), f"PowerShell {argv[0]} {parameter}"))
        if name in lower["delete"]:
            for target in values or [UNKNOWN + "ps" + END]:
                emit(ctx, "rm", ["-rf", "--", windows_path(target)], via + [f"PowerShell {argv[0]}"])
        elif name in lower["write"]:
            for target in values[:1] or [UNKNOWN + "ps" + END]:
                holder.effects.append(("write", windows_path(target), f"PowerShell {argv[0]}"))
        elif name in lower["eval"] or any(name.startswith(e) for e in lower["eval"] if e.endswith("(")):
            if network:
                holder.facts["pipe_into_shell"] = f"PowerShell evaluates what it fetches ({argv[0]})"
            else:
                holder.effects.append(("unclassified", argv[0], f"PowerShell evaluates code built at run time ({argv[0]})"))
        elif name in lower["execute"] and len(argv) > 1 and not dynamic:
            run_script(" ".join(shell_quote(a) for a in argv), [], ctx, via + [f"PowerShell {argv[0]}"], depth, f"PowerShell {argv[0]}")
        elif name in lower["read"]:
            for target in values:
                holder.effects.append(("read", windows_path(target), f"PowerShell {argv[0]}"))
    if network and any(n in lowered for n in lower["read"] if len(n) > 3):
        holder.effects.append(("send", "local data", "the PowerShell code reads local data and uses the network"))
    if any(n in lowered for n in lower["dynamic"] if len(n) > 2):
        holder.effects.append(("unclassified", "PowerShell", "the PowerShell code builds names or code at run time"))


PS_PATH_PARAMETERS = ("-path", "-literalpath", "-filepath", "-destination", "-outfile")


def windows_path(path: str) -> str:
    """C:/x as the guard sees it, the way WSL mounts it (/mnt/c/x: a system folder); %USERPROFILE% and $env:
    values are only known at run time."""
    path = path.strip("'\"").replace("\\", "/")
    if len(path) >= 2 and path[1] == ":" and path[0].isalpha():
        return "/mnt/" + path[0].lower() + ("/" + path[2:].strip("/") if path[2:].strip("/") else "")
    if path.startswith(("%", "$env:", "$HOME")):
        return UNKNOWN + "winvar" + END
    return path


def interpreter_call(call: Call) -> None:
    """An interpreter: code given inline (-c, -e, eval), a module (-m), a script file, or its stdin."""
    program, argv, words, ctx, via, stdin, depth = call.program, call.argv, call.words, call.ctx, call.via, call.stdin, call.depth
    language = call.record["language"]
    spec = ctx.table.language(language)
    code_options = set(spec.get("code_options") or ())
    with_value = set(spec.get("value_options") or ())
    in_place_options = set(spec.get("in_place") or ())
    args = argv[1:]
    code, script_index, in_place, i = None, None, False, 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            script_index = i if i < len(args) else None
            break
        if arg in in_place_options or (arg.startswith("-i") and "-i" in in_place_options):
            in_place = True
        name, _, glued = arg.partition("=")
        if name in code_options and arg.startswith("-") or (arg in code_options and i == 0):
            code = glued if glued else (args[i + 1] if i + 1 < len(args) else "")
            break
        if arg in spec.get("module_options", ()) or (arg[:2] in spec.get("module_options", ()) and len(arg) > 2):
            emit(ctx, program, args, via)
            module = args[i + 1:] if arg in spec.get("module_options", ()) else [arg[2:], *args[i + 1:]]
            if module:
                ctx.trace.append(f"{program} {arg[:2]} {module[0]} runs the {module[0]} module's command")
                resolve(module, [None] * len(module), ctx, via + [f"{program} -m"], stdin, depth + 1)
            return
        if arg in with_value:
            i += 2
            continue
        if arg.startswith("-") and not arg.startswith("--") and len(arg) > 1:
            letters = arg[1:]
            if language in ("perl", "ruby") and letters[:1] in ("M", "I", "r") and len(letters) > 1:
                i += 1
                continue
            if any("-" + letters[-1] == o for o in code_options) or any(o.startswith("-") and len(o) == 2 and o[1] in letters for o in code_options if language == "python"):
                code = args[i + 1] if i + 1 < len(args) else ""
                break
            i += 1
            continue
        if arg.startswith("-"):
            i += 1
            continue
        if arg in spec.get("script_verbs", ()):  # deno run, bun run: the script follows
            i += 1
            continue
        if language == "awk" and code is None:
            code = arg
            break
        script_index = i
        break
    invocation = emit(ctx, program, args, via)
    if in_place:
        invocation.code_writes = True
    if code is not None and UNKNOWN in code and not strip_unknown(code).strip():
        emit(ctx, ":code", [], via + [program]).effects.append(("unclassified", code, f"{program} runs code only known at run time"))
        return
    if code is not None:
        code_call(language, code, ctx, via + [program], depth)
        if language == "awk" and in_place:
            invocation.code_writes = True
        return
    if script_index is not None and script_index < len(args):
        word = words[script_index + 1] if script_index + 1 < len(words) else None
        if args[script_index] == "-":
            from_stdin(stdin, ctx, via, depth, program, language)
            return
        script_from_file(args[script_index], word, stdin, ctx, via + [program], depth, program, language)
        # The script's own arguments: a script nobody described gets the pessimistic default (--out /etc/hosts)
        emit(ctx, args[script_index], args[script_index + 1:], via + [program])
        return
    if language != "awk":
        from_stdin(stdin, ctx, via, depth, program, language)


def strip_unknown(text: str) -> str:
    return "".join(piece.split(END, 1)[-1] if index else piece for index, piece in enumerate(text.split(UNKNOWN)))


def pwsh_call(call: Call) -> None:
    """PowerShell: -Command / -c / -EncodedCommand (base64 of UTF-16LE) / -File, guarded as PowerShell code."""
    argv, ctx = call.argv, call.ctx
    emit(ctx, call.program, argv[1:], call.via)
    i = 1
    while i < len(argv):
        option = argv[i].lower()
        if option in ("-encodedcommand", "-enc", "-e", "-ec", "-en", "-encoded"):
            code = decode_utf16_base64(argv[i + 1] if i + 1 < len(argv) else "")
            if code is None:
                emit(ctx, ":code", [], call.via).effects.append(("unclassified", "-EncodedCommand", "an encoded PowerShell command that does not decode"))
                return
            ctx.trace.append(f"decoded -EncodedCommand: {code[:80]}")
            code_call("powershell", code, ctx, call.via + [call.program], call.depth)
            return
        if option in ("-command", "-c", "/c", "-com", "-comm", "-comma", "-comman"):
            code_call("powershell", " ".join(argv[i + 1:]), ctx, call.via + [call.program], call.depth)
            return
        if option in ("-file", "-f"):
            target = argv[i + 1] if i + 1 < len(argv) else ""
            script_from_file(target, None, call.stdin, ctx, call.via + [call.program], call.depth, call.program, "powershell")
            return
        if not option.startswith("-"):
            code_call("powershell", " ".join(argv[i:]), ctx, call.via + [call.program], call.depth)
            return
        i += 2 if option in ("-executionpolicy", "-ep", "-windowstyle", "-w", "-version", "-outputformat", "-inputformat",
                             "-configurationname", "-workingdirectory", "-wd") else 1
    from_stdin(call.stdin, ctx, call.via, call.depth, call.program, "powershell")


def decode_utf16_base64(text: str) -> str | None:
    import binascii

    try:
        return binascii.a2b_base64(text.encode()).decode("utf-16-le")
    except (ValueError, UnicodeDecodeError):
        return None


def cmd_call(call: Call) -> None:
    """cmd.exe /c or /k: the rest is a command line (switches such as /s /q read as options)."""
    argv, ctx = call.argv, call.ctx
    emit(ctx, call.program, argv[1:], call.via)
    lowered = [a.lower() for a in argv]
    start = next((i for i, a in enumerate(lowered) if a in ("/c", "/k", "/r")), None)
    if start is None:
        return
    line = " ".join(argv[start + 1:])
    switches = call.record.get("switches") or {}
    words = []
    for word in line.replace("\\", "/").split():
        if word.startswith("/") and 1 < len(word) <= 3 and word[1:].isalpha():
            word = switches.get(word.lower(), "-" + word[1:].lower())
        words.append(word)
    script = " ".join(words)
    builtins = call.record.get("builtins") or {}  # rd, del ...: cmd's own commands, as the programs they act like
    converted = " ".join(builtins.get(w.lower(), windows_path(w) if len(w) > 1 and w[1] == ":" else w) for w in script.split())
    run_script(converted, [], ctx, call.via + [f"{call.program} /c"], call.depth, f"{call.program} /c")





