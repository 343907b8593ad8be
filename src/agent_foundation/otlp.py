"""Read OpenTelemetry log records in the OTLP JSON encoding (what Claude Code sends with `http/json`, and what a
collector's file exporter writes, one export request per line) as flat events.

An OTLP export nests records under resource and scope, and wraps every value in its type (`{"stringValue":
"payments"}`); `events()` turns each record into {"event", "attributes", "resource"} with plain values, so the
tune command and the tests read `tool_decision` events without knowing the wire format.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator


def plain_value(value: dict[str, Any]) -> Any:
    """An OTLP AnyValue as a Python value (intValue arrives as a string in OTLP JSON)."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [plain_value(v) for v in value["arrayValue"].get("values") or []]
    if "kvlistValue" in value:
        return attributes(value["kvlistValue"].get("values") or [])
    return None


def attributes(pairs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {pair["key"]: plain_value(pair.get("value") or {}) for pair in pairs}


def events(export: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every log record of one OTLP logs export request, flattened."""
    for resource_logs in export.get("resourceLogs") or []:
        resource = attributes((resource_logs.get("resource") or {}).get("attributes") or [])
        for scope_logs in resource_logs.get("scopeLogs") or []:
            for record in scope_logs.get("logRecords") or []:
                attrs = attributes(record.get("attributes") or [])
                body = plain_value(record.get("body") or {})
                yield {"event": attrs.get("event.name") or body, "attributes": attrs, "resource": resource}


def read_export_file(path: Path) -> Iterator[dict[str, Any]]:
    """Events from a file of OTLP JSON exports: one export per line (a collector's file exporter) or one
    export in the whole file. Raises ValueError naming the line that is not an OTLP logs export."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        documents = [json.loads(text)]
    except ValueError:
        documents = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                documents.append(json.loads(line))
            except ValueError as error:
                raise ValueError(f"{path}: line {number} is not JSON ({error})") from None
    for document in documents:
        if not isinstance(document, dict) or "resourceLogs" not in document:
            raise ValueError(f"{path}: not an OTLP logs export (no resourceLogs)")
        yield from events(document)
