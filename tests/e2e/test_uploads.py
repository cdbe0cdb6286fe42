"""Task input files in the browser: csv_scan started from the console with a real CSV file."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from .conftest import Console


def test_csv_scan_starts_from_the_console_with_an_uploaded_file(
    page: Page, console: Console, tmp_path: Path
) -> None:
    bad = tmp_path / "typo.csv"
    bad.write_text("x,y\n0,0\n50,abc\n")
    good = tmp_path / "path.csv"
    good.write_text("x,y\n0,0\n50,-20\n100,-40\n")

    page.goto(console.url)
    page.get_by_label("Task type").select_option("csv_scan")
    picker = page.get_by_label("Positions")
    expect(picker).to_have_attribute("accept", ".csv")
    picker.set_input_files(bad)
    expect(page.get_by_role("status").filter(has_text="Uploaded typo.csv (")).to_be_visible()
    page.get_by_label("Speed").fill("10000")
    page.get_by_role("button", name="Start Task").click()
    # The file is checked when the task is submitted; the message names line and column.
    expect(page.get_by_text("line 3, column y: 'abc' is not a number")).to_be_visible()
    expect(picker).to_have_attribute("aria-invalid", "true")

    picker.set_input_files(good)
    expect(page.get_by_role("status").filter(has_text="Uploaded path.csv (")).to_be_visible()
    page.get_by_role("button", name="Start Task").click()

    expect(page).to_have_url(re.compile(r"/sessions/[\w-]+$"))
    hazard = page.get_by_role("dialog", name=re.compile(r"^Visit 3 positions from path\.csv"))
    expect(hazard).to_be_visible()
    expect(hazard.get_by_text("Hazard: hardware will move")).to_be_visible()
    hazard.get_by_role("button", name="Yes").click()
    expect(page.get_by_role("status", name="task status")).to_have_text("completed")
    axes = {axis["id"]: axis for axis in console.http.get("/hardware").json()["axes"]}
    assert (axes["x"]["position"], axes["y"]["position"]) == (100, -40)
