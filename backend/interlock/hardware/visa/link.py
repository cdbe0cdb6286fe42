"""One PyVISA connection to an ASCII instrument, shared safely by many threads.

Two locks, so that a stop never waits behind a slow query:

* the **exchange lock** makes a command and the reply it expects one unit (no other
  question may be asked between them). A query may hold it up to the reply timeout.
* the **write lock** only keeps the bytes of two commands from interleaving. A command that
  expects no reply (a stop) takes this one alone and goes out at once, even while another
  thread sits in a read waiting for its reply: the instrument link is full duplex, and the
  pending reply still reaches the reader.

Every failure of the link itself (a timeout, a closed socket, an unplugged adapter) is a
:class:`LinkLost`; the controller then drops the connection and reconnects.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyvisa
from pyvisa.constants import ControlFlow
from pyvisa.resources import MessageBasedResource

from .options import CommandTable, VisaOptions

log = logging.getLogger("interlock.hardware.visa")

_FLOW = {
    "none": ControlFlow.none,
    "xon_xoff": ControlFlow.xon_xoff,
    "rts_cts": ControlFlow.rts_cts,
}


class LinkLost(Exception):
    """Raised when the instrument cannot be reached: the link is gone until reopened.

    ``generation`` is the :attr:`VisaLink.generation` of the connection that failed, so a
    late failure of an old connection is not taken for a failure of its replacement.
    """

    def __init__(self, reason: str, generation: int = -1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.generation = generation


class BadReply(Exception):
    """Raised when the instrument answered, but not what the pattern expects."""


@functools.lru_cache(maxsize=256)
def reply_pattern(pattern: str, address: str) -> re.Pattern[str]:
    """A response pattern with ``{axis}`` replaced by the (escaped) axis address."""
    return re.compile(pattern.replace("{axis}", re.escape(address)))


class VisaLink:
    """The resource and its two locks. Opened by :meth:`open`, dropped by :meth:`drop`."""

    def __init__(self, options: VisaOptions, table: CommandTable) -> None:
        self._options = options
        self._table = table
        self._rm: pyvisa.ResourceManager | None = None
        self._resource: MessageBasedResource | None = None
        self._exchange = threading.RLock()
        self._write = threading.Lock()
        self._swap = threading.Lock()
        self.generation = 0
        """Counts the connections opened."""

    def open(self) -> None:
        """Open the resource (replacing any earlier one). Raises :class:`LinkLost`."""
        options, table = self._options, self._table
        kwargs: dict[str, Any] = {
            "read_termination": options.read_termination
            if options.read_termination is not None
            else table.read_termination,
            "write_termination": options.write_termination
            if options.write_termination is not None
            else table.write_termination,
            "timeout": options.timeout * 1000,
            "open_timeout": int(options.open_timeout * 1000),
        }
        if options.resource.upper().startswith("ASRL"):
            kwargs["baud_rate"] = options.baud_rate or table.serial.baud_rate
            kwargs["flow_control"] = _FLOW[table.serial.flow_control]
        with self._exchange, self._write:
            self.drop()
            try:
                if self._rm is None:
                    self._rm = pyvisa.ResourceManager(options.backend)
                resource = self._rm.open_resource(options.resource, **kwargs)
            except Exception as exc:
                raise LinkLost(f"cannot open {options.resource}: {exc}") from None
            if not isinstance(resource, MessageBasedResource):
                resource.close()
                raise LinkLost(f"{options.resource} is not a message-based (ASCII) resource")
            with self._swap:
                self._resource = resource
                self.generation += 1

    def drop(self) -> None:
        """Close the resource, if open; never raises, never waits for a query."""
        with self._swap:
            resource, self._resource = self._resource, None
        if resource is not None:
            with contextlib.suppress(Exception):
                resource.close()

    def close(self) -> None:
        """Drop the resource and close the resource manager."""
        self.drop()
        with self._exchange, self._swap:
            rm, self._rm = self._rm, None
        if rm is not None:
            with contextlib.suppress(Exception):
                rm.close()

    @contextlib.contextmanager
    def exchange(self) -> Iterator[None]:
        """Hold the exchange lock: the caller's commands and replies are one unit."""
        with self._exchange:
            yield

    def _current(self) -> tuple[MessageBasedResource, int]:
        with self._swap:
            resource, generation = self._resource, self.generation
        if resource is None:
            raise LinkLost("not connected", generation)
        return resource, generation

    def send(self, command: str, *, unless: Callable[[], bool] | None = None) -> bool:
        """Write one command that expects no reply, without waiting for the exchange lock.

        ``unless`` is asked while the write lock is held, so no other write can come between
        it and this one: when it returns True nothing is written and ``send`` returns False.
        """
        resource, generation = self._current()
        with self._write:
            if unless is not None and unless():
                return False
            try:
                resource.write(command)
            except Exception as exc:
                raise LinkLost(f"cannot send {command!r}: {exc}", generation) from None
        return True

    def ask(self, command: str, pattern: re.Pattern[str]) -> str:
        """Write ``command`` and return the ``value`` group of the first reply line matching
        ``pattern``. Lines that do not match (late replies to earlier commands, unsolicited
        status) are skipped until the reply timeout; then :class:`BadReply` names the last
        one, or :class:`LinkLost` if nothing came at all."""
        with self._exchange:
            resource, generation = self._current()
            self.send(command)
            deadline = time.monotonic() + self._options.timeout
            unexpected: str | None = None
            while (left := deadline - time.monotonic()) > 0:
                try:
                    resource.timeout = max(1.0, left * 1000)
                    line = resource.read()
                except pyvisa.errors.VisaIOError as exc:
                    if exc.error_code == pyvisa.constants.StatusCode.error_timeout:
                        break
                    lost = LinkLost(f"reading the reply to {command!r}: {exc}", generation)
                    raise lost from None
                except Exception as exc:
                    lost = LinkLost(f"reading the reply to {command!r}: {exc}", generation)
                    raise lost from None
                match = pattern.fullmatch(line.strip())
                if match is not None:
                    return match.group("value")
                log.debug("skipped reply %r while waiting for the reply to %r", line, command)
                unexpected = line
            if unexpected is not None:
                raise BadReply(f"unexpected reply {unexpected.strip()!r} to {command!r}")
            timeout = self._options.timeout
            raise LinkLost(f"no reply to {command!r} within {timeout:g} s", generation)
