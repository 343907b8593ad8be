"""Posture findings as SARIF 2.1.0, for GitHub code scanning (standard library only).

    python3 .claude/foundation/check.py --format sarif [--output FILE]

One run per repository checked; each finding becomes a result whose rule is the finding's code, at the file
it names (line 1: a finding is about a whole file). The platform team's fleet report builds the same log for
every team repository (`agent-foundation fleet ... --sarif FILE`), one run each.
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable, Mapping

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "agent-foundation posture check"
LEVELS = {"error": "error", "warning": "warning"}


def _field(finding: Any, name: str) -> str:
    value = finding.get(name) if isinstance(finding, Mapping) else getattr(finding, name, "")
    return str(value or "")


def run(findings: Iterable[Any], *, version: str = "", automation_id: str = "", uri_prefix: str = "") -> dict[str, Any]:
    """One SARIF run of posture findings (check.Finding objects or the same fields as a dict)."""
    results, rules = [], {}
    for finding in findings:
        code, file = _field(finding, "code"), _field(finding, "file")
        message, fix = _field(finding, "message"), _field(finding, "fix")
        level = LEVELS.get(_field(finding, "severity"), "note")
        rules.setdefault(code, {
            "id": code,
            "name": "".join(part.capitalize() for part in code.split("-")),
            "shortDescription": {"text": f"agent-foundation posture: {code}"},
            "defaultConfiguration": {"level": level},
        })
        uri = f"{uri_prefix}{file}" if file else f"{uri_prefix}.claude/settings.json"
        fingerprint = hashlib.sha256(f"{code}\0{uri}\0{message}".encode("utf-8")).hexdigest()
        results.append({
            "ruleId": code,
            "level": level,
            "message": {"text": f"{message} Fix: {fix}" if fix else message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                                                "region": {"startLine": 1}}}],
            "partialFingerprints": {"agentFoundationFinding/v1": fingerprint},
        })
    driver: dict[str, Any] = {"name": TOOL_NAME, "rules": list(rules.values())}
    if version:
        driver["version"] = version
    sarif_run: dict[str, Any] = {"tool": {"driver": driver}, "results": results}
    if automation_id:
        sarif_run["automationDetails"] = {"id": automation_id}
    return sarif_run


def log(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": runs}
