"""docs/operations.md is true: its settings, metrics, webhook headers and verification code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from interlock import webhooks
from interlock.app import create_app
from interlock.flags import default_text, env_name
from interlock.settings import Settings
from interlock.store import MemoryStore
from tests.support.markdown import code_blocks, doc_text, only

DOC = "operations.md"


def table_rows(text: str, header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header line starts with ``header``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_every_variable_named_is_a_setting_with_the_default_stated() -> None:
    text = doc_text(DOC)
    variables = {env_name(name): name for name in Settings.model_fields}
    for named in set(re.findall(r"INTERLOCK_[A-Z_]+", text)):
        assert named in variables, f"{named} is not a setting"
    for setting, default, _ in table_rows(text, "| setting | default |"):
        name = variables[setting.strip("`")]
        stated = default.strip("`")
        assert stated == default_text(Settings.model_fields[name]), setting


def test_the_metrics_table_is_what_a_scrape_shows(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path), store=MemoryStore())
    scraped = app.state.metrics.render().decode()
    families = {
        (name, kind)
        for name, kind in re.findall(r"^# TYPE (interlock_\w+) (\w+)", scraped, re.MULTILINE)
        if not name.endswith("_created")  # prometheus_client's creation times
    }
    documented = {
        (metric.strip("`").split("{")[0], kind)
        for metric, kind, _ in table_rows(doc_text(DOC), "| metric | type |")
    }
    assert documented == families


def test_the_webhook_headers_are_the_ones_sent() -> None:
    rows = table_rows(doc_text(DOC), "| header | value |")
    names = {row[0].strip("`") for row in rows}
    assert {webhooks.SIGNATURE_HEADER, webhooks.EVENT_HEADER, webhooks.DELIVERY_HEADER} <= names


def test_the_verification_example_accepts_a_signed_body_and_nothing_else() -> None:
    namespace: dict[str, Any] = {}
    exec(only(code_blocks(DOC), "def is_from_interlock").body, namespace)
    check = namespace["is_from_interlock"]
    body = b'{"event":"task.started"}'
    signed = webhooks.sign(b"key", body)
    assert check(b"key", body, signed)
    assert not check(b"key", body + b"\n", signed)
    assert not check(b"other", body, signed)
    assert not check(b"key", body, None)
