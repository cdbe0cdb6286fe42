"""Options of the ``visa`` controller: where the instrument is, its axes, and the command table
that says how to talk to it.

A command table is a set of templates and response patterns. In a template ``{axis}`` is the
axis' address on the instrument (``"1"`` for an SMC100 at address 1) and ``{value}`` the
number, encoded as the table says (decimal text, or 32-bit two's complement hex counts). A
response pattern is a regular expression matched against a whole reply line, with ``{axis}``
replaced by the escaped address and a named group ``value``.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..reconnect import BackoffOptions


class Query(BaseModel):
    """A command that is answered by one line."""

    model_config = ConfigDict(extra="forbid")

    command: str = Field(min_length=1, description="Template, e.g. '{axis}TP'")
    pattern: str = Field(
        min_length=1,
        description="Regex of the reply with a 'value' group, e.g. '{axis}TP(?P<value>.+)'",
    )

    @field_validator("pattern")
    @classmethod
    def _has_value_group(cls, pattern: str) -> str:
        try:
            compiled = re.compile(pattern.replace("{axis}", "0"))
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        if "value" not in compiled.groupindex:
            raise ValueError("needs a named group 'value', e.g. (?P<value>[-0-9.]+)")
        return pattern


class StateQuery(Query):
    """A query whose ``value`` is a state code: moving, faulted or neither."""

    moving: list[str] = Field(min_length=1, description="State codes that mean 'in motion'")
    faults: dict[str, str] = Field(
        default_factory=dict, description="State codes that mean a fault, with the reason"
    )


class ErrorQuery(Query):
    """Asked after each motion command: ``value`` equal to ``ok`` means it was accepted."""

    ok: str = Field(description="The value meaning 'no error', e.g. '@' on an SMC100")
    errors: dict[str, str] = Field(default_factory=dict, description="Code → explanation")


class SerialSettings(BaseModel):
    """Line settings applied when the resource is a serial port (``ASRL…``)."""

    model_config = ConfigDict(extra="forbid")

    baud_rate: int = Field(default=9600, gt=0)
    flow_control: Literal["none", "xon_xoff", "rts_cts"] = "none"


class CommandTable(BaseModel):
    """How to drive one family of controllers. See ``docs/hardware.md`` for the shipped ones."""

    model_config = ConfigDict(extra="forbid")

    move_absolute: str = Field(
        description="Template with {axis} and {value}, e.g. '{axis}PA{value}'"
    )
    move_relative: str | None = Field(
        default=None, description="Template; without it relative moves are sent as absolute ones"
    )
    stop: str = Field(description="Template; sent without waiting for a reply, e.g. '{axis}ST'")
    velocity: str | None = Field(
        default=None, description="Template sent before each move with the speed as {value}"
    )
    position: Query
    state: StateQuery
    min_limit: Query | None = Field(default=None, description="Asked for axes without 'min'")
    max_limit: Query | None = Field(default=None, description="Asked for axes without 'max'")
    error: ErrorQuery | None = None
    signal: Query | None = Field(default=None, description="A detector reading, if any")
    encoding: Literal["decimal", "hex32"] = Field(
        default="decimal",
        description="'decimal' text, or 'hex32': counts as 8 hex digits, two's complement",
    )
    decimals: int = Field(default=6, ge=0, le=12, description="Digits after the point (decimal)")
    counts_per_unit: float | None = Field(
        default=None, gt=0, description="hex32: encoder counts per axis unit (or per axis)"
    )
    write_termination: str = "\r\n"
    read_termination: str = "\r\n"
    serial: SerialSettings = Field(default_factory=SerialSettings)

    @model_validator(mode="after")
    def _templates_have_placeholders(self) -> CommandTable:
        for name in ("move_absolute", "move_relative", "velocity"):
            template = getattr(self, name)
            if template is not None and "{value}" not in template:
                raise ValueError(f"{name}: the template needs a {{value}} placeholder")
        return self


class VisaAxisOptions(BaseModel):
    """One axis of the instrument."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_]+$", description="Interlock's axis id")
    address: str = Field(default="1", description="What {axis} becomes in the command table")
    name: str = ""
    unit: str = Field(default="mm", description="'um', 'mm', 'deg' or any other unit")
    min: float | None = Field(default=None, description="Soft limit; asked (min_limit) if unset")
    max: float | None = Field(default=None, description="Soft limit; asked (max_limit) if unset")
    max_speed: float | None = Field(default=None, gt=0, description="Faster moves are refused")
    counts_per_unit: float | None = Field(
        default=None, gt=0, description="hex32 tables: encoder counts per unit of this axis"
    )

    @model_validator(mode="after")
    def _limits_in_order(self) -> VisaAxisOptions:
        for bound in (self.min, self.max):
            if bound is not None and not math.isfinite(bound):
                raise ValueError("limits must be finite")
        if self.min is not None and self.max is not None and not self.min < self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


class VisaOptions(BaseModel):
    """Options of the ``visa`` controller."""

    model_config = ConfigDict(extra="forbid")

    resource: str = Field(
        min_length=1,
        description="VISA resource: 'ASRL/dev/ttyUSB0::INSTR', 'TCPIP::10.0.0.5::5000::SOCKET', "
        "'USB0::…::INSTR'",
    )
    backend: str = Field(
        default="@py", description="PyVISA backend: '@py' (pyvisa-py), or 'file.yaml@sim'"
    )
    commands: Literal["smc100", "elliptec"] | CommandTable = Field(
        default="smc100", description="A shipped command table by name, or a table"
    )
    axes: list[VisaAxisOptions] = Field(min_length=1)
    timeout: float = Field(default=1.0, gt=0, le=60, description="Seconds to wait for a reply")
    open_timeout: float = Field(default=2.0, gt=0, le=60, description="Seconds to connect")
    write_termination: str | None = Field(default=None, description="Overrides the table's")
    read_termination: str | None = Field(default=None, description="Overrides the table's")
    baud_rate: int | None = Field(default=None, gt=0, description="Overrides the table's")
    signal: Query | None = Field(
        default=None,
        description="The detector reading (read_signal), asked with the first axis' address; "
        "overrides the table's",
    )
    reconnect: BackoffOptions = Field(default_factory=BackoffOptions)

    @model_validator(mode="after")
    def _axes_fit_the_table(self) -> VisaOptions:
        from .tables import command_table

        table = command_table(self.commands)
        ids = [axis.id for axis in self.axes]
        if len(set(ids)) != len(ids):
            raise ValueError("axis ids must be unique")
        for axis in self.axes:
            if axis.min is None and table.min_limit is None:
                raise ValueError(f"axis {axis.id!r}: 'min' is required (the table cannot ask)")
            if axis.max is None and table.max_limit is None:
                raise ValueError(f"axis {axis.id!r}: 'max' is required (the table cannot ask)")
            counts = axis.counts_per_unit or table.counts_per_unit
            if table.encoding == "hex32" and counts is None:
                raise ValueError(
                    f"axis {axis.id!r}: 'counts_per_unit' is required by a hex32 command table "
                    "(encoder counts per unit; see the device's manual)"
                )
        return self
