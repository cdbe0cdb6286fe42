"""One server per data directory, and start-up checks that stop before the store is touched."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from interlock import datadir
from interlock.exceptions import DataDirUnusable
from tests.support.faults import table_root_page, tmpfs, zero_page
from tests.support.process import ServerProcess
from tests.support.server import run_server
from tests.support.ws import WS

IN_USE = "data directory {} is in use by another Interlock process (pid {})"


async def serve_once(data_dir: Path) -> tuple[int, str]:
    """Run ``interlock serve`` on ``data_dir``; it must exit on its own. (code, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "interlock", "serve", "--port", "0"),
        *("--data-dir", str(data_dir)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    except TimeoutError:
        proc.kill()
        await proc.communicate()
        raise AssertionError("interlock serve kept running") from None
    assert proc.returncode is not None
    return proc.returncode, err.decode()


def other_process_can_hold(data_dir: Path) -> bool:
    """Whether a separate process can take the data directory's lock right now."""
    code = "import sys, pathlib, interlock.datadir as d; d.acquire(pathlib.Path(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-c", code, str(data_dir)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 or "DataDirInUse" in done.stderr, done.stderr
    return done.returncode == 0


async def test_a_second_server_on_a_live_data_dir_exits_and_touches_nothing(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with ServerProcess(data) as first:
        assert first.proc is not None
        async with httpx.AsyncClient(base_url=first.url) as client:
            r = await client.post(
                "/tasks",
                json={
                    "task_type": "interactive_demo",
                    "parameters": {"stream_count": 1, "delay": 0, "fail_attempts": 0},
                },
            )
            sid = r.json()["task_id"]
            async with await WS.open(first.ws_url, sid) as ws:
                form = await ws.until("request_user_input")
                before = (await client.get(f"/tasks/{sid}")).json()

                code, err = await serve_once(data)

                assert code == 1
                assert err == IN_USE.format(data.resolve(), first.proc.pid) + "\n"
                after = (await client.get(f"/tasks/{sid}")).json()
                assert after == before, "the second server ran recovery"
                assert after["status"] == "waiting"
                assert after["pending_request"]["request_id"] == form["request_id"]
                r = await client.post(
                    f"/tasks/{sid}/answer",
                    json={
                        "request_id": form["request_id"],
                        "values": {"subject": "s", "body": "b", "to_address": "a@example.com"},
                    },
                )
                assert r.status_code == 200, r.text
                confirm = await ws.until("request_confirmation")
                assert confirm["request_id"] != form["request_id"]
        assert (data / datadir.LOCK_FILE).read_text().strip() == str(first.proc.pid)
        assert "Traceback" not in err


async def test_a_lock_left_by_kill_9_does_not_block_the_next_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    crashed = ServerProcess(data).start()
    assert crashed.proc is not None
    crashed.kill()
    assert (data / datadir.LOCK_FILE).read_text().strip() == str(crashed.proc.pid)
    with ServerProcess(data) as second:
        assert second.proc is not None
        async with httpx.AsyncClient(base_url=second.url) as client:
            assert (await client.get("/health")).status_code == 200
        assert (data / datadir.LOCK_FILE).read_text().strip() == str(second.proc.pid)


async def test_an_embedded_server_holds_its_data_dir_too(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with run_server(data):
        code, err = await serve_once(data)
    assert code == 1
    assert err == IN_USE.format(data.resolve(), os.getpid()) + "\n"


def test_one_process_can_serve_a_data_dir_twice_and_the_last_one_out_releases_it(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with run_server(data) as a, run_server(data) as b:
        assert httpx.get(f"{a.url}/health").status_code == 200
        assert httpx.get(f"{b.url}/health").status_code == 200
        assert not other_process_can_hold(data)
    assert other_process_can_hold(data)


def test_holds_nest_and_only_the_last_release_frees_the_directory(tmp_path: Path) -> None:
    first = datadir.acquire(tmp_path / "data")
    second = datadir.acquire(tmp_path / "data" / ".." / "data")
    assert second is first
    first.release()
    assert not other_process_can_hold(tmp_path / "data")
    second.release()
    assert other_process_can_hold(tmp_path / "data")


async def test_an_unwritable_data_dir_stops_start_up(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk") as disk:
        data = disk.path / "data"
        ServerProcess(data).start().stop()  # a data dir with a database and a lock file
        with disk.read_only():
            for target in (data, disk.path / "missing"):
                code, err = await serve_once(target)
                assert code == 1
                assert err.startswith(f"data directory {target} is not writable (Read-only")
                assert datadir.BACKUP_HELP in err and "Traceback" not in err
        with disk.full():
            code, err = await serve_once(data)
        assert code == 1
        assert err.startswith(f"data directory {data} is not writable (No space left")


def produce_real_database(data: Path) -> Path:
    """Run a real server, finish a chatty task on it, stop it cleanly: the database file."""
    with ServerProcess(data) as server:
        r = httpx.post(
            f"{server.url}/tasks",
            json={"task_type": "interactive_demo", "parameters": {"stream_count": 50, "delay": 0}},
        )
        sid = r.json()["task_id"]
        assert httpx.delete(f"{server.url}/tasks/{sid}").status_code == 200
        assert server.stop() in (0, -15)
    return data / "interlock.sqlite3"


async def test_a_database_with_a_zeroed_page_stops_start_up(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = produce_real_database(data)
    zero_page(db, table_root_page(db, "messages"))

    code, err = await serve_once(data)

    assert code == 1
    assert err.startswith(f"database {db} is damaged (PRAGMA quick_check: "), err
    assert datadir.BACKUP_HELP in err and "Traceback" not in err
    # The check stopped before recovery could write anything: the lock is free again.
    assert other_process_can_hold(data)


def test_an_embedded_server_on_a_damaged_database_does_not_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = produce_real_database(data)
    zero_page(db, 1)
    with pytest.raises(RuntimeError, match="server failed to start"), run_server(data):
        pass
    with pytest.raises(DataDirUnusable, match="is damaged"):
        datadir.check(data, db)
