"""Strict JSON: the one decoder for every client message and every REST body.

Python's ``json`` module accepts more than RFC 8259 JSON, and the extras break things later,
far from the input that caused them: ``NaN`` and ``Infinity`` cannot be written back as JSON,
a ``"\\ud800"`` escape decodes to a lone surrogate that SQLite and UTF-8 cannot encode, and
deep nesting exhausts the recursion limit of whatever walks the value next. ``loads`` refuses
all three up front with :class:`InvalidJSON`, a ``ValueError`` whose message says what and
where.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Deepest nesting of arrays and objects accepted (a form or task parameters need a handful).
MAX_DEPTH = 64

# A \uD800-\uDFFF escape: only then can a decoded string hold a surrogate (pairs are joined
# into one code point by the decoder, so any surrogate left over is a lone one).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class InvalidJSON(json.JSONDecodeError):
    """Raised when a text is not strict JSON: ``msg`` says what, ``pos`` where (0 if unknown).

    A ``json.JSONDecodeError`` (so a ``ValueError``) on purpose: FastAPI answers one raised
    while it reads a request body with its standard 422.
    """

    def __init__(self, msg: str, doc: str = "", pos: int = 0) -> None:
        super().__init__(msg, doc, min(pos, len(doc)))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(data: str | bytes | bytearray) -> Any:
    """Decode ``data`` (bytes must be UTF-8) or raise :class:`InvalidJSON`.

    Guarantees: the result holds no NaN or infinite float, no lone surrogate in any key or
    string, and nests at most :data:`MAX_DEPTH` arrays and objects deep.
    """
    if isinstance(data, bytes | bytearray):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidJSON(f"not UTF-8 at byte {exc.start}: {exc.reason}") from None
    else:
        text = data
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InvalidJSON(exc.msg, text, exc.pos) from None
    except RecursionError:
        raise InvalidJSON(f"nested more than {MAX_DEPTH} deep", text) from None
    except ValueError as exc:  # NaN/Infinity, or an integer past the interpreter's digit limit
        raise InvalidJSON(str(exc), text) from None
    # Both checks walk the value; the cheap scans of the text skip them for everyday input.
    deep = text.count("[") + text.count("{") > MAX_DEPTH
    surrogates = _SURROGATE_ESCAPE.search(text) is not None
    if deep or surrogates:
        _check(value, surrogates, text)
    return value


def _check(value: Any, surrogates: bool, text: str) -> None:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if surrogates and _SURROGATE.search(item):
                raise InvalidJSON("lone surrogate (an unpaired \\uD800-\\uDFFF escape)", text)
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise InvalidJSON(f"nested more than {MAX_DEPTH} deep", text)
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)
