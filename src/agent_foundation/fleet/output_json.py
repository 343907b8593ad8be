"""`--json`: the report as JSON, versioned (schema and schema_version), described by docs/fleet-schema.json."""

from __future__ import annotations

import json
from typing import Any, TextIO


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write(data: dict[str, Any], out: TextIO) -> None:
    out.write(dumps(data))
