"""A list of positions read from a CSV file: a header naming the axes, one row per point.

``read_positions`` checks everything a controller can check before anything moves: the
header names known axes (each once), every value is a finite number within the soft limits
of its axis, and there are between one and :data:`MAX_POINTS` rows. Problems are
:class:`InvalidParameters` on the parameter that holds the file, each naming its line and
column, as an editor shows them (the header is line 1). It blocks on the file: call it in a
worker thread.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import InvalidParameters
from ..hardware.controller import Axis
from ..hardware.limits import unit_label

#: Most rows (points) a positions file may have.
MAX_POINTS = 1000
#: Problems reported at most; the first ones are what the operator fixes first.
MAX_PROBLEMS = 10


@dataclass(frozen=True)
class Positions:
    """The points of a positions file: ``axes`` in header order, one tuple per point."""

    axes: tuple[str, ...]
    points: list[tuple[float, ...]]

    def extent(self) -> dict[str, tuple[float, float]]:
        """The lowest and highest position of each axis."""
        columns = zip(*self.points, strict=True)
        return {axis: (min(c), max(c)) for axis, c in zip(self.axes, columns, strict=True)}


class _Problems:
    def __init__(self, field: str) -> None:
        self.field = field
        self.errors: list[dict[str, str]] = []

    def add(self, message: str) -> None:
        self.errors.append({"field": self.field, "message": message})
        if len(self.errors) >= MAX_PROBLEMS:
            self.raise_if_any()

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidParameters(self.errors)


def _rows(path: Path, problems: _Problems) -> Iterator[tuple[int, list[str]]]:
    """``(line, cells)`` of every non-blank row; a file that is not CSV text is a problem."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as text:
            reader = csv.reader(text)
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    yield reader.line_num, [cell.strip() for cell in cells]
    except UnicodeDecodeError:
        problems.add("the file is not UTF-8 text (save the CSV as UTF-8)")
    except csv.Error as exc:
        problems.add(f"line {reader.line_num}: not CSV ({exc})")


def _header(line: int, cells: list[str], axes: Mapping[str, Axis], problems: _Problems) -> None:
    known = ", ".join(axes)
    seen: set[str] = set()
    for column, name in enumerate(cells, start=1):
        if not name:
            problems.add(f"line {line}, column {column}: empty axis name; axes: {known}")
        elif name not in axes:
            problems.add(f"line {line}, column {column}: unknown axis {name!r}; axes: {known}")
        elif name in seen:
            problems.add(f"line {line}, column {column}: axis {name!r} appears twice")
        seen.add(name)


def _value(line: int, cell: str, axis: Axis, problems: _Problems) -> float:
    where = f"line {line}, column {axis.id}"
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        problems.add(f"{where}: {cell!r} is not a number")
    elif not axis.contains(value):
        label = unit_label(axis.unit)
        problems.add(
            f"{where}: {value:g} {label} is outside the soft limits of {axis.id} "
            f"[{axis.min:g}, {axis.max:g}] {label}"
        )
    return value


def read_positions(path: Path, axes: Mapping[str, Axis], field: str) -> Positions:
    """The positions in the CSV file at ``path`` for a controller with ``axes`` (by id);
    InvalidParameters on ``field`` when anything is wrong (see the module docstring)."""
    problems = _Problems(field)
    rows = _rows(path, problems)
    first = next(rows, None)
    if first is None:
        if not problems.errors:  # not "empty" when it could not be read
            problems.add("the file is empty: write a header naming the axes (e.g. x,y), then rows")
        problems.raise_if_any()
    assert first is not None
    header = first[1]
    _header(first[0], header, axes, problems)
    problems.raise_if_any()
    columns = [axes[name] for name in header]
    points: list[tuple[float, ...]] = []
    for line, cells in rows:
        if len(points) == MAX_POINTS:
            problems.add(f"line {line}: more than {MAX_POINTS} positions; split the file")
            break
        if len(cells) != len(columns):
            problems.add(
                f"line {line}: {len(cells)} values, expected {len(columns)} ({', '.join(header)})"
            )
            continue
        points.append(
            tuple(_value(line, c, a, problems) for c, a in zip(cells, columns, strict=True))
        )
    if not points and not problems.errors:
        problems.add("no positions: the file has a header but no rows")
    problems.raise_if_any()
    return Positions(tuple(header), points)
