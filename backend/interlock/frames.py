"""Session messages as WebSocket frames: built once, shared by every tab.

Kept apart from :mod:`interlock.wire` (the uvicorn protocol that writes them) so that the
session layer never imports a server implementation.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable
from typing import cast

#: The ASGI extension a server offers in ``scope["extensions"]``: a dict with ``write``,
#: ``write_now``, ``abort`` and ``hang_up`` (see ``interlock.wire`` for uvicorn's). Without
#: it tabs get plain ASGI sends.
FRAMES_EXTENSION = "interlock.frames"

#: ``write(frames) -> bool``: waits while the socket is full; False once the connection is
#: closing (nothing was written).
FrameWrite = Callable[[bytes], Awaitable[bool]]
#: ``write_now(frames) -> bool``: writes at once if the socket takes it without waiting;
#: False (nothing was written) while it is full or the connection is closing.
FrameWriteNow = Callable[[bytes], bool]
#: ``abort()``: drop the TCP connection now (a client that does not read its close frame).
FrameAbort = Callable[[], None]
#: ``hang_up()``: after the close frame, close the TCP connection once what is buffered is
#: written, without waiting for the client's close reply (a flooder's).
FrameHangUp = Callable[[], None]


class WireText(str):
    """A message's JSON text that remembers its frame, so fan-out builds it once."""

    _frame: bytes | None = None


def frame_of(text: str) -> bytes:
    """The unmasked, unfragmented, uncompressed text frame carrying ``text``."""
    frame = getattr(text, "_frame", None)
    if frame is not None:
        return cast(bytes, frame)
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    frame = header + payload
    if isinstance(text, WireText):
        text._frame = frame
    return frame
