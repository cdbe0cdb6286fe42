"""docs/client.md works as written: its example drives interactive_demo to completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.markdown import code_blocks, doc_text, only
from tests.support.server import LiveServer


def test_the_example_drives_interactive_demo_to_completion(
    server: LiveServer, tmp_path: Path
) -> None:
    example = only(code_blocks("client.md"), 'client.start("interactive_demo"')
    assert example.lang == "python"
    script = tmp_path / "example.py"
    script.write_text(example.body, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, "INTERLOCK_URL": server.url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line for line in lines if line.startswith("stream:")] == [
        f"stream: Processing email step {i}/3..." for i in (1, 2, 3)
    ]
    assert "rejected: ['to_address']" in lines
    assert sum(line.startswith("asked:") for line in lines) == 2
    assert lines[-1] == "result: {'sent': True, 'attempts': 2}"
    assert "`result: {'sent': True, 'attempts': 2}`" in doc_text("client.md")


def test_the_command_table_lists_every_client_command() -> None:
    from interlock.cli import build_parser

    text = doc_text("client.md")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in ("tasks", "answer", "watch", "logs", "attach"):
        assert name in sub.choices  # type: ignore[operator]
        assert f"`interlock {name} " in text
