"""The EPICS plug-in on motor records through a real Channel Access round trip: a caproto IOC
in a subprocess on loopback (``tests.support.epics``), and a real server driving
``EpicsController``. Positions, motion and stops are what the IOC reports.

The shared suites run on this IOC too (``rigs_epics.py``): ``test_contract.py`` (axes, limits,
moves, stops, link loss, reconnect) and ``test_contract_server.py`` (no motion without Yes, a
cancel stops, shutdown, the IOC killed mid-move fails the task, its restart is found). Here:
a cancel each way -> ``.STOP`` and standstill; shutdown stops two axes moving at once; what
the plug-in checks itself (limits from the records, ``max_speed``, a moving record, options,
an unreachable record).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.epics import EpicsIoc, shared_ioc  # sets Channel Access up for loopback

pytest.importorskip("caproto")
pytest.importorskip("ophyd")

from interlock.hardware import (
    AxisBusyError,
    Controller,
    ControllerDisconnected,
    InvalidControllerOptions,
    MotionLimitError,
    load_controller,
    options_schema,
    parse_options,
)
from tests.hardware.rigs_epics import epics_options
from tests.hardware.support import (
    REASONS,
    WAYS,
    RecordingController,
    Way,
    answer,
    cancel_a_move,
    submit,
)
from tests.hardware.test_safety import registry_with_test_tasks
from tests.support.server import LiveServer, run_server
from tests.support.ws import WS


@pytest.fixture(scope="module")
def ioc() -> EpicsIoc:
    """The process's IOC, started once (a test that kills it starts it again)."""
    return shared_ioc()


@pytest.fixture
def hw(ioc: EpicsIoc) -> Iterator[RecordingController]:
    """A controller connected to the IOC (started again if a test left it dead), recorded."""
    shared_ioc()
    controller = load_controller("epics", epics_options(ioc))
    yield RecordingController(controller)
    controller.close()


@pytest.fixture
def server(tmp_path: Path, hw: RecordingController) -> Iterator[LiveServer]:
    with run_server(
        tmp_path / "data", registry=registry_with_test_tasks(), services={"controller": hw}
    ) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        yield http


async def until(what: str, check: Callable[[], bool], within: float = 10.0) -> None:
    """Poll the hardware (there is no event to await from an IOC's state)."""
    try:
        async with asyncio.timeout(within):
            while not await asyncio.to_thread(check):
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"{what}: not within {within:g} s") from None


def away(controller: Controller, axis: str, distance: float = 3_000.0) -> float:
    """A target ``distance`` from where ``axis`` is, towards the middle of its travel (the
    IOC is shared, so the axes are wherever the last test left them)."""
    position = controller.position(axis)
    return position - distance if position > 0 else position + distance


@pytest.mark.parametrize("way", WAYS)
async def test_cancel_stops_the_record_short_of_its_target(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController, way: Way
) -> None:
    for _ in range(2):
        move = await cancel_a_move(server, client, hw, way, target=away(hw, "x"))
        assert move.stop_issued is not None, "no .STOP after the cancel"
        assert move.at_rest is not None, "the record never reported DMOV after the stop"
        end = move.end
        assert end["type"] == "task_cancelled" and end["reason"] == REASONS[way]
        assert not hw.is_moving("x") and end["position"] == hw.position("x")
        low, high = sorted((move.start, move.target))
        assert low < end["position"] < high


async def test_shutdown_stops_every_touched_axis(tmp_path: Path, hw: RecordingController) -> None:
    targets = {"x": away(hw, "x", 5_000.0), "y": away(hw, "y", 5_000.0)}
    starts = {axis: hw.position(axis) for axis in targets}
    with run_server(
        tmp_path / "data", registry=registry_with_test_tasks(), services={"controller": hw}
    ) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            task_id = await submit(client, "move_x_and_y", **targets, speed=1_000.0)
            async with await WS.open(server.ws_url, task_id) as ws:
                await answer(ws, await ws.until("request_confirmation"), True)
                await until(
                    "x and y moving",
                    lambda: all(hw.position(a) != starts[a] for a in targets),
                )
    # The server is gone; the IOC says where the records rest.
    assert {axis for _, axis in hw.stops} >= {"x", "y"}
    for axis, target in targets.items():
        assert not hw.is_moving(axis)
        low, high = sorted((starts[axis], target))
        assert low < hw.position(axis) < high


def test_axes_come_from_the_options_and_the_records_limits(hw: RecordingController) -> None:
    axes = {axis.id: axis for axis in hw.axes()}
    assert list(axes) == ["x", "y"]
    assert (axes["x"].unit, axes["x"].min, axes["x"].max) == ("um", -10_000.0, 10_000.0)
    assert axes["x"].name.endswith(":m1")  # no name configured: the PV
    assert 0.0 <= hw.read_signal() <= 1.0  # the IOC's detector


def test_max_speed_and_a_moving_record_are_refused_before_any_put(
    hw: RecordingController,
) -> None:
    controller = hw.inner
    before = controller.position("x")
    with pytest.raises(MotionLimitError, match="max_speed 10000 configured for axis x"):
        controller.move_relative("x", 10.0, 20_000.0)
    with pytest.raises(ValueError, match="positive speed"):
        controller.move_relative("x", 10.0, 0.0)
    assert controller.position("x") == before and not controller.is_moving("x")
    controller.move_absolute("x", away(controller, "x"), 500.0)
    try:
        with pytest.raises(AxisBusyError):
            controller.move_relative("x", 10.0, 500.0)
    finally:
        controller.stop("x")


def test_bad_options_are_field_errors() -> None:
    with pytest.raises(InvalidControllerOptions) as caught:
        parse_options("epics", {"axes": {"x": {"unit": "um", "max_speed": 0}}, "timeout": -1})
    message = str(caught.value)
    for line in ("axes.x.pv: Field required", "axes.x.max_speed: Input should be greater than 0"):
        assert line in message
    assert "timeout: Input should be greater than 0" in message
    with pytest.raises(InvalidControllerOptions, match="axes: Dictionary should have at least 1"):
        parse_options("epics", {"axes": {}})
    parsed = parse_options("epics", {"axes": {"x": {"pv": "IOC:m1", "unit": "um"}}, "site": 7})
    assert parsed.model_dump()["site"] == 7  # other keys are allowed
    schema = options_schema("epics")
    assert "description" in schema["$defs"]["EpicsAxisOptions"]["properties"]["pv"]


def test_an_unreachable_record_is_a_clear_connect_error(ioc: EpicsIoc) -> None:
    options = epics_options(ioc)
    options["axes"] = {
        "x": {"pv": ioc.pv("m1"), "unit": "um"},
        "q": {"pv": "NO:SUCH", "unit": "um"},
    }
    options["timeout"] = 0.3
    with pytest.raises(ControllerDisconnected) as caught:
        load_controller("epics", options)
    assert str(caught.value) == (
        "controller 'epics' is disconnected: no Channel Access connection within 0.3 s to "
        "q (NO:SUCH); is the IOC running, and do EPICS_CA_ADDR_LIST / EPICS_CA_AUTO_ADDR_LIST "
        "reach it?"
    )
