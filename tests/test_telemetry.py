"""Telemetry: every team's sessions are labelled with the team, and the org's collector (foundation/telemetry.yml)
goes into the managed floor. Proven with the real client offline: it exports OTLP (http/json) to a loopback
receiver, and a denied tool call arrives as a `tool_decision` event carrying the team's label."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from agent_foundation import managed_settings as ms
from agent_foundation import render
from agent_foundation.foundation import FoundationError, load_foundation
from tests.claude_client.managed import namespaced_client
from tests.claude_client.mock_messages_api import ToolCall
from tests.otlp_receiver import OTLPReceiver
from tests.registry_repo import cli
from tests.rendering import TEMPLATE_ROOT, canonical_answers

FOUNDATION = load_foundation(TEMPLATE_ROOT / "foundation")


def test_rendered_settings_label_the_teams_telemetry(rendered_team: Path) -> None:
    settings = json.loads((rendered_team / ".claude/settings.json").read_text())
    answers = canonical_answers()
    labels = dict(pair.split("=", 1) for pair in settings["env"]["OTEL_RESOURCE_ATTRIBUTES"].split(","))
    assert labels["team.id"] == answers["team_slug"]
    assert labels["agent_foundation.profile"] == answers["permission_profile"]
    manifest = json.loads((rendered_team / ".claude/foundation/manifest.json").read_text())
    assert labels["agent_foundation.version"] == manifest["template_version"]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in settings["env"], "the collector belongs to the managed floor"


def test_resource_attribute_values_are_percent_encoded() -> None:
    value = render.telemetry_resource_attributes({"team_slug": "payments", "permission_profile": "standard"}, "v1.0,x=y")
    assert value == "team.id=payments,agent_foundation.profile=standard,agent_foundation.version=v1.0%2Cx%3Dy"


def test_a_team_cannot_relabel_its_sessions() -> None:
    answers = {**canonical_answers(), "extra_settings": {"env": {"OTEL_RESOURCE_ATTRIBUTES": "team.id=someone-else", "LOG": "1"}}}
    env = render.settings(FOUNDATION, answers, "v0.1.0")["env"]
    assert env["OTEL_RESOURCE_ATTRIBUTES"].startswith(f"team.id={answers['team_slug']},")
    assert env["LOG"] == "1"


def test_managed_floor_exports_to_the_collector_with_nothing_sensitive(tmp_path: Path) -> None:
    result = cli(TEMPLATE_ROOT, "managed-settings", "--out", str(tmp_path), "--otel-endpoint", "https://otel.example.com:4318")
    assert result.returncode == 0, result.stderr
    env = json.loads((tmp_path / "managed-settings.json").read_text())["env"]
    assert env["CLAUDE_CODE_ENABLE_TELEMETRY"] == "1"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "https://otel.example.com:4318"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == FOUNDATION.telemetry["collector"]["protocol"]
    assert env["OTEL_LOGS_EXPORTER"] == env["OTEL_METRICS_EXPORTER"] == "otlp"
    content_flags = {key: value for key, value in env.items() if key.startswith("OTEL_LOG_")}
    assert set(content_flags) == set(ms.OTEL_CONTENT_VARIABLES.values())
    assert set(content_flags.values()) == {"0"}, "prompts, tool details and responses stay on the device by default"


def test_no_collector_no_export(tmp_path: Path) -> None:
    assert FOUNDATION.telemetry["collector"]["endpoint"] == ""
    assert "env" not in ms.managed_settings(FOUNDATION)


def test_a_bad_endpoint_flag_names_the_flag_and_writes_nothing(tmp_path: Path) -> None:
    result = cli(TEMPLATE_ROOT, "managed-settings", "--out", str(tmp_path / "out"), "--otel-endpoint", "otel.example.com")
    assert result.returncode == 2
    assert "--otel-endpoint: 'otel.example.com' is not an http(s) URL" in result.stderr and "Fix:" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.fixture
def foundation_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "foundation"
    shutil.copytree(TEMPLATE_ROOT / "foundation", copy)
    return copy


@pytest.mark.parametrize("edit, field, message", [
    (lambda d: d["collector"].update(protocol="udp"), "collector.protocol", "'udp' is not one of grpc, http/json, http/protobuf"),
    (lambda d: d["collector"].update(endpoint="otel:4318"), "collector.endpoint", "'otel:4318' is not an http(s) URL"),
    (lambda d: d["collector"].update(signals=["traces"]), "collector.signals", "is not a list of logs, metrics"),
    (lambda d: d["collector"]["export_interval_seconds"].update(logs="5s"), "collector.export_interval_seconds.logs", "is not a whole number"),
    (lambda d: d["content"].update(user_prompts="yes"), "content.user_prompts", "'yes' is not true or false"),
    (lambda d: d["content"].update(screenshots=False), "content.screenshots", "is not a kind of content"),
    (lambda d: d.pop("collector"), "collector", "is missing"),
])
def test_broken_telemetry_data_names_file_field_and_fix(foundation_copy: Path, edit, field: str, message: str) -> None:
    path = foundation_copy / "telemetry.yml"
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(FoundationError) as error:
        load_foundation(foundation_copy)
    found = [p for p in error.value.problems if p.field == field]
    assert found and message in found[0].message and found[0].file.endswith("telemetry.yml") and found[0].fix, error.value


# ---------------------------------------------------------------- the real client


@pytest.mark.client
@pytest.mark.parametrize("managed", [False, True], ids=["control-without-floor", "with-managed-floor"])
def test_a_denied_call_reaches_the_collector_labelled_with_the_team(claude_bin, rendered_team: Path, run_claude,
                                                                     tmp_path: Path, managed: bool) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(rendered_team, repo, symlinks=True)
    with OTLPReceiver() as receiver:
        out = tmp_path / "managed"
        result = cli(TEMPLATE_ROOT, "managed-settings", "--out", str(out), "--otel-endpoint", receiver.endpoint)
        assert result.returncode == 0, result.stderr
        wrapper = namespaced_client(claude_bin, tmp_path / "ns", out / "managed-settings.json" if managed else None)
        run = run_claude(repo, [ToolCall("Bash", {"command": "git push --force origin main", "description": "push"})],
                         trusted=True, claude_bin=wrapper)
        assert run.result(0).is_error, run.describe()
        decisions = receiver.wait_for("tool_decision", timeout=10 if managed else 2)
    if not managed:
        assert receiver.paths() == [], "without the managed floor nothing is exported: the floor is what turns it on"
        return
    denied = [d for d in decisions if d["attributes"].get("tool_use_id") == run.result(0).tool_use_id]
    assert denied, f"no tool_decision for the denied call; events: {[e['event'] for e in receiver.events()]}"
    event = denied[0]
    assert event["attributes"]["decision"] == "reject" and event["attributes"]["tool_name"] == "Bash"
    slug = canonical_answers()["team_slug"]
    assert event["resource"]["team.id"] == slug and event["attributes"]["team.id"] == slug
    assert event["resource"]["agent_foundation.profile"] == canonical_answers()["permission_profile"]
    assert "git push" not in json.dumps(receiver.events()), "tool details are off by default: no command leaves the device"
