"""Settings: defaults and INTERLOCK_* environment twins (flags: tests/test_cli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from interlock.settings import Settings


def test_defaults() -> None:
    s = Settings()
    assert (s.host, s.port, s.max_concurrent, s.history_size) == ("127.0.0.1", 8000, 1, 100)
    assert s.retention_days == 30 and s.controller == "simulated"
    assert s.stop_on_disconnect is False and s.allowed_origins == []
    assert s.database_path == Path("data/interlock.sqlite3")


def test_environment_twins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INTERLOCK_PORT", "9123")
    monkeypatch.setenv("INTERLOCK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("INTERLOCK_MAX_CONCURRENT", "3")
    monkeypatch.setenv("INTERLOCK_HISTORY_SIZE", "250")
    monkeypatch.setenv("INTERLOCK_ALLOWED_ORIGINS", "http://a.example, http://b.example")
    monkeypatch.setenv("INTERLOCK_STOP_ON_DISCONNECT", "true")
    monkeypatch.setenv("INTERLOCK_TASK_MODULES", "mylab.tasks")
    monkeypatch.setenv("INTERLOCK_DURABLE_WRITES", "1")
    s = Settings()
    assert s.port == 9123 and s.data_dir == tmp_path and s.max_concurrent == 3
    assert s.history_size == 250 and s.stop_on_disconnect is True
    assert s.allowed_origins == ["http://a.example", "http://b.example"]
    assert s.task_modules == ["mylab.tasks"] and s.durable_writes is True


def test_bad_setting_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERLOCK_MAX_CONCURRENT", "zero")
    with pytest.raises(ValueError, match="max_concurrent"):
        Settings()
