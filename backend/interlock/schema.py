"""Export the wire protocol as one JSON Schema document (input of the TypeScript generator).

Run ``python -m interlock.schema`` to print it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import protocol

MESSAGE_MODELS: tuple[type[BaseModel], ...] = (
    protocol.Stream,
    protocol.Progress,
    protocol.Status,
    protocol.RequestConfirmation,
    protocol.RequestUserInput,
    protocol.RequestResolved,
    protocol.AttemptFailed,
    protocol.TaskCompleted,
    protocol.TaskFailed,
    protocol.TaskCancelled,
    protocol.TaskInterrupted,
    protocol.StateReplayStart,
    protocol.StateReplayComplete,
    protocol.Error,
    protocol.Pong,
    protocol.Confirm,
    protocol.UserInput,
    protocol.Cancel,
    protocol.Ping,
)


def protocol_schema() -> dict[str, Any]:
    """One JSON Schema whose ``$defs`` hold every message, plus the two unions."""
    _, schema = models_json_schema(
        [(m, "serialization") for m in MESSAGE_MODELS], title="InterlockProtocol"
    )
    defs = schema.setdefault("$defs", {})
    server = [m.__name__ for m in MESSAGE_MODELS[:15]]
    client = [m.__name__ for m in MESSAGE_MODELS[15:]]
    defs["ServerMessage"] = {"oneOf": [{"$ref": f"#/$defs/{n}"} for n in server]}
    defs["ClientMessage"] = {"oneOf": [{"$ref": f"#/$defs/{n}"} for n in client]}
    return schema


def main() -> None:
    json.dump(protocol_schema(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
