"""Controllers the contract suite (``test_contract.py``) runs against, by name.

A *rig* is a connected controller plus the means to cut and mend its link, so the suite can
test link loss and reconnection against the real protocol peer. Each plug-in registers its
rig in a module of its own, ``tests/hardware/rigs_<name>.py``, found here by its name:

    from tests.hardware.rigs import Rig, rig

    @rig("epics")
    @contextmanager
    def epics_rig(tmp_path: Path) -> Iterator[Rig]:
        pytest.importorskip("caproto")      # optional extra missing: the params skip
        ioc = start_ioc(...)                # the real peer, on loopback
        controller = load_controller("epics", {...})
        try:
            yield Rig(controller, break_link=ioc.kill, restore_link=ioc.start)
        finally:
            controller.close()
            ioc.kill()

Everything a rig starts it also ends, whatever the test did.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from interlock.hardware import Controller

RigFactory = Callable[[Path], AbstractContextManager["Rig"]]


@dataclass
class Rig:
    """A controller under test and its link."""

    controller: Controller
    break_link: Callable[[], None]
    """Make the controller's peer unreachable (kill the IOC, close the instrument's
    socket...); returns once it is."""
    restore_link: Callable[[], None]
    """Bring the peer back at the same address; the controller must reconnect by itself."""
    axis: str | None = None
    """The axis the suite moves; the first axis when None."""
    move_seconds: float = 1.0
    """Roughly how long the suite's long moves take; long enough to stop one mid-way."""
    settle: float = 10.0
    """Seconds the suite waits for what takes time on this peer: a stopped axis coming to
    rest, link loss being noticed, a reconnect."""


RIGS: dict[str, RigFactory] = {}


def rig(name: str) -> Callable[[RigFactory], RigFactory]:
    """Register a rig factory under ``name`` (the contract suite's parameter id)."""

    def register(factory: RigFactory) -> RigFactory:
        if name in RIGS:
            raise ValueError(f"rig {name!r} registered twice")
        RIGS[name] = factory
        return factory

    return register


def load_rigs() -> dict[str, RigFactory]:
    """Import every ``tests/hardware/rigs_*.py`` (each registers its rigs) and return them."""
    here = Path(__file__).parent
    for module in pkgutil.iter_modules([str(here)]):
        if module.name.startswith("rigs_"):
            importlib.import_module(f"{__package__}.{module.name}")
    return RIGS
