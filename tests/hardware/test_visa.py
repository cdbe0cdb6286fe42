"""The ``visa`` controller: command-table plumbing against pyvisa-sim instruments (serial, TCP,
USB), options, and link behaviour against the SMC100-style TCP simulator."""

from __future__ import annotations

import json
import socket
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from interlock.cli import main
from interlock.hardware import (
    AxisBusyError,
    ControllerDisconnected,
    HardwareError,
    InvalidControllerOptions,
    MotionLimitError,
    SoftLimitError,
    UnknownAxisError,
    available_controllers,
    load_controller,
    parse_options,
)
from interlock.hardware.visa import VisaController, VisaOptions
from tests.hardware.smc100_sim import Smc100Simulator

SIM = f"{Path(__file__).with_name('visa_sim.yaml')}@sim"
SMC_AXES = [{"id": "x", "address": "1"}, {"id": "r", "address": "2", "unit": "deg"}]


def sim_options(resource: str, **extra: Any) -> dict[str, Any]:
    return {"resource": resource, "backend": SIM, "axes": SMC_AXES, "timeout": 0.3, **extra}


@pytest.mark.parametrize(
    "resource",
    [
        "TCPIP::127.0.0.1::5000::SOCKET",
        "ASRL1::INSTR",
        "USB0::0x1234::0x5678::SMC::0::INSTR",
    ],
)
def test_the_smc100_table_reads_limits_positions_and_states_over_every_transport(
    resource: str,
) -> None:
    stage = load_controller("visa", sim_options(resource))
    try:
        assert isinstance(stage, VisaController) and stage.connected
        axes = [(a.id, a.unit, a.min, a.max) for a in stage.axes()]
        assert axes == [("x", "mm", -25.0, 25.0), ("r", "deg", 0.0, 360.0)]
        assert stage.position("x") == 1.5 and not stage.is_moving("x")
        assert stage.status() == {
            "x": {"position": 1.5, "moving": False, "fault": None},
            "r": {"position": 180.5, "moving": True, "fault": None},  # state 28: MOVING
        }
        stage.move_absolute("x", -2.25, 0.5)
        assert stage.position("x") == -2.25
    finally:
        stage.close()
    with pytest.raises(HardwareError, match="closed"):
        stage.position("x")


def test_moves_are_checked_before_any_command() -> None:
    stage = VisaController(sim_options("TCPIP::127.0.0.1::5000::SOCKET"))
    try:
        with pytest.raises(SoftLimitError):
            stage.move_absolute("x", 30.0, 1.0)
        with pytest.raises(SoftLimitError):
            stage.move_relative("x", -27.0, 1.0)  # 1.5 - 27 is below -25
        with pytest.raises(AxisBusyError):
            stage.move_absolute("r", 10.0, 1.0)
        with pytest.raises(UnknownAxisError, match="known axes: x, r"):
            stage.move_absolute("q", 1.0, 1.0)
        with pytest.raises(ValueError, match="positive speed"):
            stage.move_absolute("x", 1.0, 0.0)
        assert stage.position("x") == 1.5
    finally:
        stage.close()


def test_a_speed_above_the_axis_maximum_is_refused() -> None:
    axes = [{"id": "x", "address": "1", "max_speed": 2.0}]
    stage = VisaController(sim_options("TCPIP::127.0.0.1::5000::SOCKET", axes=axes))
    try:
        with pytest.raises(MotionLimitError, match=r"at most 2 mm/s for axis x"):
            stage.move_absolute("x", 3.0, 2.5)
        assert stage.position("x") == 1.5
    finally:
        stage.close()


def test_a_move_the_instrument_refuses_is_an_error_naming_its_code() -> None:
    axes = [{"id": "x", "address": "1"}]
    stage = VisaController(sim_options("TCPIP::127.0.0.1::5001::SOCKET", axes=axes))
    try:
        with pytest.raises(HardwareError, match=r"not allowed in NOT REFERENCED state \(H\)"):
            stage.move_absolute("x", 2.0, 1.0)
    finally:
        stage.close()


def test_a_reply_that_does_not_fit_and_a_faulted_axis_are_clear_errors() -> None:
    axes = [{"id": "z", "address": "3"}]
    stage = VisaController(sim_options("TCPIP::127.0.0.1::5000::SOCKET", axes=axes))
    try:
        with pytest.raises(HardwareError, match="unexpected reply '3TPgarbage' to '3TP'"):
            stage.position("z")
        with pytest.raises(HardwareError, match=r"axis 'z': not referenced \(home the axis\)"):
            stage.move_absolute("z", 1.0, 1.0)
        assert stage.connected  # the instrument answered: the link is fine
    finally:
        stage.close()


def test_the_elliptec_table_encodes_counts_as_hex() -> None:
    options = {
        "resource": "ASRL2::INSTR",
        "backend": SIM,
        "commands": "elliptec",
        "write_termination": "\n",  # the simulator needs one; the real device takes none
        "timeout": 0.3,
        "axes": [{"id": "r", "address": "0", "unit": "deg", "min": -360, "max": 360,
                  "counts_per_unit": 400}],
    }  # fmt: skip
    stage = load_controller("visa", options)
    try:
        assert stage.position("r") == 0.0
        stage.move_absolute("r", 90.0, 1.0)  # 36000 counts = 0x00008CA0
        assert stage.position("r") == 90.0
        stage.move_absolute("r", -0.5, 1.0)  # -200 counts, two's complement
        assert stage.position("r") == -0.5
    finally:
        stage.close()


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"commands": "galil"}, "commands", "Input should be 'smc100' or 'elliptec'"),
        ({"commands": "elliptec", "axes": [{"id": "r", "min": 0, "max": 1}]}, "",
         "'counts_per_unit' is required"),
        ({"commands": "elliptec", "axes": [{"id": "r", "counts_per_unit": 1}]}, "",
         "'min' is required"),
        ({"axes": [{"id": "x", "min": 2, "max": 1}]}, "axes.0", "must be below max"),
        ({"axes": []}, "axes", "at least 1 item"),
        ({"timeout": 0}, "timeout", "greater than 0"),
        ({"commands": {"move_absolute": "{axis}PA", "stop": "{axis}ST",
                       "position": {"command": "{axis}TP", "pattern": "{axis}TP(.*)"},
                       "state": {"command": "{axis}TS", "pattern": "(?P<value>..)",
                                 "moving": ["28"]}}},
         "commands", "needs a named group 'value'"),
    ],
)  # fmt: skip
def test_bad_options_are_field_errors(options: dict[str, Any], field: str, message: str) -> None:
    raw = {"resource": "TCPIP::127.0.0.1::5000::SOCKET", "axes": SMC_AXES, **options}
    with pytest.raises(InvalidControllerOptions) as caught:
        load_controller("visa", raw)
    assert any(
        ".".join(map(str, e["loc"])).startswith(field) and message in e["msg"]
        for e in caught.value.errors
    ), caught.value.errors


def test_the_plugin_is_installed_and_an_unreachable_instrument_fails_at_start() -> None:
    assert "visa" in available_controllers()
    with (
        closed_port() as port,
        pytest.raises(ControllerDisconnected, match="Connection refused"),
    ):
        load_controller("visa", {"resource": f"TCPIP::127.0.0.1::{port}::SOCKET", "axes": SMC_AXES})


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on (bound, never listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


# ---------------------------------------------------------------- the TCP motion simulator


@pytest.fixture
def sim() -> Iterator[Smc100Simulator]:
    with Smc100Simulator() as instrument:
        yield instrument


def tcp_stage(sim: Smc100Simulator) -> VisaController:
    return VisaController(
        {
            "resource": sim.resource,
            "axes": [{"id": "x", "address": "1", "unit": "um"}, {"id": "y", "address": "2",
                      "unit": "um"}],
            "timeout": 1.5,  # a loaded machine may starve the instrument thread a while
            "reconnect": {"initial": 0.02, "maximum": 0.1},
        }
    )  # fmt: skip


def test_a_stop_goes_out_while_another_thread_waits_for_a_reply(sim: Smc100Simulator) -> None:
    stage = tcp_stage(sim)
    try:
        stage.move_absolute("x", 9_000.0, 1_000.0)
        sim.hold_replies()  # a slow instrument: the next query hangs until released
        poll = threading.Thread(target=stage.position, args=("x",))
        poll.start()
        sim.wait_for(lambda got: got[-1] == "1TP")
        stage.stop("x")
        sim.wait_for(lambda got: got[-1] == "1ST")  # received while 1TP is unanswered
        sim.release_replies()
        poll.join()
        assert sim.received[-2:] == ["1TP", "1ST"]
    finally:
        stage.close()


def test_a_stop_during_a_move_command_abandons_the_move(sim: Smc100Simulator) -> None:
    stage = tcp_stage(sim)
    try:
        sim.hold_replies()
        mover = threading.Thread(target=_expect_error, args=(stage, "stopped while its move"))
        mover.start()
        sim.wait_for(lambda got: "1TS" in got)  # the move has begun its checks
        stage.stop("x")
        sim.release_replies()
        mover.join()
        assert not any(c.startswith("1PA") for c in sim.received)
        assert not stage.is_moving("x") and stage.position("x") == 0.0
    finally:
        stage.close()


def _expect_error(stage: VisaController, message: str) -> None:
    with pytest.raises(HardwareError, match=message):
        stage.move_absolute("x", 5_000.0, 1_000.0)


def test_a_lost_instrument_faults_the_axes_and_is_found_again(sim: Smc100Simulator) -> None:
    stage = tcp_stage(sim)
    try:
        stage.move_absolute("x", 9_000.0, 1_000.0)
        sim.wait_for(lambda got: "1PA9000.000000" in got)
        sim.kill()
        with pytest.raises(ControllerDisconnected):
            stage.position("x")
        assert not stage.connected
        status = stage.status()
        assert status["x"]["fault"] is not None and "disconnected" in status["x"]["fault"]
        assert status["x"]["moving"] is False and status["y"]["position"] == 0.0
        with pytest.raises(ControllerDisconnected):
            stage.move_absolute("y", 10.0, 1_000.0)
        with pytest.raises(HardwareError, match="could not stop axes: x"):
            stage.stop_all()
        sim.restart()
        reconnected = threading.Event()
        while not reconnected.wait(0.01):  # the reconnector's backoff: nothing else to await
            if stage.connected:
                reconnected.set()
        assert stage.reconnect_attempts >= 1
        assert not stage.is_moving("x") and 0 < stage.position("x") < 9_000.0
        stage.move_absolute("y", 10.0, 1_000.0)
        sim.wait_for(lambda got: "2PA10.000000" in got)
    finally:
        stage.close()
    sim.wait_for(lambda got: got[-2:] == ["1ST", "2ST"])  # close stops every axis


def test_the_documented_configuration_examples_are_valid_options() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "hardware.md").read_text()
    section = doc[doc.index("## ASCII/SCPI stages over VISA") :]
    toml_text = section[section.index("```toml\n") + 8 :]
    json_text = section[section.index("```json\n") + 8 :]
    from_file = tomllib.loads(toml_text[: toml_text.index("```")])["controller"]
    from_json = json.loads(json_text[: json_text.index("```")])
    for raw in (from_file, from_json):
        options = parse_options("visa", raw)
        assert isinstance(options, VisaOptions) and [a.id for a in options.axes] == ["x", "y"]


def test_controllers_check_connects_and_lists_the_axes_the_instrument_reports(
    sim: Smc100Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    options = {"resource": sim.resource, "axes": [{"id": "x", "address": "1", "unit": "um"}]}
    flags = ["--controller", "visa", "--controller-options", json.dumps(options)]
    with pytest.raises(SystemExit) as exited:
        main(["controllers", "check", "--json", *flags])
    assert exited.value.code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["connected"] is True
    assert report["axes"] == [
        {"id": "x", "name": "x", "unit": "um", "position": 0.0, "moving": False,
         "min": -10_000.0, "max": 10_000.0, "fault": None}
    ]  # fmt: skip
    assert not any(c[1:3] in {"PA", "PR", "VA", "ST"} for c in sim.received)  # moves nothing
    sim.kill()
    with pytest.raises(SystemExit) as exited:
        main(["controllers", "check", *flags])
    assert exited.value.code == 1
    assert "cannot connect to controller 'visa'" in capsys.readouterr().err
