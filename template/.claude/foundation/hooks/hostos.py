"""The operating-system calls the hooks make, without importing os.

Every foundation hook is started with `python3 -S`, and then importing os is the largest single part of the
guard's own start (os builds the collections ABCs behind os.environ: about 0.9 ms of CPU on every tool call).
The hooks need a handful of calls, which the C module behind os (posix) has; paths are POSIX paths. Where there
is no posix module (Windows) every name here is os's own. Standard library only.
"""

import sys

try:
    import posix as _system
except ImportError:  # not POSIX: os itself, whatever its import costs
    import os as _system

O_APPEND, O_CREAT, O_RDWR, O_WRONLY = _system.O_APPEND, _system.O_CREAT, _system.O_RDWR, _system.O_WRONLY
close, fspath, fstat, getcwd, open, write, _exit = (_system.close, _system.fspath, _system.fstat, _system.getcwd,
                                                    _system.open, _system.write, _system._exit)
pread, pwrite, uname = getattr(_system, "pread", None), getattr(_system, "pwrite", None), getattr(_system, "uname", None)


def normpath(path: str) -> str:
    """An absolute path with `.`, `..` and repeated slashes resolved as text (links are not followed)."""
    out: list[str] = []
    for piece in path.split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if out:
                out.pop()
            continue
        out.append(piece)
    return "/" + "/".join(out)


if _system.__name__ == "posix":
    _ENCODING = sys.getfilesystemencoding()

    def getenv(name: str, default: str | None = None) -> str | None:
        """os.environ.get: posix.environ is the same mapping, in bytes (os.environ's writes land in it)."""
        value = _system.environ.get(name.encode(_ENCODING, "surrogateescape"))
        return default if value is None else value.decode(_ENCODING, "surrogateescape")

    def dirname(path: str) -> str:
        head = path[:path.rfind("/") + 1]
        return head.rstrip("/") or head

    def basename(path: str) -> str:
        return path[path.rfind("/") + 1:]

    def join(path: str, *more: str) -> str:
        for part in more:
            path = part if part.startswith("/") else (path + part if not path or path.endswith("/") else path + "/" + part)
        return path

    def abspath(path: str) -> str:
        return normpath(path if path.startswith("/") else getcwd() + "/" + path)

    def exists(path: str) -> bool:
        try:
            _system.stat(path)
        except (OSError, ValueError):
            return False
        return True

    def islink(path: str) -> bool:
        try:
            return _system.lstat(path).st_mode & 0o170000 == 0o120000
        except (OSError, ValueError):
            return False

    def home() -> str:
        """The home folder (os.path.expanduser("~")): $HOME, else the password database's entry."""
        found = getenv("HOME")
        if found is None:
            import os

            found = os.path.expanduser("~")
        return found.rstrip("/") or "/"
else:
    import os

    getenv, dirname, basename, join, abspath, exists, islink = (os.environ.get, os.path.dirname, os.path.basename,
                                                                 os.path.join, os.path.abspath, os.path.exists, os.path.islink)

    def home() -> str:
        return os.path.expanduser("~")


def realpath(path: str) -> str:
    """Where a link points (rare on the guard's path: only a link is resolved), from os itself."""
    import os

    return os.path.realpath(path)


def makedirs(path: str) -> None:
    """os.makedirs(path, exist_ok=True): the first record of a new audit log only."""
    import os

    os.makedirs(path, exist_ok=True)
