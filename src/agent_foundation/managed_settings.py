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
- `extraKnownMarketplaces` and `strictKnownMarketplaces` (only with `--marketplace-url`): offers the registry's
  plugin marketplace to everyone on the device, and makes it the only marketplace a session may add.
- `requiredMinimumVersion` (foundation/client.yml's minimum_version): an older client exits at start and says how to update.
- `pluginConfigs["agents-md@builtin"].options.instructionFiles: "claude-md"`: the client's built-in AGENTS.md
  plugin (2.1.332) would load AGENTS.md, which repeats the org rules, on top of CLAUDE.md and
  .claude/rules/; its option is read only from managed or user settings, so the floor sets it.
- `env` with the OpenTelemetry export (only with a collector: `foundation/telemetry.yml`'s endpoint, or
  `--otel-endpoint`): telemetry on, the exporters, protocol, endpoint and intervals, and every content flag
  written out (off unless telemetry.yml turns it on). Managed settings are the right place: the client does not
  take an exporter from a project's settings (2.1.332 ignores it there), and no project or user setting can
  redirect or switch off what the floor sets. Each team's sessions carry their labels
  (OTEL_RESOURCE_ATTRIBUTES from the team's own settings.json, which the client does read).

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
from .foundation import Foundation, FoundationError, load_foundation, otlp_endpoint_problem
from .marketplace import MARKETPLACE_NAME

MANAGED_SETTINGS_FILE = "managed-settings.json"
# The foundation's drop-in beside what IT keeps: the client merges managed-settings.json first, then every
# managed-settings.d/*.json in name order (both 2.1.197 and 2.1.332).
DROP_IN_FILE = "managed-settings.d/50-agent-foundation.json"
# Claude Code's built-in plugin that loads AGENTS.md, and the value of its option that loads only CLAUDE.md
# (and .claude/rules/): the org rules are in the request once.
AGENTS_MD_PLUGIN = "agents-md@builtin"
INSTRUCTION_FILES_CLAUDE_MD_ONLY = "claude-md"
DEPLOY_FOLDERS = {
    "Linux and WSL": "/etc/claude-code/",
    "macOS": "/Library/Application Support/ClaudeCode/",
    "Windows": "C:\\Program Files\\ClaudeCode\\",
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


# telemetry.yml's content flags -> the client's environment variables (all written out, "0" when off).
OTEL_CONTENT_VARIABLES = {
    "user_prompts": "OTEL_LOG_USER_PROMPTS",
    "tool_details": "OTEL_LOG_TOOL_DETAILS",
    "tool_content": "OTEL_LOG_TOOL_CONTENT",
    "assistant_responses": "OTEL_LOG_ASSISTANT_RESPONSES",
    "raw_api_bodies": "OTEL_LOG_RAW_API_BODIES",
}


def telemetry_env(foundation: Foundation, endpoint: str | None = None) -> dict[str, str]:
    """The client's OpenTelemetry settings for the org's collector; empty when no collector is configured."""
    collector = foundation.telemetry["collector"]
    endpoint = endpoint or collector.get("endpoint") or ""
    if not endpoint:
        return {}
    signals = collector["signals"]
    intervals = collector["export_interval_seconds"]
    env = {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_LOGS_EXPORTER": "otlp" if "logs" in signals else "none",
        "OTEL_METRICS_EXPORTER": "otlp" if "metrics" in signals else "none",
        "OTEL_EXPORTER_OTLP_PROTOCOL": collector["protocol"],
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_LOGS_EXPORT_INTERVAL": str(intervals["logs"] * 1000),
        "OTEL_METRIC_EXPORT_INTERVAL": str(intervals["metrics"] * 1000),
    }
    content = foundation.telemetry.get("content") or {}
    for key, variable in OTEL_CONTENT_VARIABLES.items():
        env[variable] = "1" if content.get(key) else "0"
    return env


def managed_settings(foundation: Foundation, *, mcp_allowlist: bool = True, marketplace_url: str | None = None,
                     otel_endpoint: str | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "$schema": render.SETTINGS_SCHEMA_URL,
        "requiredMinimumVersion": foundation.client["minimum_version"],
        "permissions": {
            "deny": render.foundation_deny_rules(foundation),
            "ask": render.foundation_ask_rules(foundation),
            "disableBypassPermissionsMode": "disable",
        },
        "disableAutoMode": "disable",
        "allowManagedPermissionRulesOnly": False,
        "allowManagedHooksOnly": False,
        "sandbox": render.sandbox_floor(foundation),
        "pluginConfigs": {AGENTS_MD_PLUGIN: {"options": {"instructionFiles": INSTRUCTION_FILES_CLAUDE_MD_ONLY}}},
    }
    if mcp_allowlist:
        settings["allowedMcpServers"] = mcp_server_matchers(foundation)
        settings["allowManagedMcpServersOnly"] = True
    if marketplace_url:
        source = {"source": "git", "url": marketplace_url}
        settings["extraKnownMarketplaces"] = {MARKETPLACE_NAME: {"source": source}}
        settings["strictKnownMarketplaces"] = [source]
    env = telemetry_env(foundation, otel_endpoint)
    if env:
        settings["env"] = env
    return settings


def write(out: Path, foundation: Foundation, *, drop_in: bool = False, **options: Any) -> Path:
    """Write the floor as the single managed-settings.json, or as the foundation's drop-in under
    managed-settings.d/ (beside IT's own managed-settings.json and drop-ins)."""
    path = out / (DROP_IN_FILE if drop_in else MANAGED_SETTINGS_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render.dumps(managed_settings(foundation, **options)), encoding="utf-8")
    return path


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("managed-settings", help="render device-level managed settings for IT")
    parser.add_argument("--out", type=Path, required=True, help="folder to write managed-settings.json into (deployed as /etc/claude-code/)")
    parser.add_argument("--drop-in", action="store_true", help=f"write {DROP_IN_FILE} instead, beside the managed-settings.json IT keeps")
    parser.add_argument("--no-mcp-allowlist", action="store_true", help="do not restrict MCP servers to the registry's vetted ones")
    parser.add_argument("--marketplace-url", metavar="GIT_URL", help="offer the registry's plugin marketplace (this repository's git URL) on every device")
    parser.add_argument("--agent", choices=("claude-code", "codex"), default="claude-code",
                        help="whose managed floor: Claude Code's managed-settings.json (default) or Codex's requirements.toml")
    parser.add_argument("--otel-endpoint", metavar="URL", help="export every session's OpenTelemetry to the org's collector (overrides foundation/telemetry.yml's endpoint)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        foundation = load_foundation(Path(args.root) / "foundation")
    except FoundationError as error:
        print(f"managed-settings: cannot read the registry: {error}", file=sys.stderr)
        return 1
    if getattr(args, "agent", "claude-code") == "codex":
        return _write_codex(args, foundation)
    if args.otel_endpoint is not None and otlp_endpoint_problem(args.otel_endpoint):
        print(f"managed-settings: --otel-endpoint: {otlp_endpoint_problem(args.otel_endpoint)}. "
              "Fix: give the collector's OTLP base URL, e.g. --otel-endpoint https://otel.example.com:4318", file=sys.stderr)
        return 2
    path = write(args.out, foundation, drop_in=args.drop_in, mcp_allowlist=not args.no_mcp_allowlist, marketplace_url=args.marketplace_url,
                 otel_endpoint=args.otel_endpoint)
    print(f"managed-settings: wrote {path}")
    print("Deploy it (root-owned, read-only for users) to:")
    relative = DROP_IN_FILE if args.drop_in else MANAGED_SETTINGS_FILE
    for platform, folder in DEPLOY_FOLDERS.items():
        print(f"  {platform}: {folder}{relative.replace('/', folder[-1])}")
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
