"""The real ``interlock serve`` command in a subprocess (for crash, restart and signal tests).

The server binds port 0 and says which port it got (``interlock.server.LISTENING``); this
class reads that line, so no port is picked, freed and raced for. Its output is read by a
thread as it comes, so waiting for a line is waiting for an event, not polling a file.
With ``debug_loop`` (the default) the server runs with ``INTERLOCK_DEBUG_LOOP=1`` and the
test fails when it stops if the server reported a slow callback (``tests.support.loopwatch``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Self

from tests.support.loopwatch import blocked_loop_error, slow_callback_reports

#: ``interlock.server.LISTENING`` as logged, with the URL captured.
_LISTENING = re.compile(r"Interlock listening on (http://(\S+):(\d+))")
_DEBUG_ON = "INTERLOCK_DEBUG_LOOP: asyncio debug mode on"
START_TIMEOUT = 30.0


class ServerProcess:
    """``python -m interlock serve --port 0``; ``kill()`` is a crash, ``stop()`` SIGTERM.

    ``args`` are more flags for the command (``--no-worker``); ``command`` runs another
    ``interlock`` command that logs the same listening line (``worker``)."""

    def __init__(
        self,
        data_dir: Path,
        port: int = 0,
        env: dict[str, str] | None = None,
        *,
        debug_loop: bool = True,
        args: Sequence[str] = (),
        command: str = "serve",
        **more_env: str,
    ) -> None:
        self.data_dir = data_dir
        self.requested_port = port
        self.args = list(args)
        self.command = command
        self.debug_loop = debug_loop
        self.env = {**os.environ, **(env or {}), **more_env}
        if debug_loop:
            self.env["INTERLOCK_DEBUG_LOOP"] = "1"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._lines: list[str] = []
        self._eof = False
        self._changed = threading.Condition()
        self._reader: threading.Thread | None = None
        self._checked = False
        self._terminated = False

    @property
    def url(self) -> str:
        assert self.port, "the server has not started"
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    def start(self) -> Self:
        """Run the server; return once it accepts connections (its listening line)."""
        return self.spawn().ready()

    def spawn(self) -> Self:
        """Start the process and return at once (``ready`` waits for it): several start
        side by side."""
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "interlock",
                self.command,
                *("--host", "127.0.0.1", "--port", str(self.requested_port)),
                *("--data-dir", str(self.data_dir)),
                *self.args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
        )
        assert self.proc.stdout is not None
        self._reader = threading.Thread(
            target=self._read, args=(self.proc.stdout,), name="server-output", daemon=True
        )
        self._reader.start()
        return self

    def ready(self) -> Self:
        """Wait for the listening line of a ``spawn``ed process; fail if it exited first."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._eof or _LISTENING.search(self.output()) is not None, START_TIMEOUT
            )
        match = _LISTENING.search(self.output())
        if match is None:
            state = "exited" if self._eof else "did not start in time"
            self._end()
            raise RuntimeError(f"server {state}:\n{self.output()}")
        self.port = int(match[3])
        if self.debug_loop and _DEBUG_ON not in self.output():
            self._end()
            raise AssertionError(f"INTERLOCK_DEBUG_LOOP was not honoured:\n{self.output()}")
        return self

    def _read(self, stream: IO[bytes]) -> None:
        for raw in stream:
            with self._changed:
                self._lines.append(raw.decode(errors="replace"))
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def wait_for_output(self, text: str, timeout: float = 10) -> None:
        """Block until the server's output contains ``text`` (or fail after ``timeout``)."""
        with self._changed:
            if not self._changed.wait_for(lambda: text in self.output(), timeout):
                raise AssertionError(f"{text!r} not in the server log:\n{self.output()}")

    def output(self) -> str:
        """Everything the server printed so far (stdout and stderr)."""
        return "".join(self._lines)

    def kill(self) -> None:
        """A crash: SIGKILL, no cleanup."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)
        self._end()
        self.check_loop()

    def terminate(self) -> None:
        """Send SIGTERM and return at once (``stop`` waits): several stop side by side."""
        assert self.proc is not None
        if self.proc.poll() is None and not self._terminated:
            self._terminated = True
            self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 20) -> int:
        """A graceful stop: SIGTERM, wait for exit; returns the exit code."""
        assert self.proc is not None
        self.terminate()
        code = self.proc.wait(timeout)
        self._end()
        self.check_loop()
        return code

    def check_loop(self) -> None:
        """Fail if the server reported a callback that held its event loop."""
        if self._checked:
            return
        self._checked = True
        reports = slow_callback_reports(self.output())
        if reports:
            raise blocked_loop_error(f"interlock {self.command} (pid {self.pid})", reports)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def _end(self) -> None:
        """Make sure the process is gone and its output read to the end."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self._reader is not None:
            self._reader.join(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self._end()
        if exc_type is None:  # a failing test's own error says more
            self.check_loop()
