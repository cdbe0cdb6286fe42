"""The protocol is defined once: generated copies must match the models."""

from __future__ import annotations

import json
from pathlib import Path

from interlock.schema import message_table, protocol_schema, render_docs

ROOT = Path(__file__).resolve().parents[1]


def test_committed_json_schema_matches_the_models() -> None:
    committed = json.loads((ROOT / "frontend/src/lib/protocol.schema.json").read_text())
    assert committed == protocol_schema(), "run `make types` and commit the result"


def test_docs_message_table_matches_the_models() -> None:
    text = (ROOT / "docs/protocol.md").read_text()
    assert render_docs(text) == text, "run `make types` and commit the result"
    for type_ in ("request_confirmation", "request_resolved", "state_replay_start", "ping"):
        assert f"`{type_}`" in message_table()
