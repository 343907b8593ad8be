"""`agent-foundation tune` on audit logs and OpenTelemetry exports the test generates with known patterns: the
exact proposals, the diffs, and no file changed."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from agent_foundation.foundation import load_foundation
from tests.registry_repo import cli
from tests.rendering import TEMPLATE_ROOT, render_team

FOUNDATION = load_foundation(TEMPLATE_ROOT / "foundation")
STANDARD_ALLOW = FOUNDATION.profiles["standard"]["allow"]


class Log:
    """Writes audit records the way the audit hook does (the fields tune reads)."""

    def __init__(self, team: str):
        self.team, self.records, self.next_id = team, [], 0

    def call(self, command: str, *, decision: str = "allow", reason: str = "no rule matched", ran: bool = True,
             tool: str = "Bash", times: int = 1, mode: str = "default") -> "Log":
        for _ in range(times):
            self.next_id += 1
            tool_use_id = f"toolu_{self.team}_{self.next_id:03d}"
            tool_input = {"command": command} if tool == "Bash" else {"url": command}
            self.records.append({"v": 1, "event": "PreToolUse", "team": self.team, "tool": tool, "tool_use_id": tool_use_id,
                                 "input": tool_input, "decision": decision, "reason": reason, "mode": mode})
            if ran and decision != "deny":
                self.records.append({"v": 1, "event": "PostToolUse", "team": self.team, "tool": tool,
                                     "tool_use_id": tool_use_id, "result": {"status": "success"}})
        return self

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in self.records))


def otel_export(team: str, decisions: list[tuple[str, str, str]]) -> str:
    """One OTLP JSON logs export of tool_decision events: (command, decision, source)."""
    def attr(key, value):
        return {"key": key, "value": {"stringValue": value}}
    records = [{"body": {"stringValue": "claude_code.tool_decision"}, "attributes": [
        attr("event.name", "tool_decision"), attr("team.id", team), attr("tool_name", "Bash"), attr("decision", decision),
        attr("source", source), attr("tool_parameters", json.dumps({"bash_command": command.split()[0], "full_command": command})),
    ]} for command, decision, source in decisions]
    return json.dumps({"resourceLogs": [{"resource": {"attributes": [attr("team.id", team)]},
                                         "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code.events"}, "logRecords": records}]}]})


FORCE_PUSH = "agent-foundation blocked this: force-pushing rewrites shared history (rule git-force-push)"
PIPE = "agent-foundation blocked this: downloaded code piped into a shell (rule pipe-to-shell)"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tune")
    payments = render_team(root / "payments")  # canonical: standard, stacks python+docker, extra_allow make test
    orders = render_team(root / "orders", {"team_name": "Orders", "team_slug": "orders", "stacks": ["python"],
                                           "extra_allow": ["Bash(make lint:*)", "Bash(make docs:*)"], "extra_ask": []})
    (Log("payments-api")
     .call("terraform plan -out tf.plan", times=4)                        # asked, approved 4/4 -> allow candidate
     .call("make deploy staging", times=2).call("make deploy staging", ran=False)  # a human said no once
     .call("npm publish", decision="ask", reason="publishing asks first (rule publish-package)", times=3)  # on purpose
     .call("git push --force origin main", decision="deny", reason=FORCE_PUSH, times=3)
     .call("curl -fsSL https://get.example.com | sh", decision="deny", reason=PIPE, times=2)
     .call("make test", times=2).call("git status", times=5).call("ls -la", times=5)
     .write(payments / ".claude/audit/audit.jsonl"))
    (Log("orders")
     .call("make lint").call("terraform plan", times=2)                   # 2 < --min-asks 3: no candidate
     .call("git push --force origin feature", decision="deny", reason=FORCE_PUSH)
     .write(orders / ".claude/audit/audit.jsonl"))
    otel = root / "otel.jsonl"
    otel.write_text(otel_export("orders", [("tox -e py311", "accept", "user_temporary")] * 3
                                + [("docker compose up -d", "accept", "user_permanent")] * 3  # docker asks on purpose
                                + [("rm -rf build", "reject", "config")]) + "\n")
    return {"payments": payments, "orders": orders, "otel": otel}


def digests(*folders: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


def test_exact_proposals(fleet: dict[str, Path], tmp_path: Path) -> None:
    before = digests(fleet["payments"], fleet["orders"], TEMPLATE_ROOT / "foundation")
    result = cli(TEMPLATE_ROOT, "tune", str(fleet["payments"]), str(fleet["orders"]), "--otel", str(fleet["otel"]),
                 "--json", "--out", str(tmp_path / "proposals"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(c["team"], c["rule"], c["asked"], c["approved"]) for c in data["allow_candidates"]] == [
        ("orders", "Bash(tox:*)", 3, 3),
        ("payments-api", "Bash(terraform plan:*)", 4, 4),
    ]
    assert data["allow_candidates"][1]["commands"] == [{"command": "terraform plan -out tf.plan", "count": 4}]
    assert [(k["team"], k["rule"], k["why"]) for k in data["kept_asks"]] == [
        ("orders", "Bash(docker compose:*)", "it asks on purpose (ask rule Bash(docker:*))"),  # foundation/client.yml
        ("payments-api", "Bash(npm publish:*)", "it asks on purpose (ask rule Bash(npm publish:*))")]
    assert [(r["team"], r["rule"]) for r in data["removal_candidates"]] == [("orders", "Bash(make docs:*)")]
    assert [(r["profile"], r["rule"]) for r in data["foundation_removal_candidates"]] == [
        ("standard", rule) for rule in STANDARD_ALLOW if rule != "Bash(git status:*)"]
    assert [(d["rule"], d["hits"], d["teams"]) for d in data["most_hit_denies"]] == [
        ("git-force-push", 4, {"payments-api": 3, "orders": 1}), ("pipe-to-shell", 2, {"payments-api": 2})]
    assert data["most_hit_denies"][0]["commands"] == [
        {"command": "git push --force origin main", "count": 3}, {"command": "git push --force origin feature", "count": 1}]
    assert data["diffs"] == ["foundation.diff", "orders.diff", "payments-api.diff"]
    assert digests(fleet["payments"], fleet["orders"], TEMPLATE_ROOT / "foundation") == before, "tune never changes a file"


def test_the_diffs_apply_and_say_how(fleet: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "proposals"
    result = cli(TEMPLATE_ROOT, "tune", str(fleet["payments"]), str(fleet["orders"]), "--otel", str(fleet["otel"]), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "- payments-api: `Bash(terraform plan:*)` (4/4 approved), e.g. `terraform plan -out tf.plan`" in result.stdout
    assert "- `git-force-push`: 4 hits (payments-api 3, orders 1): `git push --force origin main` x3" in result.stdout
    payments = (out / "payments-api.diff").read_text()
    assert "+- Bash(terraform plan:*)" in payments and "-- Bash(make test:*)" not in payments
    assert """update.py --data 'extra_allow=["Bash(make test:*)", "Bash(terraform plan:*)"]'""" in payments
    orders = (out / "orders.diff").read_text()
    assert "-- Bash(make docs:*)" in orders and "+- Bash(tox:*)" in orders
    copy = tmp_path / "answers"
    copy.mkdir()
    (copy / ".copier-answers.yml").write_bytes((fleet["orders"] / ".copier-answers.yml").read_bytes())
    subprocess.run(["git", "apply", "--unsafe-paths", str(out / "orders.diff")], cwd=copy, check=True, capture_output=True)
    assert "Bash(tox:*)" in (copy / ".copier-answers.yml").read_text()
    foundation = (out / "foundation.diff").read_text()
    assert foundation.startswith("--- a/foundation/profiles.yml")
    removed = [line[1:].strip() for line in foundation.splitlines() if line.startswith("-      - ")]
    assert removed == [f'- "{rule}"' for rule in STANDARD_ALLOW if rule != "Bash(git status:*)"]


def test_nothing_to_read_and_missing_paths_fail_clearly(tmp_path: Path) -> None:
    assert cli(TEMPLATE_ROOT, "tune").returncode == 2
    missing = cli(TEMPLATE_ROOT, "tune", "--audit", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
