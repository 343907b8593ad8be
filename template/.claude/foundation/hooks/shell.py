"""A shell parser for the guard: turns a command line into the simple commands it would really run.

Standard library only, no regular expressions (the guard starts on every tool call, so import cost counts).
It is lenient like a reader, not strict like bash: an unterminated quote ends at the end of the text, so a
command that bash would refuse is still analysed rather than waved through.

    parse(text) -> list[Command]     one Command per simple command, in order, with pipes linked

A Word keeps its parts so the analyser can expand variables it knows and see substitutions it must inspect:
    ("lit", text, quoted)   literal text after quote removal
    ("var", name, default, quoted)  $name / ${name} / ${name:-default}; default is a list of parts or None;
                            a computed form (${x//a/b}, ${a[@]}, ${#x}) keeps its text as the name, in braces
    ("sub", script, commands, kind)   $(...), `...`, <(...), >(...): the commands it runs
    ("arith", text, [sub parts])      $(( ... )); only its substitutions run commands
"""

from __future__ import annotations

MAX_DEPTH = 12
META = set(" \t\n;&|()<>")
SPECIAL_VARS = set("@*#?$!-0123456789")
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class TooDeep(Exception):
    """Nesting beyond MAX_DEPTH: the guard blocks rather than guess."""


class Word:
    __slots__ = ("parts",)

    def __init__(self, parts: list) -> None:
        self.parts = parts

    @property
    def quoted(self) -> bool:
        return any(p[0] == "lit" and p[2] for p in self.parts)

    @property
    def literal(self) -> str | None:
        """The word's value when it has no expansion at all, else None."""
        if all(p[0] == "lit" for p in self.parts):
            return "".join(p[1] for p in self.parts)
        return None

    def has_glob(self) -> bool:
        return any(p[0] == "lit" and not p[2] and any(c in p[1] for c in "*?[") for p in self.parts)

    def subs(self) -> list:
        out = []
        for part in self.parts:
            if part[0] == "sub":
                out.append(part)
            elif part[0] == "arith":
                out.extend(part[2])
            elif part[0] == "var" and part[2]:
                out.extend(Word(part[2]).subs())
        return out

    def text(self) -> str:
        """Readable form for traces."""
        out = []
        for part in self.parts:
            if part[0] == "lit":
                out.append(part[1])
            elif part[0] == "var":
                out.append("$" + part[1])
            elif part[0] == "sub":
                out.append("$(" + part[1] + ")")
            else:
                out.append("$((" + part[1] + "))")
        return "".join(out)


class Command:
    __slots__ = ("words", "redirects", "stdin", "pipe_prev", "pipe_next", "heredoc_quoted")

    def __init__(self) -> None:
        self.words: list[Word] = []
        self.redirects: list[tuple[str, Word]] = []  # (operator, target word)
        self.stdin: Word | None = None  # here-doc body or here-string
        self.heredoc_quoted = False
        self.pipe_prev: Command | None = None
        self.pipe_next: Command | None = None

    def text(self) -> str:
        return " ".join(w.text() for w in self.words)


def parse(text: str, depth: int = 0) -> list[Command]:
    if depth > MAX_DEPTH:
        raise TooDeep(f"commands nested more than {MAX_DEPTH} levels deep")
    return _Parser(text, depth).run()


def parse_dq_text(text: str, depth: int) -> Word:
    """Text as inside double quotes (here-doc bodies): expansions and substitutions, no word splitting."""
    parser = _Parser(text, depth)
    parts: list = []
    parser.read_dq_body(parts, terminator=None)
    return Word(parts)


def ansi_c(body: str) -> str:
    """Decode a $'...' string."""
    out, i, n = [], 0, len(body)
    simple = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "e": "\x1b", "E": "\x1b",
              "\\": "\\", "'": "'", '"': '"', "?": "?"}
    while i < n:
        c = body[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        if e in simple:
            out.append(simple[e])
            i += 2
        elif e == "x":
            j = i + 2
            while j < n and j < i + 4 and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(chr(int(body[i + 2:j], 16)) if j > i + 2 else "\\x")
            i = j
        elif e in "uU":
            j = i + 2
            while j < n and j < i + (6 if e == "u" else 10) and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(chr(int(body[i + 2:j], 16)) if j > i + 2 else "\\" + e)
            i = j
        elif e in "01234567":
            j = i + 1
            while j < n and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(chr(int(body[i + 1:j], 8)))
            i = j
        elif e == "c" and i + 2 < n:
            out.append(chr(ord(body[i + 2]) & 31))
            i += 3
        else:
            out.append("\\" + e)
            i += 2
    return "".join(out)


class _Parser:
    def __init__(self, s: str, depth: int) -> None:
        self.s = s
        self.n = len(s)
        self.i = 0
        self.depth = depth

    # ------------------------------------------------------------ top level
    def run(self) -> list[Command]:
        s, n = self.s, self.n
        commands: list[Command] = []
        cur = Command()
        pending: list[tuple[Command, str, bool, bool]] = []  # here-docs waiting for their body
        pipe_from: Command | None = None
        last_end = -1  # index just after the last word, to spot fd numbers glued to a redirection

        def finish(pipe: bool) -> None:
            nonlocal cur, pipe_from
            if cur.words or cur.redirects or cur.stdin is not None:
                if pipe_from is not None:
                    cur.pipe_prev = pipe_from
                    pipe_from.pipe_next = cur
                commands.append(cur)
                pipe_from = cur if pipe else None
            elif not pipe:
                pipe_from = None
            cur = Command()

        while self.i < n:
            c = s[self.i]
            if c in " \t":
                self.i += 1
                continue
            if c == "\\" and self.i + 1 < n and s[self.i + 1] == "\n":
                self.i += 2
                continue
            if c == "#":
                while self.i < n and s[self.i] != "\n":
                    self.i += 1
                continue
            if c == "\n" or c == "\r":
                finish(False)
                self.i += 1
                if pending:
                    self.read_heredocs(pending)
                    pending = []
                continue
            if c in "<>" and self.i + 1 < n and s[self.i + 1] == "(":
                word, self.i = self.read_word(self.i)
                cur.words.append(word)
                last_end = self.i
                continue
            if c in "<>" or (c == "&" and s.startswith("&>", self.i)):
                if last_end == self.i and cur.words and (cur.words[-1].literal or "x").isdigit():
                    cur.words.pop()  # `2>`: the digits are a file descriptor, not an argument
                op = self.read_redirect_op()
                while self.i < n and s[self.i] in " \t":
                    self.i += 1
                if op in (">&", "<&") and self.i < n and (s[self.i].isdigit() or s[self.i] == "-"):
                    while self.i < n and s[self.i] not in META:
                        self.i += 1
                    continue
                if self.i >= n or s[self.i] in "\n;|&)":
                    continue
                target, self.i = self.read_word(self.i)
                if op in ("<<", "<<-"):
                    delim = "".join(p[1] for p in target.parts if p[0] == "lit") or target.text()
                    pending.append((cur, delim, op == "<<-", target.quoted))
                elif op == "<<<":
                    cur.stdin = target
                else:
                    cur.redirects.append((op, target))
                continue
            if c in ";&|()":
                two = s[self.i:self.i + 2]
                if two in ("&&", "||", ";;"):
                    self.i += 2
                    finish(False)
                elif two == "|&":
                    self.i += 2
                    finish(True)
                elif c == "|":
                    self.i += 1
                    finish(True)
                else:
                    self.i += 1
                    finish(False)
                continue
            word, self.i = self.read_word(self.i)
            cur.words.append(word)
            last_end = self.i
        finish(False)
        if pending:
            for command, _delim, _strip, quoted in pending:  # no body: an empty here-doc
                command.stdin = Word([("lit", "", True)])
                command.heredoc_quoted = quoted
        return commands

    def read_redirect_op(self) -> str:
        s, i = self.s, self.i
        for op in ("&>>", "<<<", "<<-", "&>", ">>", ">&", ">|", "<<", "<&", "<>", ">", "<"):
            if s.startswith(op, i):
                self.i = i + len(op)
                return op
        self.i = i + 1
        return s[i]

    def read_heredocs(self, pending: list) -> None:
        s, n = self.s, self.n
        for command, delim, strip, quoted in pending:
            lines = []
            while self.i < n:
                end = s.find("\n", self.i)
                if end < 0:
                    end = n
                line = s[self.i:end]
                self.i = end + 1
                check = line.lstrip("\t") if strip else line
                if check.rstrip("\r") == delim:
                    break
                lines.append(check)
            body = "\n".join(lines) + ("\n" if lines else "")
            command.stdin = Word([("lit", body, True)]) if quoted else parse_dq_text(body, self.depth + 1)
            command.heredoc_quoted = quoted
        self.i = min(self.i, n)

    # ------------------------------------------------------------ words
    def read_word(self, i: int) -> tuple[Word, int]:
        s, n = self.s, self.n
        parts: list = []
        buf: list[str] = []

        def flush() -> None:
            if buf:
                parts.append(("lit", "".join(buf), False))
                buf.clear()

        while i < n:
            c = s[i]
            if c in "<>" and i + 1 < n and s[i + 1] == "(":
                flush()
                end = self.skip_balanced(i + 2)
                inner = s[i + 2:end]
                parts.append(("sub", inner, parse(inner, self.depth + 1), c + "("))
                i = end + 1
                continue
            if c == "(" and buf and buf[-1] == "=" and not parts and "".join(buf[:-1]).isidentifier():
                end = self.skip_balanced(i + 1)  # an array assignment: a=(x y z)
                buf.append(s[i:end + 1])
                i = end + 1
                continue
            if c in META:
                break
            if c == "\\":
                if i + 1 < n:
                    if s[i + 1] != "\n":
                        flush()
                        parts.append(("lit", s[i + 1], True))
                    i += 2
                else:
                    i += 1
                continue
            if c == "'":
                end = s.find("'", i + 1)
                end = n if end < 0 else end
                flush()
                parts.append(("lit", s[i + 1:end], True))
                i = end + 1
                continue
            if c == '"':
                flush()
                self.i = i + 1
                self.read_dq_body(parts, terminator='"')
                i = self.i
                continue
            if c == "$":
                if i + 1 < n and s[i + 1] == "'":
                    end = i + 2
                    while end < n and s[end] != "'":
                        end += 2 if s[end] == "\\" else 1
                    flush()
                    parts.append(("lit", ansi_c(s[i + 2:min(end, n)]), True))
                    i = end + 1
                    continue
                if i + 1 < n and s[i + 1] == '"':
                    i += 1
                    continue
                flush()
                i = self.read_dollar(i, parts)
                continue
            if c == "`":
                flush()
                i = self.read_backtick(i, parts)
                continue
            buf.append(c)
            i += 1
        flush()
        return Word(parts), min(i, n) if i <= n else n

    def read_dq_body(self, parts: list, terminator: str | None) -> None:
        s, n = self.s, self.n
        i = self.i
        buf: list[str] = []

        def flush() -> None:
            if buf:
                parts.append(("lit", "".join(buf), True))
                buf.clear()

        while i < n:
            c = s[i]
            if terminator is not None and c == terminator:
                i += 1
                break
            if c == "\\" and i + 1 < n:
                nxt = s[i + 1]
                if nxt in '$`"\\':
                    buf.append(nxt)
                    i += 2
                    continue
                if nxt == "\n":
                    i += 2
                    continue
                buf.append(c)
                i += 1
                continue
            if c == "$":
                flush()
                i = self.read_dollar(i, parts, quoted=True)
                continue
            if c == "`":
                flush()
                i = self.read_backtick(i, parts)
                continue
            buf.append(c)
            i += 1
        flush()
        if not parts:
            parts.append(("lit", "", True))
        self.i = i

    def read_dollar(self, i: int, parts: list, quoted: bool = False) -> int:
        s, n = self.s, self.n
        nxt = s[i + 1] if i + 1 < n else ""
        if s.startswith("$((", i):
            end = self.skip_balanced(i + 3, opener="(", closer=")")
            inner = s[i + 3:end]
            if end + 1 < n and s[end + 1] == ")":
                sub = parse_dq_text(inner, self.depth + 1)
                parts.append(("arith", inner, sub.subs()))
                return end + 2
            # `$( (cmd) )` written without a space: a command substitution holding a subshell
            end = self.skip_balanced(i + 2)
            inner = s[i + 2:end]
            parts.append(("sub", inner, parse(inner, self.depth + 1), "$("))
            return end + 1
        if nxt == "(":
            end = self.skip_balanced(i + 2)
            inner = s[i + 2:end]
            parts.append(("sub", inner, parse(inner, self.depth + 1), "$("))
            return end + 1
        if nxt == "{":
            end = self.skip_balanced(i + 2, opener="{", closer="}")
            inner = s[i + 2:end]
            j = 0
            while j < len(inner) and (inner[j] in NAME_CHARS or (j == 0 and inner[j] in SPECIAL_VARS)):
                j += 1
                if j == 1 and inner[0] in SPECIAL_VARS and inner[0] not in "0123456789":
                    break
            name = inner[:j] or inner
            rest = inner[j:]
            default = None
            for op in (":-", ":=", "-", "="):
                if rest.startswith(op):
                    default = parse_dq_text(rest[len(op):], self.depth + 1).parts
                    break
            if rest and default is None:
                # ${x#...}, ${x/...}, ${!x}, ${#x}: the value is computed; keep any substitutions inside
                subs = parse_dq_text(rest, self.depth + 1).subs()
                parts.append(("var", "{" + inner + "}", subs or None, quoted))
                return end + 1
            parts.append(("var", name, default, quoted))
            return end + 1
        if nxt and (nxt in NAME_CHARS and not nxt.isdigit()):
            j = i + 1
            while j < n and s[j] in NAME_CHARS:
                j += 1
            parts.append(("var", s[i + 1:j], None, quoted))
            return j
        if nxt and nxt in SPECIAL_VARS:
            parts.append(("var", nxt, None, quoted))
            return i + 2
        parts.append(("lit", "$", quoted))
        return i + 1

    def read_backtick(self, i: int, parts: list) -> int:
        s, n = self.s, self.n
        j = i + 1
        buf = []
        while j < n and s[j] != "`":
            if s[j] == "\\" and j + 1 < n and s[j + 1] in "`$\\":
                buf.append(s[j + 1])
                j += 2
                continue
            buf.append(s[j])
            j += 1
        inner = "".join(buf)
        parts.append(("sub", inner, parse(inner, self.depth + 1), "`"))
        return j + 1

    def skip_balanced(self, j: int, opener: str = "(", closer: str = ")") -> int:
        """Index of the closer matching an opener just before j (or len(s) when unterminated)."""
        s, n = self.s, self.n
        depth = 1
        while j < n:
            c = s[j]
            if c == "\\":
                j += 2
                continue
            if c == "'" and opener == "(":
                end = s.find("'", j + 1)
                j = n if end < 0 else end + 1
                continue
            if c == '"':
                j += 1
                while j < n and s[j] != '"':
                    if s[j] == "\\":
                        j += 2
                        continue
                    if s.startswith("$(", j):
                        j = self.skip_balanced(j + 2) + 1
                        continue
                    j += 1
                j += 1
                continue
            if c == "`":
                end = s.find("`", j + 1)
                j = n if end < 0 else end + 1
                continue
            if c == opener:
                depth += 1
            elif c == closer:
                depth -= 1
                if depth == 0:
                    return j
            j += 1
        return n
