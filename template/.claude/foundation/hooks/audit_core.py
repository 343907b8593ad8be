"""The audit log's implementation; see audit.py (the entry point the hooks and the guard use) for the overview.

Record format (schema version 1, documented in docs/audit-and-posture.md): every line is one JSON object with
`v`, `seq` (1, 2, 3, ... in file order), `ts`, `event`, `session`, `team`, `template_version`, the tool call
(`tool`, `tool_use_id`, `input` with secrets redacted), the guard's `decision` and `reason`, the result
(`result.status`, `result.size`, never the output itself), `cwd`, `user`, `host` and `prev`, the SHA-256 of the
previous line.

Tamper evidence: an edited line breaks the `prev` of the line after it, a deleted line leaves a gap in `seq`, an
inserted line repeats a `seq` or has none, and a head file beside the log (LOG.head: last seq and last line hash)
catches a log cut short at the end. Each append runs under an exclusive lock on LOG.lock, so several agent
sessions writing at once never lose or interleave records.

Start-up cost matters (this runs on every tool call): nothing is done at import time, and the hot path uses only
modules the interpreter has already loaded plus the C accelerators behind json and hashlib; `re` is imported only
when a string may hold a secret. Standard library only.
"""

import sys

import hostos  # the calls this module makes, without importing os (see hostos.py)

SCHEMA_VERSION = 1
GENESIS = "0" * 64
DEFAULT_LOG = ".claude/audit/audit.jsonl"
POLICY_FILE = ".claude/foundation/policy.json"
MAX_VALUE_CHARS = 2000  # longer strings in a tool input are cut (the log records what was done, not the data)
MAX_ERROR_CHARS = 500
TAIL_CHUNK = 8192
REDACTED = "[REDACTED]"

# ---------------------------------------------------------------- JSON and SHA-256 without the slow imports
# `import json` costs about 5 ms (its pure-Python layer imports re); the C scanner and encoder it wraps cost
# nothing. Same output as json.dumps(..., ensure_ascii=True, separators=(",", ":")).


class _ScanContext:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict = {}

    @staticmethod
    def parse_constant(name: str) -> float:
        return float(name.replace("Infinity", "inf"))


_codec: tuple | None = None


def _get_codec() -> tuple:
    global _codec
    if _codec is None:
        try:
            import _json

            scanner = _json.make_scanner(_ScanContext())
            encoder = _json.make_encoder(None, str, _json.encode_basestring_ascii, None, ":", ",", False, False, True)
            _codec = (scanner, encoder)
        except (ImportError, AttributeError, TypeError):  # another interpreter: the documented API
            import json

            _codec = (None, json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), default=str).iterencode)
    return _codec


def loads(text: str):
    """Parse one JSON document (raises ValueError on anything else)."""
    scanner = _get_codec()[0]
    if scanner is None:
        import json

        return json.loads(text)
    text = text.strip(" \t\r\n")
    try:
        value, end = scanner(text, 0)
    except StopIteration:
        raise ValueError("not JSON") from None
    except Exception as error:  # json.JSONDecodeError (a ValueError) and RecursionError
        raise ValueError(str(error)) from None
    if end != len(text):
        raise ValueError(f"extra data after the JSON value at character {end}")
    return value


def dumps(value) -> str:
    """Compact, ASCII-only JSON (one line, whatever the content)."""
    encoder = _get_codec()[1]
    return "".join(encoder(value, 0) if _codec[0] is not None else encoder(value))


def _sha256(data: bytes) -> str:
    try:
        from _sha256 import sha256  # CPython <= 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # CPython >= 3.12
        except ImportError:
            from hashlib import sha256
    return sha256(data).hexdigest()


def line_hash(line: bytes) -> str:
    """The SHA-256 of one log line, without its line end (what the next record's `prev` holds)."""
    return _sha256(line[:-1] if line.endswith(b"\n") else line)


# ---------------------------------------------------------------- redaction
# Each rule: (words, marks, pattern, replacement). The pattern can only match when the lower-cased text holds one
# of the words and, if marks are given, one of the marks. Testing that first spares importing re and compiling
# (about 4 ms) for the usual call with no secret in it; tests/test_audit.py checks the result is the same as
# applying every pattern.
_RULES_SOURCE: tuple = (
    (("private key",), (), r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", "[REDACTED PRIVATE KEY]"),
    (("authorization", "api-key", "auth-token", "private-token"), (":",),
     r"(?i)\b((?:proxy-)?authorization|x-api-key|api-key|x-auth-token|private-token)(\s*:\s*)(?:[A-Za-z]+\s+)?[^\s\"']+", r"\1\2" + REDACTED),
    (("bearer", "token", "basic", "digest"), (),
     r"(?i)\b(bearer|token|basic|digest)\s+(?=[A-Za-z0-9._~+/=-]*[0-9]|[A-Za-z0-9._~+/=-]{16})[A-Za-z0-9._~+/=-]{8,}", r"\1 " + REDACTED),
    (("pass", "pwd", "secret", "token", "api", "access", "key", "credential"), ("=", ":"),
     r"(?i)([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth[_-]?key|private[_-]?key|credentials?)"
     r"[A-Za-z0-9_.-]*[\"']?\s*[=:]\s*)(?![0-9]+\b)(\"[^\"]*\"|'[^']*'|[^\s\"',;&|)]+)", r"\1" + REDACTED),
    (("-pass", "-token", "-api", "-secret", "-client-secret", "-auth-token", "-access-key"), (),
     r"(?i)(\s--?(?:password|passwd|pass|token|api-key|apikey|secret|client-secret|auth-token|access-key)\s+)(\"[^\"]*\"|'[^']*'|\S+)",
     r"\1" + REDACTED),
    (("-u", "--user"), (":",), r"((?:^|\s)(?:-u|--user)\s*)([^\s:'\"]+):([^\s'\"]+)", r"\1\2:" + REDACTED),
    (("://",), ("@",), r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@'\"]*):([^/\s@'\"]+)@", r"\1\2:" + REDACTED + "@"),
    (("://",), ("@",), r"(?i)\b([a-z][a-z0-9+.-]*://)([A-Za-z0-9_.~-]{20,})@", r"\1" + REDACTED + "@"),
    (("key=", "sig=", "signature=", "credential=", "code="), ("?", "&"),
     r"(?i)([?&](?:key|sig|signature|x-amz-signature|x-amz-credential|x-goog-signature|code)=)[^&\s\"'#]+", r"\1" + REDACTED),
    (("akia", "asia"), (), r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b", "[REDACTED AWS KEY]"),
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), (),
     r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})", "[REDACTED GITHUB TOKEN]"),
    (("sk-", "sk_", "rk_", "xox", "aiza", "glpat-", "npm_", "pypi-"), (),
     r"\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|xox[abprs]-[A-Za-z0-9-]{10,}"
     r"|AIza[0-9A-Za-z_-]{30,}|glpat-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{30,}|pypi-[A-Za-z0-9_-]{40,})", "[REDACTED API KEY]"),
    (("eyj",), (".",), r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", "[REDACTED JWT]"),
)
# Keys whose whole value is a secret, whatever it looks like (MCP tool inputs, env maps, headers).
SECRET_KEY_PARTS = ("password", "passwd", "secret", "token", "apikey", "api_key", "api-key", "authorization",
                    "credential", "private_key", "privatekey", "access_key", "cookie", "session_key")
_compiled: dict = {}


def _pattern(index: int):
    if index not in _compiled:
        import re

        _compiled[index] = re.compile(_RULES_SOURCE[index][2], re.S)
    return _compiled[index]


def redact_text(text: str, *, always: bool = False) -> str:
    """text with every secret-looking part masked (always=True skips the cheap pre-test; same result)."""
    lowered = text.lower()
    for index, (words, marks, _source, replacement) in enumerate(_RULES_SOURCE):
        if always or (any(w in lowered for w in words) and (not marks or any(m in lowered for m in marks))):
            new = _pattern(index).sub(replacement, text)
            if new != text:
                text, lowered = new, new.lower()
    return text


def _secret_key(key: str) -> bool:
    key = key.lower()
    return any(part in key for part in SECRET_KEY_PARTS)


def redact(value, *, always: bool = False):
    """A copy of value with secrets masked and long strings cut (strings, and inside lists and objects)."""
    if isinstance(value, str):
        value = redact_text(value, always=always)
        return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + f"...[cut, {len(value)} chars]"
    if isinstance(value, dict):
        return {
            key: (REDACTED if _secret_key(str(key)) and isinstance(item, (str, int, float)) and item != "" else redact(item, always=always))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item, always=always) for item in value]
    return value


# ---------------------------------------------------------------- the records


def _now() -> str:
    import time

    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)


def _result(event: dict, name: str) -> dict:
    response = event.get("tool_response")
    failed = name == "PostToolUseFailure" or (
        isinstance(response, dict) and bool(response.get("is_error") or response.get("interrupted"))
    )
    size = 0 if response is None else len(response.encode("utf-8", "replace")) if isinstance(response, str) else len(dumps(response))
    result: dict = {"status": "error" if failed else "success", "size": size}
    error = event.get("error")
    if error:
        result["error"] = redact_text(str(error))[:MAX_ERROR_CHARS]
    if event.get("is_interrupt"):
        result["interrupted"] = True
    if isinstance(event.get("duration_ms"), (int, float)):
        result["duration_ms"] = event["duration_ms"]
    return result


def _client_from_environment() -> str:
    """The agent behind a hook that does not say: the Copilot CLI also runs Claude Code's hooks from
    .claude/settings.json (observed on 1.0.102) and marks its hook processes with COPILOT_CLI=1."""
    return hostos.getenv("AGENT_FOUNDATION_CLIENT") or ("copilot" if hostos.getenv("COPILOT_CLI") else "claude-code")


def make_record(event: dict, policy: dict, decision: str | None = None, reason: str | None = None) -> dict:
    """The record of one hook event, before `seq` and `prev` are added by append()."""
    name = str(event.get("hook_event_name") or "unknown")
    record: dict = {
        "v": SCHEMA_VERSION,
        "ts": _now(),
        "event": name,
        "session": event.get("session_id"),
        # Which agent made the call: the hook adapters name theirs; Claude Code's own hooks name none.
        "client": event.get("client") or _client_from_environment(),
        "team": policy.get("team"),
        "template_version": policy.get("template_version"),
    }
    if "tool_name" in event:
        record["tool"] = event.get("tool_name")
        if event.get("tool_use_id"):
            record["tool_use_id"] = event["tool_use_id"]
        record["input"] = redact(event.get("tool_input"))
    if decision is not None:
        record["decision"] = decision
        record["reason"] = redact_text(str(reason)) if reason is not None else None
    if name in ("PostToolUse", "PostToolUseFailure") or "tool_response" in event:
        record["result"] = _result(event, name)
    if event.get("permission_mode"):
        record["mode"] = event["permission_mode"]
    if event.get("agent_id"):
        record["agent"] = {"id": event.get("agent_id"), "type": event.get("agent_type")}
    if name == "SessionStart":
        record["source"] = event.get("source")
    elif name == "SessionEnd":
        record["end_reason"] = event.get("reason")
    record["cwd"] = event.get("cwd")
    record["user"] = hostos.getenv("USER") or hostos.getenv("LOGNAME")
    record["host"] = hostos.uname().nodename if hostos.uname else None
    return record


# ---------------------------------------------------------------- appending under the lock


def _open_creating_dirs(path: str, flags: int) -> int:
    try:
        return hostos.open(path, flags, 0o600)
    except FileNotFoundError:
        hostos.makedirs(hostos.dirname(path) or ".")
        return hostos.open(path, flags, 0o600)


def read_head(log) -> tuple[int, str] | None:
    """(last seq, hash of the last line) from LOG.head, or None when there is no readable head file."""
    try:
        with open(hostos.fspath(log) + ".head", "rb") as handle:
            seq, last = handle.read(200).split()[:2]
        return int(seq), last.decode("ascii")
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _write_head(log: str, seq: int, last: str) -> None:
    """Rewrite LOG.head in place: the writer holds the log's lock, and a fixed-width record needs neither a
    temporary file nor a rename (a torn head, after a crash, makes `verify` report the end as unproven)."""
    fd = hostos.open(log + ".head", hostos.O_CREAT | hostos.O_WRONLY, 0o600)
    try:
        hostos.pwrite(fd, f"{seq:020d} {last}\n".encode("ascii"), 0)
    finally:
        hostos.close(fd)


def _tail(fd: int, size: int) -> tuple[int, str, bool]:
    """(seq of the last line or 0, its hash, whether the file lacks a final line end)."""
    if size == 0:
        return 0, GENESIS, False
    buffer, position = b"", size
    while position > 0:
        start = max(0, position - TAIL_CHUNK)
        buffer = hostos.pread(fd, position - start, start) + buffer
        position = start
        if buffer.rfind(b"\n", 0, len(buffer) - 1) >= 0:
            break
    line = buffer[buffer.rfind(b"\n", 0, len(buffer) - 1) + 1 :]
    try:
        seq = loads(line.decode("utf-8")).get("seq")
        seq = seq if isinstance(seq, int) else 0
    except (ValueError, AttributeError, UnicodeDecodeError):
        seq = 0
    return seq, line_hash(line), not line.endswith(b"\n")


def append(log, record: dict) -> dict:
    """Append one record to the chain and return it with `seq` and `prev`; raises OSError when it cannot.

    The next `seq` continues from the head file or the last line, whichever is further, so lines removed from
    the end show up as a gap; `prev` is the hash of the line actually last in the file.
    """
    log = hostos.fspath(log)
    lock = _open_creating_dirs(log + ".lock", hostos.O_CREAT | hostos.O_RDWR)
    try:
        import fcntl

        fcntl.flock(lock, fcntl.LOCK_EX)
        head = read_head(log)
        fd = hostos.open(log, hostos.O_CREAT | hostos.O_RDWR | hostos.O_APPEND, 0o600)
        try:
            tail_seq, tail_hash, unterminated = _tail(fd, hostos.fstat(fd).st_size)
            record = {"v": SCHEMA_VERSION, "seq": max(tail_seq, head[0] if head else 0) + 1, **record, "prev": tail_hash}
            line = dumps(record).encode("ascii") + b"\n"
            data = (b"\n" if unterminated else b"") + line  # never glue a record onto a cut line
            while data:
                data = data[hostos.write(fd, data) :]
        finally:
            hostos.close(fd)
        _write_head(log, record["seq"], line_hash(line))
    finally:
        hostos.close(lock)  # closing the descriptor releases the lock
    return record


# ---------------------------------------------------------------- where the log is


def load_policy(project_dir) -> dict:
    try:
        with open(hostos.join(hostos.fspath(project_dir), POLICY_FILE), "rb") as handle:
            policy = loads(handle.read().decode("utf-8"))
        return policy if isinstance(policy, dict) else {}
    except (OSError, ValueError, UnicodeDecodeError):
        return {}


def log_path(project_dir, policy: dict) -> str:
    """The team's audit_log answer (policy.json audit.path), relative to the repository."""
    audit = policy.get("audit") if isinstance(policy.get("audit"), dict) else {}
    return hostos.join(hostos.fspath(project_dir), str(audit.get("path") or DEFAULT_LOG))


def project_dir_of(event: dict) -> str:
    return hostos.getenv("CLAUDE_PROJECT_DIR") or event.get("cwd") or hostos.getcwd()


def record_event(event: dict, decision: str | None = None, reason: str | None = None, policy: dict | None = None) -> dict:
    """Write the audit record of one hook event and return it (the guard calls this for its own decisions).

    Raises OSError when the log cannot be written: the guard then blocks, the audit hook exits 1.
    """
    project_dir = project_dir_of(event)
    policy = policy if policy is not None else load_policy(project_dir)
    return append(log_path(project_dir, policy), make_record(event, policy, decision, reason))


# ---------------------------------------------------------------- verify


def verify(log) -> list[str]:
    """Every break in the chain as "line N: what happened"; empty when the log is intact."""
    log = hostos.fspath(log)
    head = read_head(log)
    if not hostos.exists(log):
        if head:
            return [f"line 1: the log is gone but its head file records {head[0]} record(s): the log was deleted"]
        return ["line 0: no audit log here (nothing recorded yet, or the log and its head file were deleted)"]
    problems: list[tuple[int, str]] = []
    expected, prev = 1, GENESIS  # next seq and the hash the next record must point to
    last_no, last_seq, last_hash = 0, 0, GENESIS
    accepted: tuple | None = None  # (line no, prev it pointed to) of the last accepted record
    suspect: tuple | None = None  # (line no, seq or None, prev or None, hash, cut) waiting for the next line

    def settle_suspect(next_seq, next_prev) -> None:
        nonlocal suspect, expected, prev, accepted
        number, seq, sprev, shash, cut = suspect
        suspect = None
        if next_seq == expected and next_prev == prev:
            problems.append((number, "inserted (the chain skips it: the next line continues from the line before)"))
        elif accepted and seq == expected - 1 and sprev == accepted[1] and next_prev == shash:
            problems.append((accepted[0], f"inserted (two lines claim seq {seq}; the chain continues from line {number})"))
            prev = shash
        elif next_seq == expected + 1 or next_seq is None:
            what = "cut short" if cut else "edited (not a valid audit record)" if seq is None else "edited (its seq was changed)"
            problems.append((number, what))
            expected += 1
            prev = next_prev if isinstance(next_prev, str) else shash
        else:
            problems.append((number, "not a valid audit record (edited or inserted)"))

    with open(log, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            digest = line_hash(raw)
            last_no, last_hash = number, digest
            try:
                record = loads(raw.decode("utf-8"))
                seq, rprev = record.get("seq"), record.get("prev")
                if not isinstance(seq, int) or not isinstance(rprev, str):
                    raise ValueError("no seq or prev")
            except (ValueError, AttributeError, UnicodeDecodeError):
                seq = rprev = None
            if suspect:
                settle_suspect(seq, rprev)
            if seq is None or seq < expected:
                suspect = (number, seq, rprev, digest, not raw.endswith(b"\n"))
                continue
            if seq > expected:
                gap = f"seq {expected}" if seq == expected + 1 else f"seq {expected} to {seq - 1}"
                problems.append((number, f"{seq - expected} record(s) missing before this line ({gap}): lines were deleted"))
            elif rprev != prev:
                if accepted and accepted[0] == number - 1:
                    problems.append((number - 1, f"edited (its hash does not match the prev recorded in line {number})"))
                elif number == 1:
                    problems.append((1, "edited (the first record does not start the chain)"))
                else:
                    problems.append((number, "does not chain to the line before it (edited or inserted lines)"))
            accepted = (number, rprev)
            expected, prev, last_seq = seq + 1, digest, seq
    if suspect:
        number, _seq, _sprev, _shash, cut = suspect
        problems.append((number, "cut short (the log ends in the middle of a record)" if cut else "not a valid audit record (edited or inserted)"))
    if head is None:
        if last_no:
            problems.append((last_no + 1, f"the head file {hostos.basename(log)}.head is missing, so a cut at the end cannot be ruled out"))
    elif head[0] > last_seq:
        gap = f"seq {last_seq + 1}" if head[0] == last_seq + 1 else f"seq {last_seq + 1} to {head[0]}"
        problems.append((last_no + 1, f"the log ends early: {head[0] - last_seq} record(s) missing at the end ({gap}): it was truncated"))
    elif head[0] == last_seq and head[1] != last_hash and not any(n == last_no for n, _ in problems):
        problems.append((last_no, "edited (the head file records another hash for the last line)"))
    elif head[0] < last_seq:
        problems.append((last_no, f"the head file records seq {head[0]} but the log goes on to {last_seq} (head replaced by an older copy?)"))
    return [f"line {number}: {text}" for number, text in sorted(problems, key=lambda item: item[0])]


# ---------------------------------------------------------------- command line


def _hook() -> int:
    try:
        event = loads(sys.stdin.buffer.read().decode("utf-8", "replace"))
        if not isinstance(event, dict):
            raise ValueError("the hook input is not a JSON object")
    except ValueError as error:
        sys.stderr.write(f"agent-foundation audit: unreadable hook input ({error}); recording that instead.\n")
        event = {"hook_event_name": "AuditInputError", "error": str(error)}
    project_dir = project_dir_of(event)
    policy = load_policy(project_dir)
    log = log_path(project_dir, policy)
    try:
        append(log, make_record(event, policy))
    except Exception as error:  # noqa: BLE001 - any failure must be said, not swallowed
        sys.stderr.write(
            f"agent-foundation audit: cannot write the audit log {log}: {type(error).__name__}: {error}. "
            "This agent action was NOT recorded. Check that the directory exists and is writable, or change the "
            "audit_log answer (see docs/audit-and-posture.md).\n"
        )
        return 1
    return 0 if event.get("hook_event_name") != "AuditInputError" else 1


def _verify(argv: list[str]) -> int:
    if argv:
        log = argv[0]
    else:
        project_dir = hostos.getenv("CLAUDE_PROJECT_DIR") or _repo_root()
        log = log_path(project_dir, load_policy(project_dir))
    if not hostos.exists(log) and read_head(log) is None:
        print(f"{log}: no audit log yet (nothing recorded, or the log and its head file were both deleted)", file=sys.stderr)
        return 1
    problems = verify(log)
    for problem in problems:
        print(f"{log}: {problem}")
    if problems:
        print(f"{log}: {len(problems)} problem(s): the audit log was changed after it was written", file=sys.stderr)
        return 1
    head = read_head(log)
    print(f"{log}: chain intact ({head[0] if head else 0} records)")
    return 0


def _repo_root() -> str:
    """The repository this file belongs to (.claude/foundation/hooks/audit.py), so verify works from anywhere."""
    return hostos.dirname(hostos.dirname(hostos.dirname(hostos.dirname(hostos.abspath(__file__)))))


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "hook"
    if command == "hook":
        return _hook()
    if command == "verify":
        return _verify(argv[2:])
    print(f"usage: {hostos.basename(argv[0])} hook | verify [LOG]", file=sys.stderr)
    return 2


def run(argv: list) -> None:
    """Run the command line and exit at once, skipping interpreter teardown (nothing is left to clean up)."""
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    hostos._exit(code)
