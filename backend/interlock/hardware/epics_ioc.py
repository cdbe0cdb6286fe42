"""A small EPICS IOC of simulated motor records, served over Channel Access by caproto.

The tests of the EPICS plug-in run it as a subprocess, and it makes a demo stage for
``INTERLOCK_CONTROLLER=epics`` on a machine without an IOC::

    python -m interlock.hardware.epics_ioc --prefix IOC:

serves ``IOC:m1`` … ``IOC:m5`` (the simulator's x, y, z, tx, ty) and ``IOC:det``, a detector
whose reading peaks where the simulator's signal does. Each motor is a ``motor`` record with
the fields a client uses (``VAL``, ``RBV``, ``DMOV``, ``MOVN``, ``HLM``, ``LLM``, ``VELO``,
``STOP``, ``EGU``, ``LVIO`` and the rest of caproto's motor record):

* a put to ``VAL`` inside ``[LLM, HLM]`` starts a move: ``DMOV`` drops to 0 and ``MOVN``
  rises to 1 before the put completes, then ``RBV`` travels towards ``VAL`` at ``VELO`` and is
  published every ``--tick`` seconds; at the target ``MOVN`` = 0, ``DMOV`` = 1. A put outside
  the limits sets ``LVIO`` = 1 and moves nothing, as the real record does.
* a put of 1 to ``STOP`` halts the motor where it is at once (no deceleration): ``VAL`` =
  ``RBV``, ``MOVN`` = 0, ``DMOV`` = 1.

It serves on loopback only unless ``EPICS_CAS_INTF_ADDR_LIST`` says otherwise, and sends its
beacons to ``127.0.0.1`` unless ``EPICS_CAS_BEACON_ADDR_LIST`` says otherwise; its UDP and
TCP port is ``EPICS_CA_SERVER_PORT`` (5064 when unset), its beacons go to
``EPICS_CA_REPEATER_PORT``. Once it serves it prints :data:`READY` and the port.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from caproto import ChannelType
from caproto.server import PVGroup, SubGroup, pvproperty, run
from caproto.server.records import MotorFields, register_record

READY = "epics_ioc: serving on port"
"""The line (followed by the TCP port) the IOC prints once it accepts clients."""


@dataclass(frozen=True)
class MotorSpec:
    """One simulated motor record: ``{prefix}{suffix}``, its unit, limits and speed."""

    suffix: str
    egu: str
    llm: float
    hlm: float
    velo: float
    position: float = 0.0
    center: float = 0.0
    """Where the detector's peak lies along this motor."""
    width: float = 1.0
    """Width (standard deviation) of the detector's peak along this motor."""


DEFAULT_MOTORS: tuple[MotorSpec, ...] = (
    MotorSpec("m1", "um", -10_000.0, 10_000.0, 1_000.0, center=120.0, width=50.0),
    MotorSpec("m2", "um", -10_000.0, 10_000.0, 1_000.0, center=-80.0, width=50.0),
    MotorSpec("m3", "um", 0.0, 5_000.0, 1_000.0, center=2_500.0, width=500.0),
    MotorSpec("m4", "deg", -5.0, 5.0, 2.0, center=0.3, width=1.0),
    MotorSpec("m5", "deg", -5.0, 5.0, 2.0, center=-0.2, width=1.0),
)


@dataclass(frozen=True, slots=True)
class Motion:
    """Constant-speed travel from ``start`` (at time ``t0``) to ``target``, then rest."""

    t0: float
    start: float
    target: float
    speed: float

    @classmethod
    def rest(cls, position: float) -> Motion:
        return cls(time.monotonic(), position, position, 1.0)

    def position(self, now: float) -> float:
        span = self.target - self.start
        travelled = self.speed * max(0.0, now - self.t0)
        if travelled >= abs(span):
            return self.target
        return self.start + math.copysign(travelled, span)

    def moving(self, now: float) -> bool:
        return self.position(now) != self.target


def _quiet_beacons(record: logging.LogRecord) -> bool:
    """Drop caproto's traceback for a beacon nobody listens to (no CA repeater running):
    clients here find the IOC by searching, so a refused beacon is routine, not an error."""
    return not record.getMessage().startswith("Failed to send beacon")


def _environment() -> None:
    """Loopback unless told otherwise; beacons to the clients' repeater port."""
    os.environ.setdefault("EPICS_CAS_INTF_ADDR_LIST", "127.0.0.1")
    os.environ.setdefault("EPICS_CAS_BEACON_ADDR_LIST", "127.0.0.1")
    os.environ.setdefault("EPICS_CAS_AUTO_BEACON_ADDR_LIST", "NO")
    if "EPICS_CA_REPEATER_PORT" in os.environ:
        os.environ.setdefault("EPICS_CAS_BEACON_PORT", os.environ["EPICS_CA_REPEATER_PORT"])


@register_record
class SimulatedMotorFields(MotorFields):  # type: ignore[misc]
    """The motor record's fields with a ``STOP`` that halts the simulated motor."""

    _record_type = "interlock_motor"
    stop = pvproperty(name="STOP", dtype=ChannelType.INT, doc="Stop")

    @stop.putter
    async def stop(self, instance: Any, value: int) -> int:
        if value:
            await self.parent.group.halt()
        return 0


class Motor(PVGroup):  # type: ignore[misc]
    """One motor record; its motion is :class:`Motion`, published by :meth:`run`."""

    record = pvproperty(value=0.0, name="", record="interlock_motor", precision=4)

    def __init__(self, *args: Any, spec: MotorSpec, tick: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        self.tick = tick
        self.motion = Motion.rest(spec.position)
        self.wake = asyncio.Event()
        self.ready = asyncio.Event()

    @property
    def fields(self) -> Any:
        return self.record.field_inst

    def position(self) -> float:
        return self.motion.position(time.monotonic())

    @record.startup
    async def record(self, instance: Any, async_lib: Any) -> None:
        f, spec = self.fields, self.spec
        await f.engineering_units.write(spec.egu)
        await f.user_low_limit.write(spec.llm)
        await f.user_high_limit.write(spec.hlm)
        await f.velocity.write(spec.velo)
        await f.max_velocity.write(spec.velo * 10)
        await instance.write(spec.position, verify_value=False)
        await f.user_readback_value.write(spec.position)
        await f.done_moving_to_value.write(1)
        self.ready.set()
        await self.run()

    @record.putter
    async def record(self, instance: Any, value: float) -> float:
        f = self.fields
        low, high = f.user_low_limit.value, f.user_high_limit.value
        if high > low and not low <= value <= high:
            await f.limit_violation.write(1)
            return float(instance.value)
        speed = f.velocity.value
        if not speed > 0:
            raise ValueError("VELO must be positive to move")
        await f.limit_violation.write(0)
        self.motion = Motion(time.monotonic(), self.position(), value, speed)
        await f.done_moving_to_value.write(0)
        await f.motor_is_moving.write(1)
        self.wake.set()
        return value

    async def halt(self) -> None:
        """``STOP``: rest where the motor is, at once."""
        here = self.position()
        self.motion = Motion.rest(here)
        await self.record.write(here, verify_value=False)
        await self.publish(here, moving=False)

    async def publish(self, position: float, *, moving: bool) -> None:
        f = self.fields
        await f.user_readback_value.write(position)
        await f.dial_readback_value.write(position)
        if not moving and f.motor_is_moving.value:
            await f.motor_is_moving.write(0)
            await f.done_moving_to_value.write(1)

    async def run(self) -> None:
        """Publish ``RBV`` every ``tick`` while the motor moves; sleep while it rests."""
        while True:
            if not self.motion.moving(time.monotonic()):
                if self.fields.motor_is_moving.value:
                    await self.publish(self.motion.target, moving=False)
                self.wake.clear()
                await self.wake.wait()
                continue
            now = time.monotonic()
            await self.publish(self.motion.position(now), moving=self.motion.moving(now))
            await asyncio.sleep(self.tick)


class IOC(PVGroup):  # type: ignore[misc]
    """Simulated motor records and a detector."""

    det = pvproperty(value=0.0, name="det", read_only=True, precision=6)

    def motors(self) -> list[Motor]:
        return [group for group in self.groups.values() if isinstance(group, Motor)]

    @det.getter
    async def det(self, instance: Any) -> float:
        exponent = 0.0
        for motor in self.motors():
            spec = motor.spec
            exponent += ((motor.position() - spec.center) / spec.width) ** 2
        return math.exp(-exponent / 2)


def build_ioc(prefix: str, motors: Sequence[MotorSpec] = DEFAULT_MOTORS, tick: float = 0.01) -> Any:
    """The IOC's ``PVGroup``: one motor record per spec and the detector ``{prefix}det``."""
    groups = {
        f"motor_{spec.suffix}": SubGroup(Motor, prefix=spec.suffix, spec=spec, tick=tick)
        for spec in motors
    }
    ioc_class = type("SimulatedMotorIOC", (IOC,), groups)
    return ioc_class(prefix=prefix)


def parse_motor(text: str) -> MotorSpec:
    """``SUFFIX:EGU:LLM:HLM:VELO[:POSITION]``, e.g. ``m1:um:-1000:1000:500``."""
    parts = text.split(":")
    if len(parts) not in (5, 6):
        raise argparse.ArgumentTypeError(f"expected SUFFIX:EGU:LLM:HLM:VELO[:POSITION], not {text}")
    suffix, egu, *numbers = parts
    try:
        llm, hlm, velo, *position = (float(n) for n in numbers)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc}") from exc
    return MotorSpec(suffix, egu, llm, hlm, velo, position[0] if position else 0.0)


def _exit_at_eof() -> None:
    sys.stdin.read()
    os._exit(0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prefix", default="IOC:", help="PV name prefix (default IOC:)")
    parser.add_argument(
        "--motor",
        action="append",
        type=parse_motor,
        help="a motor SUFFIX:EGU:LLM:HLM:VELO[:POSITION]; repeat for more "
        "(default: m1..m5 like the simulator's x, y, z, tx, ty)",
    )
    parser.add_argument("--tick", type=float, default=0.01, help="RBV update period, s")
    parser.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help="exit when standard input closes (when the parent that started it is gone)",
    )
    args = parser.parse_args(argv)
    if args.exit_with_stdin:
        threading.Thread(target=_exit_at_eof, daemon=True).start()
    _environment()
    logging.getLogger("caproto.ctx").addFilter(_quiet_beacons)
    ioc = build_ioc(args.prefix, args.motor or DEFAULT_MOTORS, args.tick)

    async def ready(async_lib: Any) -> None:
        await asyncio.gather(*(motor.ready.wait() for motor in ioc.motors()))
        sys.stdout.write(f"{READY} {os.environ.get('EPICS_CA_SERVER_PORT', '5064')}\n")
        sys.stdout.flush()

    run(ioc.pvdb, startup_hook=ready)


if __name__ == "__main__":
    main()
