"""The Copier extension's compile reuse: the same output as plain Jinja, fewer compiles, and Copier's yield tag
still works (it resets its state in preprocess(), which must run on every use)."""

from __future__ import annotations

import importlib.util

import pytest
from copier._jinja_ext import YieldExtension, get_yield_context
from jinja2.sandbox import SandboxedEnvironment

from tests.rendering import TEMPLATE_ROOT


@pytest.fixture(scope="module")
def extension():
    spec = importlib.util.spec_from_file_location("foundation_context_under_test", TEMPLATE_ROOT / "extensions/foundation_context.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def counting_environment(extension, reuse: bool) -> tuple[SandboxedEnvironment, list[str]]:
    environment = SandboxedEnvironment(extensions=[YieldExtension])
    compiled: list[str] = []
    compile_source = environment.compile

    def counted(source, *args, **kwargs):
        compiled.append(source)
        return compile_source(source, *args, **kwargs)

    environment.compile = counted
    if reuse:
        extension._reuse_compiled_strings(environment)
    return environment, compiled


def render_paths(environment: SandboxedEnvironment) -> list[tuple[str, object]]:
    """What Copier does for a template path: render each part, reading the yield context after each."""
    parts = [".claude", "skills", "{% yield skill from skills %}{{ skill }}{% endyield %}", "SKILL.md"]
    seen = []
    for _ in range(3):
        for part in parts:
            rendered = environment.from_string(part).render(skills=["a", "b"])
            seen.append((rendered, get_yield_context(environment).yield_name))
    return seen


def test_reuse_renders_what_plain_jinja_renders_with_fewer_compiles(extension):
    plain, plain_compiles = counting_environment(extension, reuse=False)
    reused, reused_compiles = counting_environment(extension, reuse=True)
    assert render_paths(reused) == render_paths(plain)
    assert len(plain_compiles) == 12
    assert sorted(reused_compiles) == sorted(set(plain_compiles))  # each distinct string compiled once


def test_the_yield_context_is_reset_on_every_use(extension):
    environment, _ = counting_environment(extension, reuse=True)
    seen = render_paths(environment)
    assert [name for _, name in seen] == [None, None, "skill", None] * 3


def test_non_string_sources_still_fail_as_copier_expects(extension):
    """Copier tells a templated value from a plain one by the TypeError from_string raises for non-strings."""
    environment, _ = counting_environment(extension, reuse=True)
    with pytest.raises(TypeError):
        environment.from_string(["not", "a", "string"])
