"""Every knob in one place. Each setting has an ``INTERLOCK_`` environment twin."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Server settings; CLI flags override environment variables, which override defaults."""

    model_config = SettingsConfigDict(env_prefix="INTERLOCK_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("./data")
    durable_writes: bool = Field(
        default=False,
        description="fsync every group commit (survives power loss; default survives crashes).",
    )
    max_concurrent: int = Field(default=1, ge=1, description="Tasks running at once.")
    max_queued: int = Field(
        default=100, ge=0, description="Tasks that may wait in the queue; more get 429."
    )
    store_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a request waits for the store before it answers 503.",
    )
    cancel_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds DELETE /tasks/{id} waits for the task to end before answering 504.",
    )
    shutdown_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a graceful shutdown (SIGTERM/SIGINT) may take after the axes "
        "are stopped; then the process exits anyway.",
    )
    history_size: int = Field(default=100, ge=10)
    retention_days: float = Field(default=30, gt=0)
    task_timeout: float | None = Field(
        default=None, gt=0, description="Seconds before any task is failed; None = no limit."
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to open WebSockets; empty = same host only; '*' = any.",
    )
    ws_queue_size: int = Field(default=1024, ge=16)
    ws_max_message_bytes: int = 64 * 1024
    task_modules: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Modules with a register(registry) function that add task types.",
    )
    controller: str = "simulated"
    stop_on_disconnect: bool = False
    stop_on_disconnect_grace: float = Field(default=5.0, ge=0)
    log_level: str = "info"

    @field_validator("allowed_origins", "task_modules", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @property
    def database_path(self) -> Path:
        return self.data_dir / "interlock.sqlite3"
