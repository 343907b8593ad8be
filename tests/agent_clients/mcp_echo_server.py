"""A minimal MCP server over stdio (newline-delimited JSON-RPC) with one tool, `foundation_echo`: enough for a
client to list it, so a test can see that the MCP configuration the foundation rendered was loaded."""

import json
import sys

TOOL = {"name": "foundation_echo", "description": "Echo the text back (agent-foundation test server).",
        "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}


def reply(request_id, result):
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        continue
    method, request_id = message.get("method"), message.get("id")
    if request_id is None:
        continue  # a notification
    if method == "initialize":
        reply(request_id, {"protocolVersion": message.get("params", {}).get("protocolVersion", "2025-06-18"),
                           "capabilities": {"tools": {}}, "serverInfo": {"name": "foundation-echo", "version": "1.0.0"}})
    elif method == "tools/list":
        reply(request_id, {"tools": [TOOL]})
    elif method == "tools/call":
        text = (message.get("params", {}).get("arguments") or {}).get("text", "")
        reply(request_id, {"content": [{"type": "text", "text": text}]})
    else:
        reply(request_id, {})
