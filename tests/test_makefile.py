"""`make run` honours HOST, PORT and DATA_DIR, which default to INTERLOCK_*, then Settings."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from interlock.flags import default_text
from interlock.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# Variables that would leak in from a calling `make test` or from the developer's shell.
LEAKS = ("HOST", "PORT", "DATA_DIR", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")


def serve_words(*overrides: str, **env: str) -> list[str]:
    """The `interlock serve` command `make run` would run (dry run: nothing is started)."""
    clean = {
        k: v for k, v in os.environ.items() if k not in LEAKS and not k.startswith("INTERLOCK_")
    }
    make = shutil.which("make")
    assert make, "GNU make is needed (as for every README command)"
    out = subprocess.run(
        [make, "--dry-run", "--silent", "--no-print-directory", "run", *overrides],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    lines = [line for line in out.splitlines() if "interlock serve" in line]
    assert len(lines) == 1, out
    return shlex.split(lines[0])


def flags(words: list[str]) -> dict[str, str]:
    return {words[i]: words[i + 1] for i in range(len(words) - 1) if words[i].startswith("--")}


def test_make_run_defaults_to_the_settings_defaults() -> None:
    got = flags(serve_words())
    fields = Settings.model_fields
    assert got == {
        "--host": default_text(fields["host"]),
        "--port": default_text(fields["port"]),
        "--data-dir": default_text(fields["data_dir"]),
    }


def test_make_run_takes_the_interlock_variables() -> None:
    got = flags(
        serve_words(
            INTERLOCK_HOST="0.0.0.0", INTERLOCK_PORT="9100", INTERLOCK_DATA_DIR="/srv/il data"
        )
    )
    assert got == {"--host": "0.0.0.0", "--port": "9100", "--data-dir": "/srv/il data"}


@pytest.mark.parametrize("how", ["command line", "environment"])
def test_make_variables_beat_the_interlock_variables(how: str) -> None:
    env = {"INTERLOCK_HOST": "0.0.0.0", "INTERLOCK_PORT": "9100", "INTERLOCK_DATA_DIR": "/srv/a"}
    chosen = {"HOST": "127.0.0.2", "PORT": "9200", "DATA_DIR": "/tmp/b"}
    if how == "command line":
        words = serve_words(*(f"{k}={v}" for k, v in chosen.items()), **env)
    else:
        words = serve_words(**env, **chosen)
    assert flags(words) == {"--host": "127.0.0.2", "--port": "9200", "--data-dir": "/tmp/b"}
