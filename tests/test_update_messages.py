"""The update's after stage names each problem's file once."""
from types import SimpleNamespace

from agent_foundation import migrate


def test_a_finding_is_named_with_its_file_once() -> None:
    plain = SimpleNamespace(file=".claude/settings.json", message="deny rule missing")
    prefixed = SimpleNamespace(file=".cursor/hooks.json", message=".cursor/hooks.json: the guard hook is not fail-closed")
    assert migrate.located(plain) == ".claude/settings.json: deny rule missing"
    assert migrate.located(prefixed) == ".cursor/hooks.json: the guard hook is not fail-closed"
