"""WebSocket fast path for uvicorn: shared frames out, control frames bounded, hard closes.

``FramesWebSocketProtocol`` is uvicorn's sans-I/O WebSocket protocol plus:

* The ASGI extension ``interlock.frames`` (see :mod:`interlock.frames`): ``write(frames)``
  puts ready-made frame bytes on the connection, so a session message becomes a frame once
  and every tab writes the same bytes (``write_now`` does it without waiting, so a message
  reaches 100 idle tabs without 100 task switches); ``abort()`` drops a connection whose
  client stopped reading, which no ASGI message can do.
* Bounded control frames. uvicorn answers every PING with a PONG whether or not the client
  reads them; a client that floods pings would grow the write buffer (and cost CPU) without
  limit. Pings and pongs beyond :data:`PING_BURST` plus :data:`PING_RATE` per second, or more
  than :data:`UNREAD_PONG_BYTES` of pongs queued while the client does not read, close the
  connection with 1008; when even the close frame cannot be written, it is aborted.

``CoalescingWebSocketProtocol`` (what ``interlock serve`` runs) also coalesces writes: the
first write of an event-loop step goes to the socket at once (an idle tab gets its message
without delay), the rest of that step's writes are buffered and handed to the socket in one
call at the end of the step: in a burst every frame would otherwise be its own ``send``
system call. Order is kept and nothing waits longer than one step (``bench/fanout.py``
measures it against the protocol without it: about 1.3 to 2 times the fan-out rate to 100
tabs).

It builds on attributes of uvicorn's protocol that are not public API. ``fast_path_protocol``
checks them once at start-up; if this uvicorn lacks any, the server runs on uvicorn's own
protocol, tabs are fed through plain ASGI sends (slower fan-out, same messages) and one
warning says so. ``GET /health`` reports which is in use (``ws_fast_path``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from typing import Any, cast

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from .frames import FRAMES_EXTENSION

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
#: Control frames (ping/pong) a client may send at once, and per second after that.
PING_BURST = 32
PING_RATE = 8.0
#: Pong bytes that may wait in the write buffer while the client does not read.
UNREAD_PONG_BYTES = 16 * 1024
#: Seconds a closing connection gets to write its close frame before it is aborted.
CLOSE_DEADLINE = 2.0
#: Bytes handed to the WebSocket parser at a time: a flood is noticed after a few dozen
#: frames, not after parsing a whole socket read (256 KiB: thousands of pings).
PARSE_SLICE = 4096
#: Client messages parsed ahead of the app. The rest of a socket read waits, unparsed, until
#: the app has taken them: a flooder that the app closes (its rate limit) then costs a few
#: slices of parsing, not a whole read of tiny frames that nobody will look at.
PARSE_AHEAD = 16

#: What this module uses of ``WebSocketsSansIOProtocol`` beyond ``asyncio.Protocol``.
REQUIRED = (
    "loop",
    "transport",
    "conn",
    "queue",
    "read_paused",
    "writable",
    "disconnected",
    "close_sent",
    "handle_connect",
    "handle_ping",
    "handle_pong",
)
#: Flow control: ``writable`` is only ever cleared where uvicorn implements these.
REQUIRED_OVERRIDES = ("pause_writing", "resume_writing")


class FramesWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol with the fast path (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ping_tokens = float(PING_BURST)
        self._ping_at = self.loop.time()
        self._unread_pong_bytes = 0
        self._deadline: asyncio.TimerHandle | None = None
        # Read while the app was behind (reading is paused meanwhile): the bytes from offset on.
        self._unparsed = b""
        self._offset = 0

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        extensions = getattr(self, "scope", {}).get("extensions")  # set in handle_connect
        if not self.close_sent and extensions is not None:  # the handshake was not refused
            extensions[FRAMES_EXTENSION] = {
                "write": self.write_frames,
                "write_now": self.write_frames_now,
                "abort": self.abort,
                "hang_up": self.hang_up,
            }

    async def write_frames(self, frames: bytes) -> bool:
        """Write ready-made frames after the app accepted; waits while the socket is full."""
        await self.writable.wait()
        if self.disconnected or self.close_sent or self.transport.is_closing():
            return False
        self.transport.write(frames)
        return True

    def write_frames_now(self, frames: bytes) -> bool:
        """``write_frames`` without waiting: False (nothing written) while the socket is full
        or the connection is closing."""
        if (
            not self.writable.is_set()
            or self.disconnected
            or self.close_sent
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(frames)
        return True

    def abort(self) -> None:
        """Drop the TCP connection now; the app gets ``websocket.disconnect`` (1006)."""
        if not self.disconnected:
            self.transport.abort()

    # ------------------------------------------------------------------ control frames

    def data_received(self, data: bytes) -> None:
        if self._unparsed:  # reading resumed without the app (its close): keep the order
            data = self._unparsed[self._offset :] + data
        self._parse(data, 0)

    def _parse(self, data: bytes, offset: int) -> None:
        self._unparsed = b""
        for start in range(offset, len(data), PARSE_SLICE):
            if self.transport.is_closing():
                return  # closed for a flood: the rest is not even parsed
            if self.queue.qsize() >= PARSE_AHEAD:
                # Reading is paused (a message is queued): nothing more comes meanwhile.
                self._unparsed, self._offset = data, start
                return
            super().data_received(data[start : start + PARSE_SLICE])

    async def receive(self) -> Any:
        """uvicorn's, except that what was left unparsed is parsed before reading resumes."""
        message = await self.queue.get()
        if self._unparsed and self.queue.qsize() < PARSE_AHEAD:
            self._parse(self._unparsed, self._offset)
        if self.read_paused and self.queue.empty() and not self._unparsed:
            self.read_paused = False
            self.transport.resume_reading()
        return message

    def _control_frame_allowed(self) -> bool:
        now = self.loop.time()
        self._ping_tokens = min(PING_BURST, self._ping_tokens + (now - self._ping_at) * PING_RATE)
        self._ping_at = now
        self._ping_tokens -= 1
        return self._ping_tokens >= 0

    def handle_ping(self) -> None:
        pongs = b"".join(self.conn.data_to_send())
        if self.close_sent or self.transport.is_closing():
            return  # closing: the pongs are dropped
        if not self.writable.is_set():
            self._unread_pong_bytes += len(pongs)
        if not self._control_frame_allowed() or self._unread_pong_bytes > UNREAD_PONG_BYTES:
            self.close_now(POLICY_VIOLATION, "too many pings")
            return
        self.transport.write(pongs)

    def handle_pong(self, event: Any) -> None:
        if not self._control_frame_allowed():
            self.close_now(POLICY_VIOLATION, "too many pongs")
            return
        super().handle_pong(event)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._unread_pong_bytes = 0

    # ------------------------------------------------------------------------ closing

    def close_now(self, code: int, reason: str) -> None:
        """Close from the server side without the app: the app gets ``websocket.disconnect``.

        The close frame goes behind what is buffered and the TCP connection is closed after
        it; when the client does not read (the buffer is full, or still not flushed after
        :data:`CLOSE_DEADLINE` seconds) the connection is aborted instead."""
        if self.transport.is_closing():
            return
        if not self.close_sent:
            self.close_sent = True
            self.conn.send_close(code, reason)
            self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        if not self.writable.is_set():
            self.transport.abort()
            return
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.transport.close()
        self._deadline = self.loop.call_later(CLOSE_DEADLINE, self.abort)

    def hang_up(self) -> None:
        """After the app's close frame: read nothing more and send FIN behind what is
        buffered, without waiting for the client's close reply; drop the connection after
        :data:`CLOSE_DEADLINE` seconds. For a client closed for abuse: it goes on sending,
        and uvicorn would read (and discard) it all until its close timeout. Not a plain
        ``close``: with unread bytes in the socket that resets the connection, and the close
        frame may never arrive."""
        if self.transport.is_closing() or self._deadline is not None:
            return
        self.transport.pause_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._deadline = self.loop.call_later(CLOSE_DEADLINE, self.abort)

    def connection_lost(self, exc: Exception | None) -> None:
        # Protocol and transport refer to each other: the bytes must not wait for the cycle
        # collector (a flood of reconnects would hold a socket read per dead connection).
        self._unparsed = b""
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)


class StepFlush:
    """The transports of one event loop that buffered writes in this loop step, flushed by
    one callback at the step's end (not one callback per transport)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._dirty: list[CoalescingTransport] = []

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> StepFlush:
        flush = _step_flushes.get(loop)
        if flush is None:
            flush = _step_flushes[loop] = cls(loop)
        return flush

    def add(self, transport: CoalescingTransport) -> None:
        if not self._dirty:
            self._loop.call_soon(self._run)
        self._dirty.append(transport)

    def _run(self) -> None:
        dirty, self._dirty = self._dirty, []
        for transport in dirty:
            try:
                transport.flush()
            except Exception as exc:  # one broken transport must not hold back the others
                self._loop.call_exception_handler(
                    {"message": "flushing a WebSocket write failed", "exception": exc}
                )


_step_flushes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StepFlush] = (
    weakref.WeakKeyDictionary()
)


class CoalescingTransport(asyncio.Transport):
    """Wraps a transport: the first write of a loop step goes to the socket at once (an idle
    connection adds no delay), later writes of the same step are buffered and written in one
    call at the step's end (:class:`StepFlush`)."""

    def __init__(self, inner: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._inner = inner
        self._flush = StepFlush.of(loop)
        self._pending: list[bytes] = []
        self._in_step = False  # wrote in this step; a flush is due at its end

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if self._in_step:
            self._pending.append(bytes(data))
            return
        self._in_step = True
        self._flush.add(self)
        if not self._inner.is_closing():
            self._inner.write(data)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        self._in_step = False
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._inner.is_closing():
                self._inner.write(data)

    def close(self) -> None:
        self.flush()
        self._inner.close()

    def abort(self) -> None:
        self._pending.clear()
        self._inner.abort()

    def is_closing(self) -> bool:
        return self._inner.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._inner.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._inner.pause_reading()

    def resume_reading(self) -> None:
        self._inner.resume_reading()

    def is_reading(self) -> bool:
        return self._inner.is_reading()

    def get_write_buffer_size(self) -> int:
        return self._inner.get_write_buffer_size() + sum(map(len, self._pending))

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._inner.set_write_buffer_limits(high, low)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._inner.get_write_buffer_limits()

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()

    def write_eof(self) -> None:
        self.flush()
        self._inner.write_eof()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._inner.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._inner.get_protocol()


class CoalescingWebSocketProtocol(FramesWebSocketProtocol):
    """The fast path writing through a ``CoalescingTransport``: one ``send`` per loop step."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but quack the same.
        inner = cast(asyncio.Transport, transport)
        super().connection_made(CoalescingTransport(inner, self.loop))


def _noop_app(scope: Any, receive: Any, send: Any) -> None:
    raise NotImplementedError  # never called: the probe connection is never made


def missing_capabilities(protocol: type[WebSocketsSansIOProtocol]) -> list[str]:
    """The attributes :data:`REQUIRED` that an instance of ``protocol`` lacks."""
    loop = asyncio.new_event_loop()
    try:
        config = uvicorn.Config(_noop_app, log_config=None, lifespan="off")
        probe = protocol(config, ServerState(), {}, _loop=loop)
    except Exception as exc:  # an __init__ from another uvicorn version
        return [f"__init__ ({exc})"]
    finally:
        loop.close()
    missing = [name for name in REQUIRED if not hasattr(probe, name)]
    base_protocol = asyncio.Protocol
    return missing + [
        name
        for name in REQUIRED_OVERRIDES
        if getattr(WebSocketsSansIOProtocol, name) is getattr(base_protocol, name)
    ]


@functools.cache
def websocket_protocol(
    fast: type[FramesWebSocketProtocol] | None = None,
) -> type[WebSocketsSansIOProtocol]:
    """The ``ws=`` protocol class for uvicorn, decided once per process: ``fast`` (by default
    the coalescing fast path) when this uvicorn has all it builds on, else uvicorn's own
    sans-I/O protocol, with one warning."""
    fast = fast or CoalescingWebSocketProtocol
    missing = missing_capabilities(fast)
    if missing:
        log.warning(
            "uvicorn %s lacks %s: WebSocket fast path off, tabs get plain ASGI sends",
            uvicorn.__version__,
            ", ".join(missing),
        )
        return WebSocketsSansIOProtocol
    return fast


def is_fast_path(protocol: Any) -> bool:
    """Whether uvicorn's ``ws=`` setting ``protocol`` serves the frames extension."""
    return isinstance(protocol, type) and issubclass(protocol, FramesWebSocketProtocol)
