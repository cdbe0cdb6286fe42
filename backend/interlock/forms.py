"""Input forms: what ``ctx.ask`` accepts, what goes on the wire, and how answers validate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, EmailStr, ValidationError, create_model
from pydantic_core import ErrorDetails

from .exceptions import ValidationFailed
from .protocol import InputField

_TYPES: dict[str, Any] = {
    "string": str,
    "str": str,
    "text": str,
    "integer": int,
    "int": int,
    "number": float,
    "float": float,
    "boolean": bool,
    "bool": bool,
    "email": EmailStr,
}

FieldSpec = Mapping[str, Any] | InputField
FormSpec = type[BaseModel] | Sequence[FieldSpec]


#: What pydantic writes before the message of a ValueError / AssertionError a validator
#: raised. People read these messages (the console shows them under the field), and the
#: prefix only says which Python exception carried the text.
_PYTHON_PREFIXES = {"value_error": "Value error, ", "assertion_error": "Assertion failed, "}


def error_message(err: ErrorDetails | Mapping[str, Any]) -> str:
    """A pydantic error's message as people should read it: without "Value error, "."""
    msg = str(err["msg"])
    prefix = _PYTHON_PREFIXES.get(str(err.get("type")))
    return msg.removeprefix(prefix) if prefix else msg


def field_errors(exc: ValidationError, *, strip: int = 0) -> list[dict[str, str]]:
    """Pydantic errors as ``[{field, message}]``; ``strip`` drops leading ``loc`` parts.
    Messages are clean (see :func:`error_message`)."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"][strip:]]
        out.append({"field": ".".join(loc) or "__root__", "message": error_message(err)})
    return out


class Form:
    """A validated form: its wire fields, its JSON Schema, and its pydantic model."""

    def __init__(self, model: type[BaseModel], fields: list[InputField]) -> None:
        self.model = model
        self.fields = fields
        self.schema: dict[str, Any] = model.model_json_schema()

    @classmethod
    def build(cls, spec: FormSpec) -> Form:
        """From a pydantic model class or a list of POC-style field dicts."""
        if isinstance(spec, type) and issubclass(spec, BaseModel):
            return cls(spec, _fields_of(spec))
        fields = [f if isinstance(f, InputField) else InputField.model_validate(f) for f in spec]
        if not fields:
            raise ValueError("a form needs at least one field")
        definitions: dict[str, Any] = {}
        for f in fields:
            if f.type not in _TYPES:
                raise ValueError(f"unknown field type {f.type!r} for field {f.name!r}")
            py_type = _TYPES[f.type]
            if f.required and f.value is None:
                definitions[f.name] = (py_type, ...)
            else:
                definitions[f.name] = (py_type | None, f.value)
        model = create_model("Form", **definitions)
        return cls(model, fields)

    def validate(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The answer as a dict, or ValidationFailed with per-field errors."""
        try:
            return self.model.model_validate(dict(values)).model_dump(mode="json")
        except ValidationError as exc:
            raise ValidationFailed(field_errors(exc)) from None


def _fields_of(model: type[BaseModel]) -> list[InputField]:
    props = model.model_json_schema().get("properties", {})
    out = []
    for name, info in model.model_fields.items():
        prop = props.get(name, {})
        kind = prop.get("type") or ("email" if prop.get("format") == "email" else "string")
        if prop.get("format") == "email":
            kind = "email"
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        out.append(
            InputField(
                name=name,
                description=info.description or name,
                type=kind,
                value=default,
                required=info.is_required(),
            )
        )
    return out
