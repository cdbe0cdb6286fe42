"""Export the wire protocol as one JSON Schema document, and the REST API as its OpenAPI
document: the inputs of the console's TypeScript generators.

``python -m interlock.schema`` prints the protocol schema; ``--openapi PATH`` writes the
OpenAPI document; ``--docs PATH`` refreshes the message table of docs/protocol.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import protocol

#: Every message, in the order of the protocol's unions: server -> client, then client.
SERVER_MODELS = protocol.members(protocol.ServerSessionMessage) + protocol.members(
    protocol.ServerConnectionMessage
)
CLIENT_MODELS = protocol.members(protocol.ClientMessage)
MESSAGE_MODELS: tuple[type[BaseModel], ...] = SERVER_MODELS + CLIENT_MODELS


def protocol_schema() -> dict[str, Any]:
    """One JSON Schema whose ``$defs`` hold every message, plus the two unions."""
    _, schema = models_json_schema(
        [(m, "serialization") for m in MESSAGE_MODELS], title="InterlockProtocol"
    )
    defs = schema.setdefault("$defs", {})
    server = [m.__name__ for m in SERVER_MODELS]
    client = [m.__name__ for m in CLIENT_MODELS]
    defs["ServerMessage"] = {"oneOf": [{"$ref": f"#/$defs/{n}"} for n in server]}
    defs["ClientMessage"] = {"oneOf": [{"$ref": f"#/$defs/{n}"} for n in client]}
    return schema


BEGIN = "<!-- BEGIN GENERATED MESSAGE TABLE (python -m interlock.schema --docs) -->"
END = "<!-- END GENERATED MESSAGE TABLE -->"


def _fields(model: type[BaseModel]) -> str:
    names = [
        (info.serialization_alias or name)
        for name, info in model.model_fields.items()
        if name not in ("type", "seq", "ts")
    ]
    return ", ".join(f"`{n}`" for n in names) or "—"


def message_table() -> str:
    """The Markdown table of every message, as docs/protocol.md embeds it."""
    rows = ["| direction | type | fields | seq | meaning |", "|---|---|---|---|---|"]
    for model in MESSAGE_MODELS:
        type_ = protocol.type_of(model)
        if model in CLIENT_MODELS:
            direction, seq = "client → server", "—"
        else:
            direction = "server → client"
            seq = "yes" if issubclass(model, protocol.SessionMessage) else "no"
        doc = (model.__doc__ or "").strip().split("\n")[0].replace("``", "`")
        rows.append(f"| {direction} | `{type_}` | {_fields(model)} | {seq} | {doc} |")
    return "\n".join(rows)


def render_docs(text: str) -> str:
    """``text`` with the generated table between the markers replaced by the current one."""
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{message_table()}\n{END}{tail}"


def openapi_schema() -> dict[str, Any]:
    """The REST API's OpenAPI document, as ``GET /openapi.json`` serves it."""
    from .app import create_app
    from .store import MemoryStore

    # Routes and models do not depend on settings or storage; a memory store opens nothing.
    return create_app(store=MemoryStore()).openapi()


def dump(document: dict[str, Any]) -> str:
    """The committed text form of a generated JSON document (stable key order)."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--docs":
        path = Path(sys.argv[2])
        path.write_text(render_docs(path.read_text()))
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--openapi":
        Path(sys.argv[2]).write_text(dump(openapi_schema()))
        return
    json.dump(protocol_schema(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
