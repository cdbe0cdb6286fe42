"""The ``visa`` controller's rig: the ``smc100`` command table over TCP to the SMC100-style
instrument simulator (``smc100_sim.py``), whose link is cut by killing it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from interlock.hardware import load_controller
from tests.hardware.rigs import Rig, rig


@rig("visa")
@contextmanager
def visa_rig(tmp_path: Path) -> Iterator[Rig]:
    pytest.importorskip("pyvisa_py")
    from tests.hardware.smc100_sim import Smc100Simulator

    with Smc100Simulator() as instrument:
        controller = load_controller(
            "visa",
            {
                "resource": instrument.resource,
                "commands": "smc100",
                "axes": [
                    {"id": "x", "address": "1", "unit": "um"},
                    {"id": "y", "address": "2", "unit": "um"},
                ],
                "signal": {"command": "{axis}SG?", "pattern": "{axis}SG(?P<value>.+)"},
                "timeout": 1.5,  # a loaded machine may starve the instrument thread a while
                "reconnect": {"initial": 0.02, "maximum": 0.1},
            },
        )
        try:
            yield Rig(
                controller,
                break_link=instrument.kill,
                restore_link=instrument.restart,
                move_seconds=0.5,
                settle=5.0,
            )
        finally:
            controller.close()
