"""`interlock serve`: every setting is a flag generated from Settings; flag > env > default."""

from __future__ import annotations

import argparse
import enum
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from interlock.cli import build_parser
from interlock.flags import (
    default_text,
    env_name,
    flag_name,
    render_docs,
    settings_from,
    settings_table,
)
from interlock.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
#: Lists whose entries are checked: a value each entry of which is valid.
LIST_EXAMPLES = {"allowed_origins": "http://a.example, https://b.example:8443"}
#: Settings whose text must have a shape: the words and the value they give (None: a path
#: of that name under tmp_path).
VALUE_EXAMPLES: dict[str, tuple[str, Any]] = {
    "controller_options": ('{"seed": 3}', '{"seed": 3}'),
    "public_url": ("https://lab.example.org/", "https://lab.example.org"),
    "webhook_url": ("http://hooks.example/in", "http://hooks.example/in"),
    "webhook_secret": ("s3cret", SecretStr("s3cret")),
    "notify_urls": ("ntfy://lab-alerts", "ntfy://lab-alerts"),
}


def _comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",")]


def parse(*argv: str) -> Settings:
    args = build_parser().parse_args(["serve", *argv])
    parser: argparse.ArgumentParser = args.parser
    return settings_from(args, parser)


def other_value(name: str, info: FieldInfo, tmp_path: Path) -> tuple[list[str], Any]:
    """Command-line words that set ``name`` to a value other than its default, and that value."""
    default = info.get_default(call_default_factory=True)
    annotation = info.annotation
    flag = flag_name(name)
    if name in VALUE_EXAMPLES:
        text, value = VALUE_EXAMPLES[name]
        return [flag, text], value if value is not None else tmp_path / text
    if annotation is bool:
        return [flag if not default else f"--no-{flag[2:]}"], not default
    if get_origin(annotation) is list:
        if name in LIST_EXAMPLES:
            return [flag, LIST_EXAMPLES[name]], _comma_list(LIST_EXAMPLES[name])
        return [flag, "a, b"], ["a", "b"]
    if get_origin(annotation) is Literal:
        choice = next(c for c in get_args(annotation) if c != default)
        return [flag, str(choice)], choice
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        member = next(m for m in annotation if m != default)
        return [flag, str(member.value)], member
    if annotation in (Path, Path | None):
        return [flag, str(tmp_path)], tmp_path
    if annotation is str:
        return [flag, f"{default}-other"], f"{default}-other"
    if annotation == str | None:
        return [flag, "redis://db.example:6379/2"], "redis://db.example:6379/2"
    # Numbers, optional or not: one more than the default keeps within every bound we set.
    number = (default or 1) + 1
    return [flag, str(number)], number


def test_every_setting_is_a_flag_of_serve_with_its_variable_and_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["serve", "--help"])
    assert exit_info.value.code == 0
    flat = " ".join(capsys.readouterr().out.split())
    for name, info in Settings.model_fields.items():
        assert flag_name(name) in flat, name
        assert f"({env_name(name)}; default: {default_text(info)})" in flat, name


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_a_flag_round_trips_into_settings(name: str, tmp_path: Path) -> None:
    argv, expected = other_value(name, Settings.model_fields[name], tmp_path)
    settings = parse(*argv)
    assert getattr(settings, name) == expected
    assert getattr(settings, name) != getattr(Settings(), name)


def test_flag_beats_environment_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERLOCK_PORT", "9123")
    monkeypatch.setenv("INTERLOCK_HISTORY_SIZE", "250")
    settings = parse("--port", "9999", "--data-dir", "/tmp/x")
    assert settings.port == 9999 and settings.data_dir == Path("/tmp/x")
    assert settings.history_size == 250  # no flag: the environment
    assert settings.max_concurrent == 1  # neither: the default


def test_no_flag_turns_off_a_boolean_set_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INTERLOCK_STOP_ON_DISCONNECT", "true")
    assert parse().stop_on_disconnect is True
    assert parse("--no-stop-on-disconnect").stop_on_disconnect is False


def test_lists_are_comma_separated_and_empty_clears_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INTERLOCK_ALLOWED_ORIGINS", "http://env.example")
    assert parse("--allowed-origins", "http://a.example,http://b.example").allowed_origins == [
        "http://a.example",
        "http://b.example",
    ]
    assert parse("--allowed-origins", "").allowed_origins == []


def test_none_clears_an_optional_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERLOCK_TASK_TIMEOUT", "60")
    assert parse().task_timeout == 60
    assert parse("--task-timeout", "none").task_timeout is None
    assert parse("--task-timeout", "2.5").task_timeout == 2.5


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        parse(*argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: interlock serve"), err
    return err


def test_bad_flag_value_is_a_usage_error_quoting_pydantic(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = usage_error(capsys, "--max-concurrent", "0")
    assert "argument --max-concurrent: Input should be greater than or equal to 1 (got '0')" in err
    err = usage_error(capsys, "--port", "eighty")
    assert "argument --port: Input should be a valid integer" in err
    err = usage_error(capsys, "--log-level", "loud")
    assert "argument --log-level: Input should be 'critical', 'error'" in err


def test_every_bad_flag_is_reported_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    err = usage_error(capsys, "--history-size", "5", "--retention-days", "-1")
    assert "argument --history-size:" in err and "argument --retention-days:" in err


def test_bad_environment_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INTERLOCK_HISTORY_SIZE", "3")
    err = usage_error(capsys)
    assert "environment variable INTERLOCK_HISTORY_SIZE: Input should be greater" in err
    # A flag for the same setting replaces the bad variable.
    assert parse("--history-size", "20").history_size == 20


def test_the_real_command_exits_2_on_a_bad_value(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "interlock", "serve", "--ws-queue-size", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2, done
    assert "argument --ws-queue-size: Input should be greater than or equal to 16" in done.stderr
    assert not (tmp_path / "data").exists()  # nothing was started


def test_python_dash_m_shows_serve_flags() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "interlock", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    for flag in ("--host", "--port", "--data-dir", "--history-size", "--no-durable-writes"):
        assert flag in out


def test_every_setting_is_described() -> None:
    missing = [name for name, info in Settings.model_fields.items() if not info.description]
    assert not missing, f"give these settings a description=: {missing}"


def test_readme_settings_table_lists_every_setting() -> None:
    text = (ROOT / "README.md").read_text()
    assert render_docs(text) == text, (
        "run `make types` (python -m interlock.flags --docs README.md)"
    )
    for name in Settings.model_fields:
        assert f"`{flag_name(name)}` / `{env_name(name)}`" in settings_table()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["serve", "--no-worker"], "--no-worker needs Redis (INTERLOCK_REDIS_URL)"),
        (["worker"], "a worker takes its tasks from Redis: set INTERLOCK_REDIS_URL"),
    ],
)
def test_roles_without_redis_are_usage_errors(argv: list[str], says: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "INTERLOCK_REDIS_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "interlock", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2, done
    assert says in done.stderr
    assert not (tmp_path / "data").exists()  # nothing was started


def test_the_worker_takes_every_setting_of_serve() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "interlock", "worker", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    for flag in ("--controller", "--task-types", "--worker-lease", "--redis-url", "--data-dir"):
        assert flag in out


def test_a_worker_for_unknown_task_types_does_not_start(tmp_path: Path) -> None:
    env = {**os.environ, "INTERLOCK_REDIS_URL": "redis://127.0.0.1:1/0"}
    done = subprocess.run(
        [sys.executable, "-m", "interlock", "worker", "--task-types", "nosuch,dummy_short"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1, done
    assert "task types nobody registered: nosuch (known: dummy_short," in done.stderr
