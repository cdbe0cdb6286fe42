"""A WebSocket client that can stop reading: a plain socket with a tiny receive buffer.

Used to play a tab that falls behind, or one that floods pings without reading the pongs
(a library client would keep buffering and answering for us).
"""

from __future__ import annotations

import base64
import os
import socket
import struct


class StalledTab:
    def __init__(
        self, host: str, port: int, path: str, headers: dict[str, str] | None = None
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        self.sock.connect((host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n"
                + "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
                + "\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed without a close frame")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def read_until_close(self) -> tuple[int, int]:
        """Read frames until a close frame; return (close code, data frames seen)."""
        frames = 0
        while True:
            b0, b1 = self._read(2)
            length = b1 & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read(8))
            payload = self._read(length)
            if b0 & 0x0F == 0x8:
                (code,) = struct.unpack("!H", payload[:2])
                return code, frames
            frames += 1

    def read_until_end(self) -> int | None:
        """Read frames until a close frame (its code) or the connection's end (None)."""
        try:
            code, _ = self.read_until_close()
        except (EOFError, ConnectionResetError):
            return None
        return code

    @staticmethod
    def frame(opcode: int, payload: bytes = b"") -> bytes:
        """A masked client frame (payload under 126 bytes)."""
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked

    def send_frame(self, opcode: int, payload: bytes = b"", times: int = 1) -> None:
        """A masked client frame (payload under 126 bytes), ``times`` over in one write."""
        self.sock.sendall(self.frame(opcode, payload) * times)

    def flood_pings(self, count: int, payload: bytes = b"p" * 125) -> int:
        """Send ``count`` pings without reading a byte; returns how many went out before the
        server dropped the connection."""
        mask = b"\0\0\0\0"  # a zero mask leaves the payload as it is
        ping = bytes([0x89, 0x80 | len(payload)]) + mask + payload
        batch = 512
        sent = 0
        try:
            while sent < count:
                self.sock.sendall(ping * batch)
                sent += batch
        except (BrokenPipeError, ConnectionResetError):
            pass
        return sent

    def close(self) -> None:
        self.sock.close()
