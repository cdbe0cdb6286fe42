"""Every knob in one place. Each setting has an ``INTERLOCK_`` environment twin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .hosts import ANY_HOST, host_name
from .origins import ANY_ORIGIN, normalize_origin

#: uvicorn's level names (``trace`` is its own, below ``debug``).
LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]
#: ``text``: lines for people; ``json``: one JSON object per line (``interlock.logs``).
LogFormat = Literal["text", "json"]


def _http_url(value: str | None) -> str | None:
    """``value``, if it is an http(s) URL with a host (None for an empty one)."""
    if value is None or not value.strip():
        return None
    url = value.strip()
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest or rest.startswith("/"):
        raise ValueError(f"not an http:// or https:// URL: {value!r}")
    return url


class Settings(BaseSettings):
    """Server settings; CLI flags override environment variables, which override defaults."""

    model_config = SettingsConfigDict(env_prefix="INTERLOCK_", extra="ignore")

    auth: bool = Field(
        default=False,
        description="Require users and tokens (roles viewer/operator/admin); off: anyone who "
        "reaches the port may do anything, so the server listens on loopback only.",
    )
    allow_no_auth: bool = Field(
        default=False,
        description="Accept the risk of listening on a non-loopback address without "
        "authentication.",
    )
    login_hours: float = Field(
        default=12,
        gt=0,
        description="Hours a console sign-in (its session cookie) lasts; then sign in again.",
    )
    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8000, ge=0, le=65535, description="TCP port to listen on.")
    data_dir: Path = Field(
        default=Path("./data"), description="Directory of the SQLite database (created if missing)."
    )
    durable_writes: bool = Field(
        default=False,
        description="fsync every group commit (survives power loss; default survives crashes).",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db: Redis becomes the store and the event bus, shared "
        "by every instance that names it (unset: the SQLite file in data_dir).",
    )
    redis_prefix: str = Field(
        default="interlock:",
        min_length=1,
        description="Prefix of every Redis key this server uses (one per deployment).",
    )
    worker: bool = Field(
        default=True,
        description="Run tasks in this process (--no-worker: serve HTTP and WebSocket only; "
        "with Redis, the workers of the deployment run them).",
    )
    task_types: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="The task types this process runs, comma-separated (empty: every type).",
    )
    worker_lease: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a worker's lease lasts (renewed every third of it); the tasks "
        "of a worker that stops renewing end interrupted (reason 'worker lost').",
    )
    max_concurrent: int = Field(
        default=1, ge=1, description="Tasks running at once (others get 409, or queue)."
    )
    max_queued: int = Field(
        default=100, ge=0, description="Tasks that may wait in the queue; more get 429."
    )
    store_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds any one store call may take before its caller gets "
        "StoreUnavailable (503); SQLite waits half of it for another process's lock.",
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
    history_size: int = Field(
        default=100,
        ge=10,
        description="Messages per session kept in memory and replayed to a connecting tab "
        "(the whole log stays in the store: log_max_messages).",
    )
    log_max_messages: int = Field(
        default=100_000,
        ge=10,
        description="Messages of one session the store keeps (its whole log, read with GET "
        "/tasks/{id}/messages); beyond it the oldest are dropped (never the open request). "
        "At least history_size.",
    )
    finished_cache: int = Field(
        default=256,
        ge=0,
        description="Finished sessions kept in memory for fast replay; older ones nobody "
        "watches are evicted and re-read from the store when asked for.",
    )
    retention_days: float = Field(
        default=30, gt=0, description="Finished tasks older than this many days are pruned."
    )
    task_timeout: float | None = Field(
        default=None, gt=0, description="Seconds before any task is failed; no limit when unset."
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Other origins (scheme://host[:port]) trusted like the server's own: they "
        "may change state, open WebSockets and read with credentials (CORS); '*' lets any "
        "origin read without credentials, never change state.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Names clients use for this server besides localhost, 127.0.0.1, [::1] "
        "and the bind address; other Host headers get 400 (DNS rebinding). '*' = any (only "
        "behind a proxy that checks Host itself).",
    )
    ws_queue_size: int = Field(
        default=1024,
        ge=16,
        description="Messages a tab may fall behind before it is closed (1013).",
    )
    ws_max_message_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Largest WebSocket message accepted (1009)."
    )
    ws_rate: float = Field(
        default=20,
        gt=0,
        description="Messages a second a WebSocket client may send on average; one more gets "
        "error rate_limited and is not read.",
    )
    ws_burst: int = Field(
        default=40,
        ge=1,
        description="Messages a WebSocket client may send at once beyond ws_rate; a client "
        "refused this many more times (refilled at ws_rate) is closed with 1008.",
    )
    max_connections_per_client: int = Field(
        default=64,
        ge=1,
        description="Open WebSockets per client address (any port); the handshake of one more "
        "gets 429.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="REST request bodies longer than this get 413 before they are parsed.",
    )
    max_upload_mb: float = Field(
        default=50,
        gt=0,
        description="Largest file POST /uploads takes, in MiB (1048576 bytes); a longer one "
        "gets 413 while it streams.",
    )
    upload_ttl_hours: float = Field(
        default=24,
        gt=0,
        description="Uploads no task has used for this many hours are removed (never one an "
        "unfinished task uses).",
    )
    task_modules: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Modules with a register(registry) function that add task types.",
    )
    controller: str = Field(
        default="simulated",
        description="Controller plug-in (entry point group interlock.controllers; "
        "`interlock controllers` lists them).",
    )
    controller_options: str | None = Field(
        default=None,
        description="The controller's options as a JSON object, checked by the plug-in's "
        "options model (or a [controller] table in the config file).",
    )
    config: Path | None = Field(
        default=None,
        description="A TOML file; its [controller] table holds the controller's options.",
    )
    stop_on_disconnect: bool = Field(
        default=False, description="Stop a session's moving axes when its last tab closes."
    )
    stop_on_disconnect_grace: float = Field(
        default=5.0, ge=0, description="Seconds to wait for a tab to come back before stopping."
    )
    log_level: LogLevel = Field(
        default="info",
        description="How much the server logs: critical, error, warning, info, debug or trace.",
    )
    log_format: LogFormat = Field(
        default="text",
        description="text: lines for people; json: one JSON object per line (time, level, "
        "logger, message, and session_id, request_id, user where they apply), uvicorn's "
        "lines included.",
    )
    public_url: str | None = Field(
        default=None,
        description="The console's address as people reach it (https://lab.example.org); "
        "notifications and webhooks link to its session pages.",
    )
    notify_urls: str | None = Field(
        default=None,
        description="Notification targets in Apprise URL syntax (mailto://, slack://, "
        "matrix://, ntfy://, json://, ...), separated by spaces or commas: told when a "
        "prompt waits notify_after seconds unanswered and when a task fails or is "
        "interrupted.",
    )
    notify_after: float = Field(
        default=30,
        gt=0,
        description="Seconds a prompt waits without an answer before notify_urls are told.",
    )
    webhook_url: str | None = Field(
        default=None,
        description="POST the JSON events task.started, request.opened, request.resolved and "
        "task.finished here, in order per session, retried with backoff.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Key of each webhook event's HMAC-SHA256 signature "
        "(X-Interlock-Signature: sha256=<hex of the raw body's HMAC>); unsigned without it.",
    )

    debug_loop: bool = Field(
        default=False,
        description="asyncio debug mode: log every callback that holds the event loop 0.1 s "
        "or more (slower; for tests and for finding what blocks).",
    )

    @model_validator(mode="after")
    def _log_holds_the_replay(self) -> Settings:
        if self.log_max_messages < self.history_size:
            raise ValueError(
                f"log_max_messages ({self.log_max_messages}) must be at least history_size "
                f"({self.history_size}): the store keeps what a tab replays"
            )
        return self

    @field_validator(
        "allowed_origins", "allowed_hosts", "task_modules", "task_types", mode="before"
    )
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        out = []
        for entry in value:
            origin = entry if entry == ANY_ORIGIN else normalize_origin(entry)
            if origin is None:
                raise ValueError(f"not an origin: {entry!r} (expected scheme://host[:port])")
            out.append(origin)
        return out

    @field_validator("allowed_hosts")
    @classmethod
    def _check_hosts(cls, value: list[str]) -> list[str]:
        for entry in value:
            if entry != ANY_HOST and host_name(entry) is None:
                raise ValueError(f"not a host name or address: {entry!r}")
        return value

    @field_validator("controller_options")
    @classmethod
    def _check_options_json(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parsed = json.loads(value)
            except ValueError as exc:
                raise ValueError(f"not JSON: {exc}") from None
            if not isinstance(parsed, dict):
                raise ValueError("must be a JSON object")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return _http_url(value)

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        url = _http_url(value)
        return url.rstrip("/") if url is not None else None

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def database_path(self) -> Path:
        return self.data_dir / "interlock.sqlite3"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
