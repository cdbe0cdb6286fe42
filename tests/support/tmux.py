"""A real terminal for tests: a tmux session (its own server socket) running one command,
read with ``capture-pane`` and typed into with ``send-keys``."""

from __future__ import annotations

import subprocess
import time
import uuid

#: How long a test waits for text to show on the screen.
DEADLINE = 20.0


class Pane:
    """A tmux session of its own (own server socket) running one command."""

    def __init__(self, command: str) -> None:
        self.socket = f"interlock-attach-{uuid.uuid4().hex[:8]}"
        self.tmux("new-session", "-d", "-x", "120", "-y", "40", command)

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True
        ).stdout

    def text(self) -> str:
        return self.tmux("capture-pane", "-p", "-S", "-200")

    def wait_for(self, text: str, after: int = 0) -> str:
        """Poll the screen until ``text`` shows (at least ``after`` + 1 times)."""
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            screen = self.text()
            if screen.count(text) > after:
                return screen
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never showed:\n{self.text()}")

    def type(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
