"""`agent-foundation managed-settings --out DIR`: the organisation's floor, for IT to deploy on every device.

A team repository that rendered the foundation carries the deny rules and hooks in its own
`.claude/settings.json`; a repository that never did carries nothing. Managed settings hold on every session
of the machine, at the highest precedence, and a project cannot remove them. What goes in, and why:

- `permissions.deny` / `permissions.ask`: the foundation's deny and ask rules, from the very functions that
  render a team's settings.json (`render.foundation_deny_rules`, `render.foundation_ask_rules`). Deny and ask
  are evaluated before allow in every scope, so no project, local or command-line allow can loosen them.
- `permissions.disableBypassPermissionsMode: "disable"` and `disableAutoMode: "disable"`: no session on the
  device may switch the permission checks off (`--dangerously-skip-permissions`, `defaultMode:
  bypassPermissions`) or hand them to the auto classifier.
- `allowedMcpServers` (+ `allowManagedMcpServersOnly: true`): only the registry's vetted MCP servers may start,
  matched by their exact command line (package pinned to the vetted version) or https URL; a server of the same
  name with another command or version is refused. Without allowManagedMcpServersOnly a project could add its
  own entries to the allow list. Opt out with `--no-mcp-allowlist`.
- `allowManagedPermissionRulesOnly: false`: left off on purpose. When true the client ignores every project
  and user allow rule, which would break each team's permission profile and stack commands.
- `allowManagedHooksOnly: false`: left off on purpose. The foundation's guard and audit hooks are project
  hooks (`$CLAUDE_PROJECT_DIR/.claude/foundation/hooks/...`); managed-only hooks would switch them off, and a
  managed hook cannot point at scripts that do not exist in repositories without the foundation.
- No hooks: see the previous point. The managed floor is what the client enforces without any script.
- `sandbox` (`render.sandbox_floor`): the client's OS sandbox on for every session of the device, fail-closed
  when it cannot start, no escape through `dangerouslyDisableSandbox`, the home-directory secrets hidden, and
  the network limited to every host the foundation's data names (`strictAllowlist`: other hosts are refused,
  never asked). While the floor sets `allowUnsandboxedCommands: false` the client ignores a project's own hosts,
  caches and excluded commands, so the floor carries those of every stack and profile; a team's
  `extra_network_hosts` then need the platform team to add them to `foundation/` (docs/sandbox.md).
- `extraKnownMarketplaces` (only with `--marketplace-url`): offers the registry's plugin marketplace to
  everyone on the device.

`managed-mcp.json` is not generated: when present it becomes the only source of MCP servers, forcing the same
servers on every session; the allow list keeps servers opt-in per team while refusing unvetted ones.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import render
from .foundation import Foundation, FoundationError, load_foundation
from .marketplace import MARKETPLACE_NAME

MANAGED_SETTINGS_FILE = "managed-settings.json"
DEPLOY_PATHS = {
    "Linux and WSL": "/etc/claude-code/managed-settings.json",
    "macOS": "/Library/Application Support/ClaudeCode/managed-settings.json",
    "Windows": r"C:\Program Files\ClaudeCode\managed-settings.json",
}


def mcp_server_matchers(foundation: Foundation) -> list[dict[str, Any]]:
    """allowedMcpServers entries: each vetted server by the exact command (or URL) a team's .mcp.json runs."""
    matchers = []
    for name in foundation.mcp_servers:
        config = render.mcp_server_config(foundation.mcp_servers[name])
        if "url" in config:
            matchers.append({"serverUrl": config["url"]})
        else:
            matchers.append({"serverCommand": [config["command"], *config["args"]]})
    return matchers


def managed_settings(foundation: Foundation, *, mcp_allowlist: bool = True, marketplace_url: str | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "$schema": render.SETTINGS_SCHEMA_URL,
        "permissions": {
            "deny": render.foundation_deny_rules(foundation),
            "ask": render.foundation_ask_rules(foundation),
            "disableBypassPermissionsMode": "disable",
        },
        "disableAutoMode": "disable",
        "allowManagedPermissionRulesOnly": False,
        "allowManagedHooksOnly": False,
        "sandbox": render.sandbox_floor(foundation),
    }
    if mcp_allowlist:
        settings["allowedMcpServers"] = mcp_server_matchers(foundation)
        settings["allowManagedMcpServersOnly"] = True
    if marketplace_url:
        settings["extraKnownMarketplaces"] = {
            MARKETPLACE_NAME: {"source": {"source": "git", "url": marketplace_url}},
        }
    return settings


def write(out: Path, foundation: Foundation, **options: Any) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / MANAGED_SETTINGS_FILE
    path.write_text(render.dumps(managed_settings(foundation, **options)), encoding="utf-8")
    return path


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("managed-settings", help="render device-level managed settings for IT")
    parser.add_argument("--out", type=Path, required=True, help="folder to write managed-settings.json into")
    parser.add_argument("--no-mcp-allowlist", action="store_true", help="do not restrict MCP servers to the registry's vetted ones")
    parser.add_argument("--marketplace-url", metavar="GIT_URL", help="offer the registry's plugin marketplace (this repository's git URL) on every device")
    parser.add_argument("--agent", choices=("claude-code", "codex"), default="claude-code",
                        help="whose managed floor: Claude Code's managed-settings.json (default) or Codex's requirements.toml")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        foundation = load_foundation(Path(args.root) / "foundation")
    except FoundationError as error:
        print(f"managed-settings: cannot read the registry: {error}", file=sys.stderr)
        return 1
    if getattr(args, "agent", "claude-code") == "codex":
        return _write_codex(args, foundation)
    path = write(args.out, foundation, mcp_allowlist=not args.no_mcp_allowlist, marketplace_url=args.marketplace_url)
    print(f"managed-settings: wrote {path}")
    print("Deploy it (root-owned, read-only for users) to:")
    for platform, target in DEPLOY_PATHS.items():
        print(f"  {platform}: {target}")
    return 0


def _write_codex(args: argparse.Namespace, foundation: Foundation) -> int:
    """Codex's floor: requirements.toml (allowed approval policies and sandbox modes, the guard as a managed
    hook, the vetted MCP servers as the allowlist), from agents/codex.py."""
    from .agents import codex

    args.out.mkdir(parents=True, exist_ok=True)
    for name, content in codex.managed(foundation, mcp_allowlist=not args.no_mcp_allowlist).items():
        (args.out / name).write_text(content, encoding="utf-8")
        print(f"managed-settings: wrote {args.out / name}")
    print("Deploy it (root-owned, read-only for users) to /etc/codex/requirements.toml (Linux and macOS).")
    return 0
