"""Helpers for the fleet tests: a template root with release tags, planted team repositories, a schema validator."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, Callable

from tests.rendering import TEMPLATE_ROOT, git

SCHEMA = json.loads((TEMPLATE_ROOT / "docs" / "fleet-schema.json").read_text(encoding="utf-8"))
RELEASES = ["v0.1.0", "v0.2.0", "v0.3.0"]


def template_root(tmp: Path, tags: list[str] = RELEASES) -> Path:
    """A checkout-alike of this template with release tags: the real foundation/ and template/, tagged history."""
    root = tmp / "template-root"
    root.mkdir()
    for name in ("foundation", "template", "copier.yml"):
        (root / name).symlink_to(TEMPLATE_ROOT / name)
    git(root, "init", "-q", "-b", "main")
    for tag in tags:
        git(root, "commit", "-q", "--allow-empty", "-m", tag)
        git(root, "tag", tag)
    return root


def copy_repo(base: Path, dst: Path, team: str, version: str = "v0.3.0") -> Path:
    """A copy of a rendered repository as another team on another version (no .git), recorded as a real render
    records it: the tag in the answers' _commit, the version without its `v` in the manifest."""
    shutil.copytree(base, dst, ignore=shutil.ignore_patterns(".git"))
    answers = (dst / ".copier-answers.yml").read_text(encoding="utf-8")
    answers = re.sub(r"(?m)^_commit: .*$", f"_commit: {version}", answers)
    answers = re.sub(r"(?m)^team_slug: .*$", f"team_slug: {team}", answers)
    (dst / ".copier-answers.yml").write_text(answers, encoding="utf-8")
    edit_json(dst / ".claude/foundation/manifest.json", lambda m: (m.update(template_version=version.removeprefix("v")), m["team"].update(slug=team)))
    return dst


def edit_json(path: Path, change: Callable[[Any], Any]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def settings_edit(repo: Path, change: Callable[[dict], Any]) -> None:
    edit_json(repo / ".claude/settings.json", change)


def add_skill(repo: Path, name: str, text: str) -> None:
    folder = repo / ".claude/skills" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- a small JSON Schema validator (the subset the schema uses)


def validate(instance: Any, schema: dict[str, Any] = SCHEMA, root: dict[str, Any] | None = None, where: str = "$") -> list[str]:
    root = root or schema
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return validate(instance, root["$defs"][name], root, where)
    errors: list[str] = []
    if "oneOf" in schema:
        results = [validate(instance, s, root, where) for s in schema["oneOf"]]
        matches = sum(1 for r in results if not r)
        if matches != 1:
            errors.append(f"{where}: matches {matches} of the oneOf alternatives: " + " | ".join("; ".join(r) for r in results))
        return errors
    if "const" in schema and instance != schema["const"]:
        errors.append(f"{where}: {instance!r} is not {schema['const']!r}")
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{where}: {instance!r} is not one of {schema['enum']}")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        checks = {
            "null": lambda v: v is None, "boolean": lambda v: isinstance(v, bool), "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            "array": lambda v: isinstance(v, list), "object": lambda v: isinstance(v, dict),
        }
        if not any(checks[t](instance) for t in types):
            return [f"{where}: {type(instance).__name__} is not {types}"]
    if isinstance(instance, (int, float)) and not isinstance(instance, bool):
        if "minimum" in schema and instance < schema["minimum"]:
            errors.append(f"{where}: {instance} < {schema['minimum']}")
        if "maximum" in schema and instance > schema["maximum"]:
            errors.append(f"{where}: {instance} > {schema['maximum']}")
    if isinstance(instance, dict):
        for key in schema.get("required", []):
            if key not in instance:
                errors.append(f"{where}: missing required key {key!r}")
        properties = schema.get("properties", {})
        for key, value in instance.items():
            if key in properties:
                errors += validate(value, properties[key], root, f"{where}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += validate(value, schema["additionalProperties"], root, f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}: unexpected key {key!r}")
    if isinstance(instance, list) and "items" in schema:
        for index, item in enumerate(instance):
            errors += validate(item, schema["items"], root, f"{where}[{index}]")
    return errors
