"""Draw Interlock's favicon: two interlocked rings on a dark rounded square.

Writes backend/interlock/assets/favicon.ico (16, 32 and 48 px PNG images in one ICO), with
the standard library only. Run it again after changing the drawing; the output is committed.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "backend" / "interlock" / "assets" / "favicon.ico"
SIZES = (16, 32, 48)
SUPERSAMPLE = 4
BACKGROUND = (17, 24, 39)
LEFT_RING = (56, 189, 248)
RIGHT_RING = (251, 191, 36)


def _inside_rounded_square(x: float, y: float, corner: float) -> bool:
    dx = max(corner - x, 0.0, x - (1 - corner))
    dy = max(corner - y, 0.0, y - (1 - corner))
    return dx * dx + dy * dy <= corner * corner


def _on_ring(x: float, y: float, cx: float) -> bool:
    distance = math.hypot(x - cx, y - 0.5)
    return abs(distance - 0.22) <= 0.055


def _colour(x: float, y: float) -> tuple[int, int, int, int]:
    """The colour at (x, y) in the unit square; alpha 0 outside the rounded square."""
    if not _inside_rounded_square(x, y, 0.2):
        return (0, 0, 0, 0)
    left, right = _on_ring(x, y, 0.37), _on_ring(x, y, 0.63)
    if left and right:
        # Interlocked: the left ring passes over the right one at the top, under it below.
        return (*(LEFT_RING if y < 0.5 else RIGHT_RING), 255)
    if left:
        return (*LEFT_RING, 255)
    if right:
        return (*RIGHT_RING, 255)
    return (*BACKGROUND, 255)


def _pixels(size: int) -> list[list[tuple[int, int, int, int]]]:
    rows = []
    n = SUPERSAMPLE
    for py in range(size):
        row = []
        for px in range(size):
            samples = [
                _colour((px + (i + 0.5) / n) / size, (py + (j + 0.5) / n) / size)
                for i in range(n)
                for j in range(n)
            ]
            alpha = sum(s[3] for s in samples)
            if alpha == 0:
                row.append((0, 0, 0, 0))
                continue
            # Average the colour over the covered samples only (premultiplied), so edges
            # fade out instead of darkening.
            rgb = [round(sum(s[c] * s[3] for s in samples) / alpha) for c in range(3)]
            row.append((rgb[0], rgb[1], rgb[2], round(alpha / len(samples))))
        rows.append(row)
    return rows


def _png(size: int) -> bytes:
    raw = b"".join(b"\x00" + b"".join(bytes(pixel) for pixel in row) for row in _pixels(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def ico() -> bytes:
    """An ICO file holding one PNG image per size."""
    images = [_png(size) for size in SIZES]
    offset = 6 + 16 * len(images)
    directory = struct.pack("<HHH", 0, 1, len(images))
    for size, image in zip(SIZES, images, strict=True):
        directory += struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(image), offset)
        offset += len(image)
    return directory + b"".join(images)


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(ico())
