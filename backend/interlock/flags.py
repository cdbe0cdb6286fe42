"""Every ``Settings`` field as a command-line flag, and the README's table of them.

Flags are generated from the model, so a setting added to ``Settings`` is a flag of
``interlock serve`` (and a row of the README table) without further work:

- ``history_size`` -> ``--history-size``; the help is the field's description, its
  ``INTERLOCK_`` variable and its default;
- a ``bool`` -> ``--flag`` / ``--no-flag``;
- a ``list`` -> one comma-separated value (``--allowed-origins a,b``; ``''`` for none);
- a field that may be ``None`` takes ``none`` for it;
- everything else is handed to pydantic as text, which converts and validates it.

Precedence: a flag given on the command line > its environment variable > the default.
A value pydantic rejects, from a flag or from the environment, is a usage error (exit 2)
that names the flag or variable and quotes pydantic's message.
"""

from __future__ import annotations

import argparse
import enum
import types
from pathlib import Path, PurePath
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import SettingsError

from .settings import Settings

NONE = "none"


def flag_name(field: str) -> str:
    """``history_size`` -> ``--history-size``."""
    return "--" + field.replace("_", "-")


def env_name(field: str) -> str:
    """``history_size`` -> ``INTERLOCK_HISTORY_SIZE``."""
    prefix: str = Settings.model_config.get("env_prefix", "")
    return f"{prefix}{field}".upper()


def default_text(info: FieldInfo) -> str:
    """The default as a person would type it (``none`` when there is none)."""
    value = info.get_default(call_default_factory=True)
    if value is None or value is PydanticUndefined or value == []:
        return NONE
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, PurePath) and not value.is_absolute():
        return f"./{value.as_posix()}"  # as the Makefile and the docs spell it
    return str(value)


def _is_list(annotation: Any) -> bool:
    return get_origin(annotation) is list


def _allows_none(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


def _comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _none_or_text(text: str) -> str | None:
    return None if text.strip().lower() == NONE else text


def _help(name: str, info: FieldInfo) -> str:
    described = (info.description or "").rstrip(".")
    text = f"{described} ({env_name(name)}; default: {default_text(info)})"
    return text.replace("%", "%%")  # argparse formats help with %


_METAVARS: dict[Any, str] = {int: "N", float: "NUMBER", str: "TEXT", Path: "PATH"}


def _metavar(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return "{" + ",".join(str(choice) for choice in get_args(annotation)) + "}"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "{" + ",".join(str(member.value) for member in annotation) + "}"
    if _allows_none(annotation):
        other = [arg for arg in get_args(annotation) if arg is not type(None)]
        return f"{_metavar(other[0]) if len(other) == 1 else 'VALUE'}|{NONE}"
    return _METAVARS.get(annotation, "VALUE")


def add_settings_flags(parser: argparse.ArgumentParser) -> None:
    """Add one flag per ``Settings`` field. A flag not given is absent from the namespace
    (so it overrides nothing, and ``--task-timeout none`` can still mean ``None``)."""
    group = parser.add_argument_group("settings (each also an INTERLOCK_* variable)")
    for name, info in Settings.model_fields.items():
        flag, annotation = flag_name(name), info.annotation
        kwargs: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS}
        kwargs["help"] = _help(name, info)
        if annotation is bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, **kwargs)
        elif _is_list(annotation):
            group.add_argument(flag, type=_comma_list, metavar="A,B,…", **kwargs)
        elif _allows_none(annotation):
            group.add_argument(flag, type=_none_or_text, metavar=_metavar(annotation), **kwargs)
        else:
            group.add_argument(flag, metavar=_metavar(annotation), **kwargs)


def settings_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Settings:
    """``Settings`` from the flags given (over the environment, over the defaults).

    A rejected value ends the program with ``parser.error`` (usage, message, exit 2).
    """
    given = {name: value for name, value in vars(args).items() if name in Settings.model_fields}
    try:
        return Settings(**given)
    except ValidationError as exc:
        parser.error("; ".join(_explain(error, given) for error in exc.errors()))
    except SettingsError as exc:  # an environment variable that could not even be parsed
        parser.error(str(exc))


def _explain(error: Any, given: dict[str, Any]) -> str:
    field = str(error["loc"][0]) if error["loc"] else ""
    if field in given:
        source = f"argument {flag_name(field)}"
    elif field in Settings.model_fields:
        source = f"environment variable {env_name(field)}"
    else:
        source = "settings"
    return f"{source}: {error['msg']} (got {error['input']!r})"


BEGIN = "<!-- BEGIN GENERATED SETTINGS TABLE (python -m interlock.flags --docs README.md) -->"
END = "<!-- END GENERATED SETTINGS TABLE -->"


def settings_table() -> str:
    """The Markdown table of every setting, as the README embeds it."""
    rows = ["| flag / variable | default | meaning |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        meaning = (info.description or "").replace("|", "\\|")
        rows.append(
            f"| `{flag_name(name)}` / `{env_name(name)}` | `{default_text(info)}` | {meaning} |"
        )
    return "\n".join(rows)


def render_docs(text: str) -> str:
    """``text`` with the table between the markers replaced by the current one."""
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{settings_table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m interlock.flags", description=__doc__)
    parser.add_argument("--docs", metavar="FILE", help="rewrite the table in FILE")
    args = parser.parse_args(argv)
    if args.docs:
        with open(args.docs, encoding="utf-8") as file:
            text = file.read()
        with open(args.docs, "w", encoding="utf-8") as file:
            file.write(render_docs(text))
    else:
        print(settings_table())  # noqa: T201 - the command's output


if __name__ == "__main__":
    main()
