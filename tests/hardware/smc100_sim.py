"""A Newport SMC100-style instrument on a loopback TCP port, whose axes move over time.

The motion is the project's :class:`SimulatedController` (trapezoidal moves, decelerating
stops); this module is only the instrument's side of the ``smc100`` command table: ``PA``,
``PR``, ``VA``, ``ST``, ``TP``, ``TS``, ``TE``, ``SL?``, ``SR?``, one line each, ``\\r\\n``
terminated; and ``SG?``, a detector reading (an SMC100 has none). Used by the ``visa``
controller's tests, where cancel and stop latency are real.

Each connection has a reader thread that carries out commands as they arrive (a stop acts at
once) and a replier thread that answers queries in order; :meth:`hold_replies` keeps the
replier waiting (a slow instrument) while commands still arrive. :meth:`kill` drops every
connection and the listener, and stops the stage (it lost power); :meth:`restart` listens on
the same port again.
"""

from __future__ import annotations

import contextlib
import queue
import re
import socket
import threading
from collections.abc import Callable
from types import TracebackType

from interlock.hardware import Axis, SimulatedController
from interlock.hardware.errors import AxisBusyError, SoftLimitError

_COMMAND = re.compile(r"^(?P<address>\d+)(?P<code>[A-Z]{2})(?P<arg>.*)$")


class Smc100Simulator:
    """``axes`` maps addresses (``"1"``) to soft limits; positions are in µm."""

    def __init__(
        self,
        axes: dict[str, tuple[float, float]] | None = None,
        *,
        acceleration: float = 200_000.0,
    ) -> None:
        limits = axes or {"1": (-10_000.0, 10_000.0), "2": (-10_000.0, 10_000.0)}
        self.stage = SimulatedController(
            [Axis(a, a, "um", lo, hi) for a, (lo, hi) in limits.items()],
            acceleration=acceleration,
        )
        self.port = 0
        self.received: list[str] = []
        self._speed = dict.fromkeys(limits, 1_000.0)
        self._error = dict.fromkeys(limits, "@")
        self._seen = threading.Condition()
        self._replies_open = threading.Event()
        self._replies_open.set()
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def resource(self) -> str:
        return f"TCPIP::127.0.0.1::{self.port}::SOCKET"

    # ------------------------------------------------------------------ life cycle

    def start(self) -> Smc100Simulator:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        self._spawn(self._accept, listener)
        return self

    def kill(self) -> None:
        """Power cut: every connection dropped, the listener closed, the stage stopped."""
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, []
        for sock in [*connections, *([listener] if listener else [])]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._replies_open.set()
        self.stage.stop_all()

    def restart(self) -> None:
        self.start()

    def close(self) -> None:
        self.kill()
        for thread in self._threads:
            thread.join(timeout=5)
        self.stage.close()

    def __enter__(self) -> Smc100Simulator:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------------ for tests

    def hold_replies(self) -> None:
        """Queries are still received, but not answered until :meth:`release_replies`."""
        self._replies_open.clear()

    def release_replies(self) -> None:
        self._replies_open.set()

    def wait_for(self, predicate: Callable[[list[str]], bool], timeout: float = 5.0) -> None:
        """Wait until ``predicate(received commands)`` holds (AssertionError after timeout)."""
        with self._seen:
            assert self._seen.wait_for(lambda: predicate(self.received), timeout), self.received

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._connections)

    # ------------------------------------------------------------------ the instrument

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                if self._listener is not listener:
                    conn.close()
                    return
                self._connections.append(conn)
            replies: queue.Queue[str | None] = queue.Queue()
            self._spawn(self._read, conn, replies)
            self._spawn(self._reply, conn, replies)

    def _read(self, conn: socket.socket, replies: queue.Queue[str | None]) -> None:
        buffer = b""
        try:
            while chunk := conn.recv(4096):
                buffer += chunk
                while b"\r\n" in buffer:
                    line, buffer = buffer.split(b"\r\n", 1)
                    self._command(line.decode("ascii", "replace"), replies)
        except OSError:
            pass
        finally:
            replies.put(None)

    def _reply(self, conn: socket.socket, replies: queue.Queue[str | None]) -> None:
        while (query := replies.get()) is not None:
            self._replies_open.wait()
            answer = self._answer(query)
            if answer is None:
                continue
            try:
                conn.sendall(answer.encode("ascii") + b"\r\n")
            except OSError:
                return

    def _command(self, line: str, replies: queue.Queue[str | None]) -> None:
        with self._seen:
            self.received.append(line)
            self._seen.notify_all()
        match = _COMMAND.match(line)
        if match is None or match["address"] not in self._speed:
            return
        address, code, arg = match["address"], match["code"], match["arg"]
        if code in {"TP", "TS", "TE"} or arg == "?":
            replies.put(line)
            return
        try:
            if code == "ST":
                self.stage.stop(address)
            elif code == "VA":
                self._speed[address] = float(arg)
            elif code in {"PA", "PR"}:
                value = float(arg)
                speed = self._speed[address]
                if code == "PA":
                    self.stage.move_absolute(address, value, speed)
                else:
                    self.stage.move_relative(address, value, speed)
            else:
                self._error[address] = "A"
        except SoftLimitError:
            self._error[address] = "G"
        except AxisBusyError:
            self._error[address] = "M"
        except ValueError:
            self._error[address] = "C"

    def _answer(self, query: str) -> str | None:
        match = _COMMAND.match(query)
        assert match is not None
        address, code = match["address"], match["code"]
        axis = self.stage.axes()[list(self._speed).index(address)]
        if code == "TP":
            return f"{address}TP{self.stage.position(address):.6f}"
        if code == "TS":
            return f"{address}TS0000{'28' if self.stage.is_moving(address) else '33'}"
        if code == "TE":
            error, self._error[address] = self._error[address], "@"
            return f"{address}TE{error}"
        if code == "SL":
            return f"{address}SL{axis.min:g}"
        if code == "SR":
            return f"{address}SR{axis.max:g}"
        if code == "VA":
            return f"{address}VA{self._speed[address]:g}"
        if code == "SG":  # not an SMC100 command: this simulator's detector input
            return f"{address}SG{self.stage.read_signal():.6f}"
        self._error[address] = "A"
        return None
