import { render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { describe, expect, it } from "vitest";

import { frames } from "../../../test/fake-websocket";
import { stubFetch, task } from "../../../test/fetch-stub";
import { TaskList } from "./TaskList";

describe("TaskList", () => {
  it("lists tasks with status, progress and who they wait on, linking each to its session", async () => {
    const { calls } = stubFetch({
      "GET /tasks": [
        task({ task_id: "a1", session_id: "a1", status: "waiting", progress: 50, pending_request: frames.confirmation("r1", "Send e-mail to x@y.z?") }),
        task({ task_id: "b2", session_id: "b2", task_type: "dummy_long", status: "running", progress: 30, stage: "moving", message: "step 3/10" }),
      ],
    });
    render(
      <MemoryRouter>
        <TaskList />
      </MemoryRouter>,
    );
    const waiting = await screen.findByRole("row", { name: /interactive_demo a1/ });
    expect(within(waiting).getByText("waiting")).toBeInTheDocument();
    expect(within(waiting).getByText("waiting for operator: Send e-mail to x@y.z?")).toBeInTheDocument();
    expect(within(waiting).getByText("50%")).toBeInTheDocument();
    expect(within(waiting).getByRole("link")).toHaveAttribute("href", "/sessions/a1");

    const running = screen.getByRole("row", { name: /dummy_long b2/ });
    expect(within(running).getByText("moving: step 3/10")).toBeInTheDocument();
    expect(calls[0]?.query.get("limit")).toBe("50");
  });

  it("refreshes on its interval", async () => {
    let n = 0;
    stubFetch({ "GET /tasks": () => [task({ task_id: `t${++n}`, session_id: `t${n}` })] });
    render(
      <MemoryRouter>
        <TaskList intervalMs={20} />
      </MemoryRouter>,
    );
    expect(await screen.findByRole("link", { name: /t3/ })).toBeInTheDocument();
  });
});
