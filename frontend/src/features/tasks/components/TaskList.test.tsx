import { render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { describe, expect, it } from "vitest";

import { formatDateTime } from "../../../lib/dates";
import { pendingConfirmation, stubFetch, task } from "../../../test/fetch-stub";
import { TaskList } from "./TaskList";

function renderList(intervalMs?: number) {
  render(
    <MemoryRouter>
      <TaskList intervalMs={intervalMs} />
    </MemoryRouter>,
  );
}

describe("TaskList", () => {
  it("lists tasks with status, progress and who they wait on, linking each to its session", async () => {
    const { calls } = stubFetch({
      "GET /tasks": [
        task({ task_id: "a1", session_id: "a1", status: "waiting", progress: 50, pending_request: pendingConfirmation("r1", "Send e-mail to x@y.z?") }),
        task({
          task_id: "b2",
          session_id: "b2",
          task_type: "dummy_long",
          task_title: "Dummy task (long)",
          status: "running",
          progress: 30,
          stage: "moving",
          message: "step 3/10",
        }),
      ],
    });
    renderList();
    const waiting = await screen.findByRole("row", { name: /Interactive e-mail demo interactive_demo a1/ });
    expect(within(waiting).getByText("waiting")).toBeInTheDocument();
    expect(within(waiting).getByText("waiting for operator: Send e-mail to x@y.z?")).toBeInTheDocument();
    expect(within(waiting).getByText("50%")).toBeInTheDocument();
    expect(within(waiting).getByRole("link")).toHaveAttribute("href", "/sessions/a1");

    const running = screen.getByRole("row", { name: /Dummy task \(long\) dummy_long b2/ });
    expect(within(running).getByText("moving: step 3/10")).toBeInTheDocument();
    expect(calls[0]?.query.get("limit")).toBe("50");
  });

  it("shows when each task was created, with the day", async () => {
    stubFetch({ "GET /tasks": [task({ created_at: "2024-01-01T10:00:00+00:00" })] });
    renderList();
    const created = formatDateTime("2024-01-01T10:00:00+00:00");
    expect(created).toMatch(/^(Sun|Mon) (31 Dec 2023|1 Jan 2024) \d\d:\d\d:\d\d$/);
    expect(await screen.findByText(created)).toHaveAttribute("datetime", "2024-01-01T10:00:00+00:00");
  });

  it("names the stage once and writes micrometres as µm", async () => {
    stubFetch({
      "GET /tasks": [task({ stage: "measuring", message: "measuring: x point 3/41 at 20 um" })],
    });
    renderList();
    expect(await screen.findByText("measuring: x point 3/41 at 20 µm")).toBeInTheDocument();
  });

  it("refreshes on its interval", async () => {
    let n = 0;
    stubFetch({ "GET /tasks": () => [task({ task_id: `t${++n}`, session_id: `t${n}` })] });
    renderList(20);
    // Three refreshes: a generous bound, timers fire late on a busy machine.
    expect(await screen.findByRole("link", { name: /t3/ }, { timeout: 5000 })).toBeInTheDocument();
  });
});
