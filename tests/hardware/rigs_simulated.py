"""The simulator's rig: its link is cut and mended in-process (``break_link``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from interlock.hardware import Backoff, SimulatedController
from tests.hardware.rigs import Rig, rig


@rig("simulated")
@contextmanager
def simulated_rig(tmp_path: Path) -> Iterator[Rig]:
    controller = SimulatedController(
        acceleration=20_000.0, backoff=Backoff(initial=0.01, maximum=0.05)
    )
    try:
        yield Rig(
            controller,
            break_link=controller.break_link,
            restore_link=controller.restore_link,
            move_seconds=0.3,
            settle=5.0,
        )
    finally:
        controller.close()
