"""Receiving ``POST /uploads``: a ``multipart/form-data`` body streamed straight to disk.

The body is parsed as it arrives (python-multipart's streaming parser fed from the request
stream), the file part's bytes are counted, hashed and written chunk by chunk, and the
size cap is enforced on the way: the body is never held whole in memory, and a file over
the cap is refused (413) the moment it passes it, its partial file removed. Anything else
wrong with the body is an :class:`~interlock.exceptions.UploadRejected` with its status.
"""

from __future__ import annotations

import errno
import re
import unicodedata
from collections.abc import AsyncIterator
from urllib.parse import unquote

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import Headers

from ..bodies import BodyTooLarge
from ..exceptions import UploadRejected
from .files import PendingUpload, Upload, UploadStore

#: The one part ``POST /uploads`` takes.
FILE_PART = "file"
#: What a multipart body may add around the file (boundaries, part headers): the body cap of
#: the route is the upload cap plus this.
ENVELOPE_BYTES = 64 * 1024
_MAX_HEADER_BYTES = 8 * 1024
_MAX_NAME = 255
_CONTENT_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+")


def too_large(limit: int) -> UploadRejected:
    return UploadRejected(
        413, f"Upload too large: the limit is {limit / 1024 / 1024:g} MiB ({limit} bytes)"
    )


def unstorable(exc: OSError) -> UploadRejected:
    """The disk refused the upload: 507 when it is full, 503 for any other I/O error."""
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    why = exc.strerror or str(exc)
    return UploadRejected(507 if full else 503, f"The server could not store the upload: {why}")


def display_name(raw: str) -> str:
    """A client's file name made safe to show: no directories, no control or bidi
    characters, at most 255 characters (the suffix kept). It never names a path."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    name = name.strip()
    if len(name) > _MAX_NAME:
        stem, dot, suffix = name.rpartition(".")
        suffix = f".{suffix}"[:16] if dot else ""
        name = (stem if dot else name)[: _MAX_NAME - len(suffix)] + suffix
    return name or "upload"


def _boundary(headers: Headers) -> bytes:
    ctype, options = parse_options_header(headers.get("content-type", ""))
    if ctype != b"multipart/form-data":
        raise UploadRejected(415, "POST /uploads takes multipart/form-data with one part 'file'")
    boundary = options.get(b"boundary", b"")
    if not boundary:
        raise UploadRejected(400, "multipart/form-data without a boundary")
    return boundary


def _filename(options: dict[bytes, bytes]) -> str | None:
    """``filename*=UTF-8''…`` (RFC 5987) if given, else ``filename``; None for a field."""
    extended = options.get(b"filename*")
    if extended is not None:
        charset, _, encoded = extended.decode("latin-1").partition("''")
        try:
            return unquote(encoded, encoding=charset or "utf-8", errors="replace")
        except LookupError:
            return unquote(encoded, errors="replace")
    plain = options.get(b"filename")
    return None if plain is None else plain.decode("utf-8", errors="replace")


class _Parts:
    """python-multipart callbacks: the part headers, and the file's bytes into ``pending``."""

    def __init__(self, pending: PendingUpload, limit: int) -> None:
        self.pending = pending
        self.limit = limit
        self.filename: str | None = None
        self.content_type = "application/octet-stream"
        self.ended = False
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self._header_bytes = 0
        self._in_file = False

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _begin(self) -> None:
        self._headers = {}
        self._header_bytes = 0

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > _MAX_HEADER_BYTES:
            raise UploadRejected(400, f"multipart part headers over {_MAX_HEADER_BYTES} bytes")

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._count(end - start)
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._count(end - start)
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.strip().lower()] = self._value.strip()
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", errors="replace")
        filename = _filename(options)
        if name != FILE_PART:
            raise UploadRejected(
                422, f"unexpected part {name!r}: send one part named 'file'", field=name or None
            )
        if filename is None:
            raise UploadRejected(422, "the part 'file' is not a file (no filename)", FILE_PART)
        if self.filename is not None:
            raise UploadRejected(422, "one file per upload: send each file by itself", FILE_PART)
        self.filename = display_name(filename)
        ctype = self._headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip()
        if _CONTENT_TYPE.fullmatch(ctype) and len(ctype) <= 127:
            self.content_type = ctype.lower()
        self._in_file = True

    def _data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file:
            return
        if self.pending.size + (end - start) > self.limit:
            raise too_large(self.limit)
        self.pending.add(data[start:end])

    def _part_end(self) -> None:
        self._in_file = False

    def _end(self) -> None:
        self.ended = True


async def receive_upload(
    headers: Headers,
    body: AsyncIterator[bytes],
    uploads: UploadStore,
    *,
    limit: int,
    uploaded_by: str | None,
) -> Upload:
    """Stream one multipart body into ``uploads``; the stored upload, or UploadRejected
    (nothing kept). ``limit`` is the largest file in bytes."""
    boundary = _boundary(headers)
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + ENVELOPE_BYTES:
        raise too_large(limit)  # before a byte is read
    try:
        pending = await uploads.begin()
    except OSError as exc:
        raise unstorable(exc) from exc
    try:
        parts = _Parts(pending, limit)
        parser = MultipartParser(boundary, parts.callbacks())  # type: ignore[arg-type]
        try:
            async for chunk in body:
                try:
                    parser.write(chunk)
                except MultipartParseError as exc:
                    raise UploadRejected(400, f"malformed multipart body: {exc}") from None
                await pending.flush()
        except BodyTooLarge:  # the route's body cap (upload cap + envelope) was passed first
            raise too_large(limit) from None
        if not parts.ended:
            raise UploadRejected(400, "the multipart body ended before its closing boundary")
        if parts.filename is None:
            raise UploadRejected(422, "no file: send one part named 'file'", FILE_PART)
        return await uploads.commit(
            pending,
            filename=parts.filename,
            content_type=parts.content_type,
            uploaded_by=uploaded_by,
        )
    except OSError as exc:  # a full or failing disk, while writing or committing
        pending.discard()
        raise unstorable(exc) from exc
    except BaseException:
        pending.discard()
        raise
