"""Run the real client with managed settings, without touching the machine's /etc.

The client reads managed settings only from a fixed path (/etc/claude-code/ on Linux; no environment variable
moves it). Each client run starts in a private mount namespace (`unshare --mount`, needs root) with an overlay
over /etc whose upper layer holds claude-code/: the single managed-settings.json, a managed-settings.d/ folder of
drop-ins, or both. The same overlay serves the other agents' managed files (Codex's /etc/codex/requirements.toml).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def namespaced_client(claude_bin: Path, where: Path, managed: Path | None) -> Path:
    """A wrapper that runs the client with /etc/claude-code holding `managed`: a managed-settings.json file, or a
    folder copied as /etc/claude-code itself (for drop-ins), or nothing (the control run)."""
    def fill(upper: Path) -> None:
        if managed is not None and managed.is_dir():
            shutil.copytree(managed, upper / "claude-code")
        else:
            (upper / "claude-code").mkdir()
            if managed is not None:
                shutil.copy(managed, upper / "claude-code" / "managed-settings.json")

    wrapper = etc_overlay(claude_bin, where, "claude", fill)
    assert not Path("/etc/claude-code/managed-settings.json").exists() or managed is None
    return wrapper


def etc_overlay(binary: Path, where: Path, name: str, fill) -> Path:
    """A wrapper `where/name` that runs `binary` in a private mount namespace with an overlay over /etc whose
    upper layer `fill(upper)` writes (a client's managed files); the machine's own /etc is never touched."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.fail("proving managed settings needs root and unshare (a private mount namespace over /etc); "
                    "run the suite as root, as CI does", pytrace=False)
    upper, work = where / "upper", where / "work"
    upper.mkdir(parents=True)
    work.mkdir()
    fill(upper)
    wrapper = where / name
    wrapper.write_text(
        "#!/bin/sh\n"
        "exec unshare --mount --propagation private sh -c "
        f"'mount -t overlay overlay -o lowerdir=/etc,upperdir={upper},workdir={work} /etc && exec \"$0\" \"$@\"' "
        f"{binary.resolve()} \"$@\"\n"
    )
    wrapper.chmod(0o755)
    probe = subprocess.run([str(wrapper), "--version"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.fail(f"could not start the client in a mount namespace: {probe.stderr}", pytrace=False)
    return wrapper
