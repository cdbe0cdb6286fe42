import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Task } from "../../../lib/api-types";
import { pendingConfirmation, stubFetch, task, type StubRequest } from "../../../test/fetch-stub";
import { OperatorAlerts } from "./OperatorAlerts";

/** The browser's Notification API, recorded (jsdom has none). */
class FakeNotification {
  static permission: NotificationPermission = "default";
  static requestPermission = vi.fn(async () => {
    FakeNotification.permission = "granted";
    return FakeNotification.permission;
  });
  static shown: FakeNotification[] = [];
  onclick: (() => void) | null = null;
  close = vi.fn();
  constructor(
    readonly title: string,
    readonly options: NotificationOptions,
  ) {
    FakeNotification.shown.push(this);
  }
}

function waiting(id: string, prompt: string, ts: string, title = "Axis movement"): Task {
  return task({
    task_id: id,
    session_id: id,
    task_type: "axis_movement",
    task_title: title,
    status: "waiting",
    pending_request: pendingConfirmation(`r-${id}`, prompt, { kind: "hazard", ts }),
  });
}

function Where() {
  return <p data-testid="where">{useLocation().pathname}</p>;
}

let tasks: Task[];
let requests: StubRequest[];

function renderAlerts(path = "/") {
  render(
    <MemoryRouter initialEntries={[path]}>
      <OperatorAlerts intervalMs={20} />
      <Routes>
        <Route path="*" element={<Where />} />
      </Routes>
    </MemoryRouter>,
  );
}

describe("OperatorAlerts", () => {
  beforeEach(() => {
    document.title = "Interlock console";
    tasks = [];
    requests = [];
    FakeNotification.permission = "default";
    FakeNotification.requestPermission.mockClear();
    FakeNotification.shown = [];
    vi.stubGlobal("Notification", FakeNotification);
    stubFetch({
      "GET /tasks": (request: StubRequest) => {
        requests.push(request);
        return tasks;
      },
    });
  });

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("counts the waiting prompts in the header and links each session, newest first", async () => {
    tasks = [
      waiting("a", "Move x from 0 to 100 um at 1000 um/s?", "2024-01-01T10:00:00+00:00"),
      waiting("b", "Measure a profile?", "2024-01-01T10:00:09+00:00", "Profile measurement"),
    ];
    renderAlerts();
    const nav = screen.getByRole("navigation", { name: "Waiting prompts" });
    await waitFor(() => expect(within(nav).getByRole("status", { name: "prompts waiting" })).toHaveTextContent("2 waiting"));
    const links = within(nav).getAllByRole("link");
    expect(links.map((l) => l.textContent)).toEqual([
      "Profile measurement: Measure a profile?",
      "Axis movement: Move x from 0 to 100 µm at 1000 µm/s?",
    ]);
    expect(links[1]).toHaveAttribute("href", "/sessions/a");
    expect(requests[0]?.query.get("status")).toBe("waiting");
  });

  it("puts the count and the newest prompt in the tab title, and restores it when none wait", async () => {
    renderAlerts();
    await waitFor(() => expect(screen.getByRole("status", { name: "prompts waiting" })).toHaveTextContent("No prompts waiting"));
    expect(document.title).toBe("Interlock console");

    tasks = [waiting("a", "Move x?", "2024-01-01T10:00:00+00:00")];
    await waitFor(() => expect(document.title).toBe("(1) Waiting: Move x?"));
    tasks = [...tasks, waiting("b", "Move y by 5 um?", "2024-01-01T10:00:05+00:00")];
    await waitFor(() => expect(document.title).toBe("(2) Waiting: Move y by 5 µm?"));
    tasks = [];
    await waitFor(() => expect(document.title).toBe("Interlock console"));
  });

  it("asks for notification permission only from its button, once", async () => {
    const user = userEvent.setup();
    renderAlerts();
    const enable = screen.getByRole("button", { name: "Enable notifications" });
    expect(FakeNotification.requestPermission).not.toHaveBeenCalled();
    await user.click(enable);
    expect(FakeNotification.requestPermission).toHaveBeenCalledTimes(1);
    expect(await screen.findByText("Notifications on")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Enable notifications" })).not.toBeInTheDocument();
  });

  it("says so when the browser blocks notifications", async () => {
    FakeNotification.permission = "denied";
    renderAlerts();
    expect(screen.getByText(/Notifications blocked/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Enable notifications" })).not.toBeInTheDocument();
    await waitFor(() => expect(screen.getByRole("status", { name: "prompts waiting" })).toHaveTextContent("No prompts waiting"));
  });

  it("notifies once per newly opened prompt; a click focuses the tab and opens the session", async () => {
    FakeNotification.permission = "granted";
    const focus = vi.spyOn(window, "focus").mockImplementation(() => {});
    tasks = [waiting("old", "Already waiting?", "2024-01-01T09:00:00+00:00")];
    renderAlerts();
    await waitFor(() => expect(screen.getByRole("status", { name: "prompts waiting" })).toHaveTextContent("1 waiting"));

    tasks = [...tasks, waiting("new", "Move x by 100 um?", "2024-01-01T10:00:00+00:00")];
    await waitFor(() => expect(FakeNotification.shown).toHaveLength(1));
    const [shown] = FakeNotification.shown;
    expect(shown?.title).toBe("Waiting: Axis movement");
    expect(shown?.options).toMatchObject({ body: "Move x by 100 µm?", tag: "r-new" });
    // Polled again and again: still one notification.
    const polls = requests.length;
    await waitFor(() => expect(requests.length).toBeGreaterThan(polls + 2));
    expect(FakeNotification.shown).toHaveLength(1);

    act(() => shown?.onclick?.());
    expect(focus).toHaveBeenCalled();
    expect(shown?.close).toHaveBeenCalled();
    expect(screen.getByTestId("where")).toHaveTextContent("/sessions/new");
  });

  it("does not notify of the session the person is looking at", async () => {
    FakeNotification.permission = "granted";
    vi.spyOn(document, "hasFocus").mockReturnValue(true);
    renderAlerts("/sessions/here");
    await waitFor(() => expect(requests.length).toBeGreaterThan(0));
    tasks = [waiting("here", "Move x?", "2024-01-01T10:00:00+00:00"), waiting("there", "Move y?", "2024-01-01T10:00:01+00:00")];
    await waitFor(() => expect(FakeNotification.shown).toHaveLength(1));
    expect(FakeNotification.shown[0]?.options.tag).toBe("r-there");
  });

  it("does not notify without permission", async () => {
    renderAlerts();
    await waitFor(() => expect(requests.length).toBeGreaterThan(0));
    tasks = [waiting("a", "Move x?", "2024-01-01T10:00:00+00:00")];
    await waitFor(() => expect(document.title).toBe("(1) Waiting: Move x?"));
    expect(FakeNotification.shown).toHaveLength(0);
  });
});
