"""The EPICS plug-in's rig: a real caproto IOC of motor records in a subprocess, on loopback;
its link is cut by killing the IOC and mended by starting it again on the same port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from interlock.hardware import load_controller
from tests.hardware.rigs import Rig, rig
from tests.support.epics import EpicsIoc, shared_ioc  # sets Channel Access up for loopback


def epics_options(ioc: EpicsIoc) -> dict[str, object]:
    """Options for the simulated IOC's x, y (µm) and the detector: what the tests configure."""
    return {
        "axes": {
            "x": {"pv": ioc.pv("m1"), "unit": "um", "max_speed": 10_000},
            "y": {"pv": ioc.pv("m2"), "unit": "um"},
        },
        "signal": ioc.pv("det"),
        "reconnect": {"initial": 0.05, "maximum": 0.5},
    }


@rig("epics")
@contextmanager
def epics_rig(tmp_path: Path) -> Iterator[Rig]:
    pytest.importorskip("caproto")
    pytest.importorskip("ophyd")
    ioc = shared_ioc()  # one per process, so the suite does not wait for an IOC per test
    controller = load_controller("epics", epics_options(ioc))
    try:
        yield Rig(
            controller,
            break_link=ioc.kill,
            restore_link=ioc.start,
            axis="x",
            move_seconds=1.0,
            settle=10.0,
        )
    finally:
        controller.close()
