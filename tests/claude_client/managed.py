"""Run the real client with managed settings, without touching the machine's /etc.

The client reads managed settings only from a fixed path (/etc/claude-code/ on Linux; no environment variable
moves it). Each client run starts in a private mount namespace (`unshare --mount`, needs root) with an overlay
over /etc whose upper layer holds claude-code/: the single managed-settings.json, a managed-settings.d/ folder of
drop-ins, or both.
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
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.fail("proving managed settings needs root and unshare (a private mount namespace over /etc); "
                    "run the suite as root, as CI does", pytrace=False)
    upper, work = where / "upper", where / "work"
    upper.mkdir(parents=True)
    work.mkdir()
    if managed is not None and managed.is_dir():
        shutil.copytree(managed, upper / "claude-code")
    else:
        (upper / "claude-code").mkdir()
        if managed is not None:
            shutil.copy(managed, upper / "claude-code" / "managed-settings.json")
    wrapper = where / "claude"
    wrapper.write_text(
        "#!/bin/sh\n"
        "exec unshare --mount --propagation private sh -c "
        f"'mount -t overlay overlay -o lowerdir=/etc,upperdir={upper},workdir={work} /etc && exec \"$0\" \"$@\"' "
        f"{claude_bin.resolve()} \"$@\"\n"
    )
    wrapper.chmod(0o755)
    probe = subprocess.run([str(wrapper), "--version"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.fail(f"could not start the client in a mount namespace: {probe.stderr}", pytrace=False)
    assert not Path("/etc/claude-code/managed-settings.json").exists() or managed is None
    return wrapper
