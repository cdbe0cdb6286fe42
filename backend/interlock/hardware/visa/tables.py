"""The command tables shipped with the ``visa`` controller, by name.

* ``smc100``: Newport SMC100CC / SMC100PP single-axis controllers (and their daisy chains),
  from the command list of Newport's *SMC100CC & SMC100PP User's Manual*. Replies echo the
  address and the command; ``TS`` answers four hex digits of positioner errors and two of
  controller state; ``TE`` answers the last command error (``@`` = none).
* ``elliptec``: Thorlabs Elliptec ELLx piezo stages and mounts (ELL14, ELL18, ELL20…), from
  Thorlabs' *ELLx modules protocol manual*. Positions are encoder counts as eight hex digits;
  ``gs`` answers a status code (``09`` = busy); the speed is not set per move.

``docs/hardware.md`` lists both tables command by command.
"""

from __future__ import annotations

from .options import CommandTable, ErrorQuery, Query, SerialSettings, StateQuery

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"

SMC100 = CommandTable(
    move_absolute="{axis}PA{value}",
    move_relative="{axis}PR{value}",
    stop="{axis}ST",
    velocity="{axis}VA{value}",
    position=Query(command="{axis}TP", pattern=rf"{{axis}}TP(?P<value>{_NUMBER})"),
    state=StateQuery(
        command="{axis}TS",
        pattern=r"{axis}TS[0-9A-Fa-f]{4}(?P<value>[0-9A-Fa-f]{2})",
        moving=["1E", "1F", "28", "46", "47"],
        faults={
            **{f"{code:02X}": "not referenced (home the axis)" for code in range(0x0A, 0x12)},
            "14": "in configuration",
            "3C": "disabled",
            "3D": "disabled",
            "3E": "disabled",
        },
    ),
    min_limit=Query(command="{axis}SL?", pattern=rf"{{axis}}SL(?P<value>{_NUMBER})"),
    max_limit=Query(command="{axis}SR?", pattern=rf"{{axis}}SR(?P<value>{_NUMBER})"),
    error=ErrorQuery(
        command="{axis}TE",
        pattern=r"{axis}TE(?P<value>.)",
        ok="@",
        errors={
            "A": "unknown message code",
            "B": "incorrect address",
            "C": "parameter missing or out of range",
            "D": "execution not allowed",
            "G": "displacement out of limits",
            "H": "not allowed in NOT REFERENCED state",
            "I": "not allowed in CONFIGURATION state",
            "J": "not allowed in DISABLE state",
            "K": "not allowed in READY state",
            "L": "not allowed in HOMING state",
            "M": "not allowed in MOVING state",
            "N": "current position out of software limit",
            "S": "communication time out",
            "V": "error during command execution",
        },
    ),
    encoding="decimal",
    decimals=6,
    write_termination="\r\n",
    read_termination="\r\n",
    serial=SerialSettings(baud_rate=57600, flow_control="xon_xoff"),
)

ELLIPTEC = CommandTable(
    move_absolute="{axis}ma{value}",
    move_relative="{axis}mr{value}",
    stop="{axis}st",
    velocity=None,
    position=Query(command="{axis}gp", pattern=r"{axis}PO(?P<value>[0-9A-Fa-f]{8})"),
    state=StateQuery(
        command="{axis}gs",
        pattern=r"{axis}GS(?P<value>[0-9A-Fa-f]{2})",
        moving=["09"],
        faults={
            "02": "mechanical time-out",
            "05": "module isolated",
            "07": "initialisation error",
            "08": "thermal error",
            "0A": "sensor error",
            "0B": "motor error",
            "0C": "out of range",
            "0D": "over current",
        },
    ),
    encoding="hex32",
    counts_per_unit=None,  # per model (ELL14, ELL18, ELL20 differ): set it on each axis
    write_termination="",
    read_termination="\r\n",
    serial=SerialSettings(baud_rate=9600, flow_control="none"),
)

SHIPPED: dict[str, CommandTable] = {"smc100": SMC100, "elliptec": ELLIPTEC}


def command_table(commands: str | CommandTable) -> CommandTable:
    """The table itself, or the shipped one of that name."""
    return commands if isinstance(commands, CommandTable) else SHIPPED[commands]
