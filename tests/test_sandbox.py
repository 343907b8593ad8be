"""The OS sandbox in every rendered profile and in the managed floor, derived from foundation/ (the real
client's enforcement is proven in test_sandbox_client.py)."""

from __future__ import annotations

import pytest

from agent_foundation import render
from agent_foundation.foundation import load_foundation
from tests.rendering import TEMPLATE_ROOT, canonical_answers

FOUNDATION = load_foundation(TEMPLATE_ROOT / "foundation")
SANDBOX_DATA = FOUNDATION.client["sandbox"]


def answers(**changes: object) -> dict:
    return {**canonical_answers(), **changes}


@pytest.mark.parametrize("profile", list(FOUNDATION.profiles))
def test_every_profile_is_sandboxed_fail_closed_with_no_escape(profile):
    sandbox = render.settings(FOUNDATION, answers(permission_profile=profile), "1.0.0")["sandbox"]
    assert sandbox["enabled"] is True
    assert sandbox["failIfUnavailable"] is SANDBOX_DATA["fail_if_unavailable"] is True
    assert sandbox["allowUnsandboxedCommands"] is False
    assert sandbox["autoAllowBashIfSandboxed"] is False  # a floor, never a grant: the profile's rules still decide
    assert set(FOUNDATION.profiles[profile].get("network") or []) <= set(sandbox["network"]["allowedDomains"])


def test_secrets_are_unreadable_and_foundation_files_unwritable():
    sandbox = render.settings(FOUNDATION, answers(), "1.0.0")["sandbox"]
    deny_read = sandbox["filesystem"]["denyRead"]
    for home_secret in ("~/.ssh", "~/.aws", "~/.config/gcloud", "~/.azure", "~/.kube/config", "~/.git-credentials"):
        assert home_secret in deny_read
    assert {".env", "**/.env", "**/*.pem"} <= set(deny_read)
    assert not any(path.endswith("/**") for path in deny_read)  # a folder is hidden whole
    assert ".env.example" not in deny_read and ".env.*" not in deny_read  # look-alikes stay readable
    assert sandbox["filesystem"]["denyWrite"] == [p.removesuffix("/**") for p in FOUNDATION.policy["protected"]["paths"]]


def test_network_is_the_orgs_hosts_the_stacks_registries_the_profiles_and_the_teams():
    rendered = render.settings(FOUNDATION, answers(permission_profile="elevated", stacks=["node", "go"],
                                                    extra_network_hosts=["artifacts.internal.example.com"]), "1.0.0")
    expected = [*SANDBOX_DATA["network"], *FOUNDATION.stacks["node"]["network"], *FOUNDATION.stacks["go"]["network"],
                *FOUNDATION.profiles["elevated"]["network"], "artifacts.internal.example.com"]
    assert rendered["sandbox"]["network"]["allowedDomains"] == expected
    assert rendered["sandbox"]["filesystem"]["allowWrite"] == [*FOUNDATION.stacks["node"]["caches"], *FOUNDATION.stacks["go"]["caches"]]
    python_only = render.settings(FOUNDATION, answers(stacks=["python"]), "1.0.0")["sandbox"]
    assert not set(FOUNDATION.stacks["node"]["network"]) & set(python_only["network"]["allowedDomains"])


def test_unsandboxed_commands_are_listed_and_the_risky_ones_always_ask():
    rendered = render.settings(FOUNDATION, answers(stacks=["docker"]), "1.0.0")
    entries = SANDBOX_DATA["unsandboxed_commands"]
    assert rendered["sandbox"]["excludedCommands"] == [f"{e['command']}:*" for e in entries]
    for entry in entries:
        assert (f"Bash({entry['command']}:*)" in rendered["permissions"]["ask"]) is entry["ask"]
    assert "Bash(docker build:*)" in rendered["permissions"]["allow"]  # the stack's rule stays; ask wins over it


@pytest.mark.parametrize(("host", "accepted"), [
    ("artifacts.internal.example.com", True), ("*.api.example.com", True), ("127.0.0.1", True),
    ("*", False), ("*.com", False), ("localhost", False), ("https://x.example.com", False),
    ("x.example.com:8443", False), ("x.example.com/path", False), ("X.Example.com", False), ("", False),
])
def test_extra_network_hosts_are_validated_naming_the_field_and_the_fix(host, accepted):
    errors = render.extra_network_host_errors([host])
    assert (errors == []) is accepted, errors
    if not accepted:
        assert errors[0].startswith("write the host only, e.g.")  # the fix first: Copier's prefix names the field


def test_the_render_records_the_minimum_client_version():
    version = FOUNDATION.client["minimum_version"]
    assert render.policy(FOUNDATION, answers(), "1.0.0")["client"] == {"minimum_version": version}
    assert render.manifest(FOUNDATION, answers(), "1.0.0", TEMPLATE_ROOT / "template")["client_minimum_version"] == version
    package = (TEMPLATE_ROOT / "package.json").read_text()
    assert f'"@anthropic-ai/claude-code": "{version}"' in package  # the tests run on exactly that client


def test_the_managed_floor_carries_every_host_cache_and_home_secret():
    floor = render.sandbox_floor(FOUNDATION)
    hosts = floor["network"]["allowedDomains"]
    for stack in FOUNDATION.stacks.values():
        assert set(stack.get("network") or []) <= set(hosts)
        assert set(stack.get("caches") or []) <= set(floor["filesystem"].get("allowWrite", []))
    for profile in FOUNDATION.profiles.values():
        assert set(profile.get("network") or []) <= set(hosts)
    assert floor["network"]["strictAllowlist"] is True
    assert floor["allowUnsandboxedCommands"] is False and floor["failIfUnavailable"] is True
    assert floor["filesystem"]["denyRead"] and all(p.startswith("~/") for p in floor["filesystem"]["denyRead"])
