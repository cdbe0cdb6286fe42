"""A real Channel Access server for tests: :mod:`interlock.hardware.epics_ioc` in a subprocess.

Channel Access is configured per process, once: libca reads ``EPICS_CA_*`` when this process
makes its first channel. :func:`ca_environment` therefore picks this process's ports once
(free ones on loopback) and puts them in ``os.environ`` before any channel exists; every IOC
this process starts serves on that port, one at a time, and its restart comes back on it.
Searches go to ``127.0.0.1`` only (``EPICS_CA_AUTO_ADDR_LIST=NO``): nothing is broadcast.

Importing this module sets that environment up, so import it before anything that may import
ophyd or pyepics (ophyd makes libca's context as it is imported).
"""

from __future__ import annotations

import atexit
import itertools
import os
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from types import TracebackType

START_TIMEOUT = 20.0
_lock = threading.RLock()
_ports: tuple[int, int] | None = None
_count = itertools.count()


def _free_port() -> int:
    """A port free for both TCP and UDP on loopback (Channel Access uses both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port: int = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port


def ca_environment() -> tuple[int, int]:
    """This process's ``(EPICS_CA_SERVER_PORT, EPICS_CA_REPEATER_PORT)``, set up once."""
    global _ports
    with _lock:
        if _ports is None:
            _ports = (_free_port(), _free_port())
            os.environ.update(
                EPICS_CA_SERVER_PORT=str(_ports[0]),
                EPICS_CA_REPEATER_PORT=str(_ports[1]),
                EPICS_CA_ADDR_LIST="127.0.0.1",
                EPICS_CA_AUTO_ADDR_LIST="NO",
                # The IOC's side: serve and send beacons on loopback only.
                EPICS_CAS_INTF_ADDR_LIST="127.0.0.1",
                EPICS_CAS_BEACON_ADDR_LIST="127.0.0.1",
                EPICS_CAS_AUTO_BEACON_ADDR_LIST="NO",
            )
        return _ports


class EpicsIoc:
    """The simulated motor-record IOC as a subprocess; ``kill()`` is a crash, ``start()``
    brings it back on the same port. PV names are ``{prefix}m1`` ... (unique per instance).
    """

    def __init__(self, motors: Sequence[str] = (), *, tick: float = 0.01) -> None:
        ca_environment()
        self.prefix = f"T{os.getpid()}x{next(_count)}:"
        self.motors = list(motors)
        self.tick = tick
        self.proc: subprocess.Popen[str] | None = None

    def pv(self, suffix: str) -> str:
        return f"{self.prefix}{suffix}"

    def start(self) -> None:
        """Run the IOC; return once it serves (its ready line)."""
        from interlock.hardware.epics_ioc import READY

        assert self.proc is None, "already running"
        args = [sys.executable, "-m", "interlock.hardware.epics_ioc", "--prefix", self.prefix]
        args.append("--exit-with-stdin")  # gone with this process, however it ends
        for motor in self.motors:
            args += ["--motor", motor]
        self.proc = subprocess.Popen(
            [*args, "--tick", str(self.tick)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(self.proc, lines), daemon=True).start()
        output: list[str] = []
        while True:
            try:
                line = lines.get(timeout=START_TIMEOUT)
            except queue.Empty:
                self.kill()
                raise RuntimeError("the IOC did not start in time:\n" + "".join(output)) from None
            if not line:
                self.kill()
                raise RuntimeError("the IOC exited:\n" + "".join(output))
            output.append(line)
            if line.startswith(READY):
                return

    @staticmethod
    def _read(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put("")

    def kill(self) -> None:
        """SIGKILL and reap it: the IOC is gone when this returns."""
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()

    @property
    def running(self) -> bool:
        return self.proc is not None

    def __enter__(self) -> EpicsIoc:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()


_shared: EpicsIoc | None = None


def shared_ioc() -> EpicsIoc:
    """This process's IOC (default motors m1..m5 and det), started if it is not running.

    Only one IOC per process can serve on the process's port, so every test here uses this
    one: a test that kills it restarts it or leaves that to the next user. It is killed when
    the process exits, and exits by itself if this process dies (its stdin closes).
    """
    global _shared
    with _lock:
        if _shared is None:
            _shared = EpicsIoc()
            atexit.register(_shared.kill)
        if not _shared.running:
            _shared.start()
        return _shared


ca_environment()
