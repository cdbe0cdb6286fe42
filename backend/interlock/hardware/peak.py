"""Where a scanned signal peaks: a gaussian fitted through the points near the top.

Alignment scans sample a noisy peak; taking the highest sample would make the result as noisy
as one reading and as coarse as the step. A least-squares fit through every point near the
peak averages both out.
"""

from __future__ import annotations

import math


def peak_position(xs: list[float], ys: list[float]) -> float:
    """Where the signal peaks.

    Fits a gaussian — a parabola through ``log(signal)`` — by least squares to the points above
    a third of the highest, so every point near the peak averages the noise out; falls back to
    the highest point when there is no clear peak. The result stays within those points.
    """
    best = max(range(len(ys)), key=ys.__getitem__)
    top = ys[best]
    near = [(x, math.log(y)) for x, y in zip(xs, ys, strict=True) if top > 0 and y >= top / 3]
    if len(near) < 3:
        return xs[best]
    mean = sum(x for x, _ in near) / len(near)
    fit = _parabola([(x - mean, v) for x, v in near])
    if fit is None or fit[0] >= 0:
        return xs[best]
    vertex = mean - fit[1] / (2 * fit[0])
    return min(max(vertex, min(x for x, _ in near)), max(x for x, _ in near))


def _parabola(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Least-squares ``a`` and ``b`` of ``v = a*u**2 + b*u + c``; None if degenerate."""
    s = [sum(u**k for u, _ in points) for k in range(5)]
    t = [sum(v * u**k for u, v in points) for k in range(3)]
    rows = [[s[4], s[3], s[2]], [s[3], s[2], s[1]], [s[2], s[1], s[0]]]

    def det(m: list[list[float]]) -> float:
        return (
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        )

    d = det(rows)
    if abs(d) < 1e-12 * max(1.0, abs(s[4]) * s[0] ** 2):
        return None

    def solve(col: int) -> float:  # Cramer's rule
        return det([[*r[:col], t[2 - i], *r[col + 1 :]] for i, r in enumerate(rows)]) / d

    return solve(0), solve(1)
