"""Task parameters that are uploaded files: ``Annotated[str, InputFile(suffixes=(".csv",))]``.

The JSON value of such a parameter is the ``upload_id`` that ``POST /uploads`` returned.
Pydantic checks its form; :func:`claim_inputs` (run by the session manager when a task is
submitted) checks that the upload exists and has an allowed suffix, and marks it used; the
task reads the file at ``ctx.input_path("field")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from ..exceptions import InvalidParameters
from .files import UploadStore, is_upload_id

#: JSON Schema ``format`` of an input file parameter (the console renders a file picker).
FORMAT = "interlock-upload"
#: JSON Schema key listing the suffixes an input file may have (empty: any).
SUFFIXES_KEY = "x-interlock-suffixes"
#: Key of the app's :class:`UploadStore` in the services tasks see.
SERVICE = "uploads"


class UploadRef(str):
    """An upload id as a validated parameter holds it, with the suffixes its field allows."""

    suffixes: tuple[str, ...]

    def __new__(cls, value: str, suffixes: tuple[str, ...] = ()) -> UploadRef:
        ref = super().__new__(cls, value)
        ref.suffixes = suffixes
        return ref


@dataclass(frozen=True)
class InputFile:
    """Marks a ``str`` parameter as an uploaded file, allowed only with one of ``suffixes``
    (case-insensitive, e.g. ``(".csv", ".fasta")``; empty allows any)."""

    suffixes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        normal = tuple(s.lower() if s.startswith(".") else f".{s.lower()}" for s in self.suffixes)
        object.__setattr__(self, "suffixes", normal)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._validate, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        out.update({"format": FORMAT, SUFFIXES_KEY: list(self.suffixes)})
        return out

    def _validate(self, value: str) -> UploadRef:
        if not is_upload_id(value):
            raise ValueError(
                "not an upload id: upload the file with POST /uploads and send its upload_id"
            )
        return UploadRef(value, self.suffixes)

    def allows(self, filename: str) -> bool:
        return not self.suffixes or filename.lower().endswith(self.suffixes)


def input_files(params: BaseModel) -> dict[str, UploadRef]:
    """Every input file of validated parameters, by field path (``positions``, ``files.0``)."""
    found: dict[str, UploadRef] = {}

    def walk(value: Any, path: list[str]) -> None:
        if isinstance(value, UploadRef):
            found[".".join(path)] = value
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name), [*path, name])
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                walk(item, [*path, str(index)])
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, [*path, str(key)])

    walk(params, [])
    return found


def uploads_of(services: dict[str, Any]) -> UploadStore:
    """The app's upload store (``services["uploads"]``)."""
    uploads = services.get(SERVICE)
    if not isinstance(uploads, UploadStore):
        raise LookupError("no upload store is configured (services['uploads'])")
    return uploads


async def claim_inputs(params: BaseModel, services: dict[str, Any]) -> None:
    """Check every input file of ``params`` (the upload exists, its name has an allowed
    suffix) and mark each used. InvalidParameters names every field that fails; then none
    is marked."""
    refs = input_files(params)
    if not refs:
        return
    uploads = uploads_of(services)
    errors = []
    for field, ref in refs.items():
        upload = await uploads.get(ref)
        if upload is None:
            errors.append({"field": field, "message": _unknown(ref, uploads)})
        elif not InputFile(ref.suffixes).allows(upload.filename):
            allowed = ", ".join(ref.suffixes)
            errors.append(
                {"field": field, "message": f"{upload.filename!r} is not a {allowed} file"}
            )
    if errors:
        raise InvalidParameters(errors)
    for field, ref in refs.items():
        if await uploads.use(ref) is None:  # removed since it was checked
            raise InvalidParameters([{"field": field, "message": _unknown(ref, uploads)}])


def _unknown(ref: str, uploads: UploadStore) -> str:
    hours = uploads.ttl.total_seconds() / 3600
    return (
        f"unknown upload {ref!r}: upload the file again (uploads no task used for "
        f"{hours:g} h are removed)"
    )
