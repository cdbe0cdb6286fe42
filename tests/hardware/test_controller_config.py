"""Controller configuration: INTERLOCK_CONTROLLER, its options as JSON or a [controller] TOML
table, `interlock controllers` and `interlock controllers check`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from interlock.cli import main
from interlock.controller_config import ControllerConfigError, controller_options
from interlock.settings import Settings
from tests.support.server import run_server

CONFIG = """
[controller]
seed = 7
positions = { r = 12.5 }

[[controller.axes]]
id = "r"
name = "Rotation"
unit = "deg"
min = -90
max = 90
"""


def _config(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "interlock.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_options_come_from_json_or_the_config_file(tmp_path: Path) -> None:
    assert controller_options(Settings()) == {}
    assert controller_options(Settings(controller_options='{"seed": 4}')) == {"seed": 4}
    options = controller_options(Settings(config=_config(tmp_path)))
    assert options["axes"][0]["id"] == "r" and options["positions"] == {"r": 12.5}
    assert controller_options(Settings(config=_config(tmp_path, "[other]\na = 1\n"))) == {}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[controller\n", "not valid TOML"),
        ("controller = 3\n", "must be a table"),
        (None, "cannot read config file"),
    ],
)
def test_unreadable_config_is_a_clear_error(tmp_path: Path, text: str | None, error: str) -> None:
    path = _config(tmp_path, text) if text is not None else tmp_path / "missing.toml"
    with pytest.raises(ControllerConfigError, match=error):
        controller_options(Settings(config=path))


def test_options_given_twice_are_refused(tmp_path: Path) -> None:
    settings = Settings(controller_options="{}", config=_config(tmp_path))
    with pytest.raises(ControllerConfigError, match="given twice"):
        controller_options(settings)


def test_options_json_must_be_an_object() -> None:
    with pytest.raises(ValueError, match="must be a JSON object"):
        Settings(controller_options="[1, 2]")
    with pytest.raises(ValueError, match="not JSON"):
        Settings(controller_options="{seed: 1}")


async def test_server_drives_the_configured_axes(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", config=_config(tmp_path)) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            view = (await http.get("/hardware")).json()
    assert [(a["id"], a["unit"], a["position"], a["min"]) for a in view["axes"]] == [
        ("r", "deg", 12.5, -90.0)
    ]


def _interlock(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interlock", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_bad_options_stop_start_up_with_the_field_errors(tmp_path: Path) -> None:
    done = _interlock(
        "serve",
        "--port",
        "0",
        "--data-dir",
        str(tmp_path / "data"),
        env={"INTERLOCK_CONTROLLER_OPTIONS": '{"seed": "x", "axes": [{"id": "q"}]}'},
    )
    assert done.returncode == 1
    assert "invalid options for controller 'simulated'" in done.stderr
    assert "axes.0.min: Field required" in done.stderr
    assert "seed: Input should be a valid integer" in done.stderr
    assert "listening" not in done.stderr


def test_controllers_lists_plugins_with_their_options_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["controllers", "--json"])
    assert exited.value.code == 0
    listed = {c["name"]: c for c in json.loads(capsys.readouterr().out)["controllers"]}
    schema = listed["simulated"]["options_schema"]
    assert {"axes", "positions", "seed", "reconnect"} <= set(schema["properties"])
    with pytest.raises(SystemExit):
        main(["controllers"])
    assert '"properties"' in capsys.readouterr().out


def test_check_lists_axes_with_positions_and_limits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["controllers", "check", "--config", str(_config(tmp_path))])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "controller simulated: connected"
    assert out.splitlines()[2].split() == ["r", "Rotation", "deg", "12.5", "-90", "90", "idle"]
    with pytest.raises(SystemExit) as exited:
        main(["controllers", "check", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["connected"] is True and report["problems"] == []
    assert [a["id"] for a in report["axes"]] == ["x", "y", "z", "tx", "ty"]
    assert report["axes"][2] == {
        "id": "z",
        "name": "Z (focus)",
        "unit": "um",
        "position": 0.0,
        "moving": False,
        "min": 0.0,
        "max": 5000.0,
        "fault": None,
    }


def test_check_with_bad_options_prints_them_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["controllers", "check", "--controller-options", '{"colour": "red"}'])
    assert exited.value.code == 2
    assert "colour: Extra inputs are not permitted" in capsys.readouterr().err


@pytest.fixture
def unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """An installed plug-in whose controller connects to a TCP port nobody listens on; yields
    the flags that select it."""
    (tmp_path / "interlock_unreachable.py").write_text(
        textwrap.dedent(
            """
            import socket
            from pydantic import BaseModel
            from interlock.hardware import HardwareError

            class Options(BaseModel):
                port: int

            class Unreachable:
                Options = Options
                name = "unreachable"

                def __init__(self, options):
                    try:
                        socket.create_connection(("127.0.0.1", options.port), timeout=2)
                    except OSError as exc:
                        raise HardwareError(f"127.0.0.1:{options.port}: {exc.strerror}")
            """
        )
    )
    dist_info = tmp_path / "interlock_unreachable-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: interlock-unreachable\n")
    (dist_info / "entry_points.txt").write_text(
        "[interlock.controllers]\nunreachable = interlock_unreachable:Unreachable\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "interlock_unreachable", raising=False)
    # A port that was bound and never listened on: connections to it are refused.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        yield ["--controller", "unreachable", "--controller-options", json.dumps({"port": port})]


def test_check_exits_1_with_the_reason_when_it_cannot_connect(
    unreachable: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["controllers", "check", *unreachable])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "cannot connect to controller 'unreachable'" in err
    assert "Connection refused" in err
    with pytest.raises(SystemExit):
        main(["controllers", "--json"])
    names = [c["name"] for c in json.loads(capsys.readouterr().out)["controllers"]]
    assert {"simulated", "unreachable"} <= set(names)
