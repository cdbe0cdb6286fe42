import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
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
  it("says why a queued task waits when the server knows (no worker runs its type)", async () => {
    stubFetch({
      "GET /tasks": [
        task({
          task_id: "q1",
          session_id: "q1",
          status: "queued",
          queue_position: 2,
          queued_reason: "no worker runs task type 'interactive_demo' (see their --task-types)",
        }),
      ],
    });
    renderList();
    const row = await screen.findByRole("row", { name: /q1/ });
    expect(
      within(row).getByText("queued (position 2): no worker runs task type 'interactive_demo' (see their --task-types)"),
    ).toBeInTheDocument();
  });

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
    // One more than a page: whether there is an older page.
    expect(calls.find((c) => c.path === "/tasks")?.query.get("limit")).toBe("51");
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

  it("filters by type, text and day range, and pages through older tasks", async () => {
    const user = userEvent.setup();
    const all = Array.from({ length: 60 }, (_, i) => task({ task_id: `t${i}`, session_id: `t${i}` }));
    const { calls } = stubFetch({
      "GET /task-types": [{ name: "interactive_demo" }, { name: "dummy_long" }],
      "GET /tasks": (r: { query: URLSearchParams }) => {
        const offset = Number(r.query.get("offset") ?? 0);
        return all.slice(offset, offset + Number(r.query.get("limit")));
      },
    });
    renderList(60_000);
    expect(await screen.findByRole("link", { name: /t49/ })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: /t50/ })).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Older" }));
    expect(await screen.findByRole("link", { name: /t59/ })).toBeInTheDocument();
    expect(screen.getByText("Tasks 51–60")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Older" })).toBeDisabled();
    await user.click(screen.getByRole("button", { name: "Newer" }));
    expect(await screen.findByRole("link", { name: /t0$/ })).toBeInTheDocument();

    const filters = screen.getByRole("search", { name: "Filter tasks" });
    await user.selectOptions(await within(filters).findByRole("combobox", { name: "Type" }), "dummy_long");
    await user.type(within(filters).getByRole("searchbox", { name: "Search" }), "axis");
    await user.type(within(filters).getByLabelText("From"), "2026-01-30");
    await user.type(within(filters).getByLabelText("To"), "2026-01-31");
    await waitFor(() => {
      const last = calls.filter((c) => c.path === "/tasks").at(-1)!.query;
      expect(last.get("task_type")).toBe("dummy_long");
      expect(last.get("q")).toBe("axis");
      expect(last.get("created_after")).toBe(new Date(2026, 0, 30).toISOString());
      // The "to" day is included: up to the start of the next one.
      expect(last.get("created_before")).toBe(new Date(2026, 1, 1).toISOString());
      expect(last.get("offset")).toBeNull(); // a new filter starts at the newest page
    });
  }, 20_000);
});
