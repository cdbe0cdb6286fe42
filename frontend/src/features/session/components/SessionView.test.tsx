import { act, cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { fakeSocketServer, frames, type FakeSocketServer, type FakeWebSocket } from "../../../test/fake-websocket";
import { IdentityContext, LOCAL_ADMIN, onForbidden, onUnauthenticated, type Identity } from "../../../lib/auth";
import { formatDateTime } from "../../../lib/dates";
import { stubFetch, task } from "../../../test/fetch-stub";
import { WebSocketFactoryContext } from "../hooks/use-session";
import { SessionView } from "./SessionView";

let server: FakeSocketServer;

function renderSession(sessionId = "s1", identity: Identity = LOCAL_ADMIN) {
  server = fakeSocketServer();
  render(
    <IdentityContext.Provider value={identity}>
      <WebSocketFactoryContext.Provider value={server.createSocket}>
        <SessionView sessionId={sessionId} />
      </WebSocketFactoryContext.Provider>
    </IdentityContext.Provider>,
  );
  return server;
}

/** Accept the connection and replay `history` as the server does on connect. */
function connectWith(socket: FakeWebSocket, history: Array<{ seq: number }>, pending: string | null = null, status = "running") {
  act(() => {
    socket
      .accept()
      .deliver(
        frames.replayStart({ count: history.length, status, pending_request_id: pending }),
        ...history,
        frames.replayComplete(history.at(-1)?.seq ?? 0),
      );
  });
}

function live(socket: FakeWebSocket, ...frameList: unknown[]) {
  act(() => {
    socket.deliver(...frameList);
  });
}

/** What the tab sent besides presence (who is watching and answering: tested on its own). */
function actions(socket: FakeWebSocket): unknown[] {
  return socket.sent.filter((m) => (m as { type: string }).type !== "presence");
}

const otherTab = { connection_id: "c2", client: "127.0.0.1:50123", user: null, via: "websocket" };

describe("SessionView", () => {
  beforeEach(() => {
    frames.resetSeq();
    stubFetch({ "GET /tasks/s1": task(), "GET /tasks/s1/requests": [] });
  });

  it("connects to the session's socket and shows the connection state", async () => {
    renderSession();
    expect(server.latest().url).toBe("ws://localhost:3000/ws/s1");
    const indicator = screen.getByRole("status", { name: "connection" });
    expect(indicator).toHaveTextContent("connecting");
    connectWith(server.latest(), []);
    expect(indicator).toHaveTextContent("connected");
    expect(await screen.findByRole("heading", { name: "Interactive e-mail demo" })).toBeInTheDocument();
    expect(screen.getByText("interactive_demo")).toBeInTheDocument();
  });

  it("shows progress with stage and message on the progress bar", async () => {
    renderSession();
    connectWith(server.latest(), [frames.progress(40, { stage: "preparing", message: "step 2/5" })]);
    const bar = await screen.findByRole("progressbar", { name: "Task progress" });
    await waitFor(() => expect(bar).toHaveAttribute("aria-valuenow", "40"));
    expect(screen.getByText("preparing")).toBeInTheDocument();
    expect(screen.getByText("step 2/5")).toBeInTheDocument();
  });

  it("asks a confirmation in a labelled dialog and sends the answer with its request id", async () => {
    const user = userEvent.setup();
    renderSession();
    const socket = server.latest();
    connectWith(socket, [frames.confirmation("r1", "Send e-mail to a@b.c?", { details: { subject: "Hi" } })], "r1", "waiting");
    const dialog = await screen.findByRole("dialog", { name: "Send e-mail to a@b.c?" });
    expect(within(dialog).getByRole("row", { name: "Subject Hi" })).toBeInTheDocument();
    expect(within(dialog).getByRole("button", { name: "Yes" })).toHaveFocus();

    await user.click(within(dialog).getByRole("button", { name: "Yes" }));
    expect(actions(socket)).toEqual([{ type: "confirm", value: true, request_id: "r1" }]);
    expect(within(dialog).getByRole("button", { name: "Yes" })).toBeDisabled();

    live(socket, frames.resolved("r1", { value: true, answered_by: { ...otherTab, connection_id: "me" } }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(screen.queryByText(/Answered by/)).not.toBeInTheDocument();
  });

  it("marks a hazard, and never focuses Yes", async () => {
    renderSession();
    connectWith(
      server.latest(),
      [
        frames.confirmation("r1", "Move x by 100 um?", {
          kind: "hazard",
          details: { axis: "x", distance: 100, speed: 1000, unit: "um", estimated_s: 0.1 },
        }),
      ],
      "r1",
    );
    const dialog = await screen.findByRole("dialog", { name: "Move x by 100 µm?" });
    expect(within(dialog).getByText("Hazard: hardware will move")).toBeInTheDocument();
    expect(within(dialog).getByRole("button", { name: "No" })).toHaveFocus();
    // Units: µm for um, speeds per second, durations in s; the unit is not a row of its own.
    expect(within(dialog).getByRole("row", { name: "Distance 100 µm" })).toBeInTheDocument();
    expect(within(dialog).getByRole("row", { name: "Speed 1000 µm/s" })).toBeInTheDocument();
    expect(within(dialog).getByRole("row", { name: "Estimated 0.1 s" })).toBeInTheDocument();
    expect(within(dialog).queryByRole("row", { name: /^Unit/ })).not.toBeInTheDocument();
  });

  describe("a prompt that opens while the person types in a field elsewhere", () => {
    function typingElsewhere() {
      const field = document.createElement("input");
      field.setAttribute("aria-label", "Notes");
      document.body.append(field);
      field.focus();
      return field;
    }

    it.each([
      ["confirm", "Yes"],
      ["hazard", "No"],
    ])("leaves focus in that field (a %s prompt)", async (kind, button) => {
      const user = userEvent.setup();
      const notes = typingElsewhere();
      try {
        renderSession();
        const socket = server.latest();
        connectWith(socket, []);
        await user.type(notes, "Fibre at 0.9");
        live(socket, frames.confirmation("r1", "Proceed?", { kind }));
        const dialog = await screen.findByRole("dialog", { name: "Proceed?" });
        expect(notes).toHaveFocus();
        expect(within(dialog).getByRole("button", { name: button })).not.toHaveFocus();
        await user.keyboard("3{Enter}");
        expect(notes).toHaveValue("Fibre at 0.93");
        expect(actions(socket)).toEqual([]);
      } finally {
        notes.remove();
      }
    });

    it("leaves focus in that field (a form)", async () => {
      const user = userEvent.setup();
      const notes = typingElsewhere();
      try {
        renderSession();
        const socket = server.latest();
        connectWith(socket, []);
        live(socket, frames.input("r1", "Compose the e-mail", [{ name: "subject", description: "Subject" }]));
        const dialog = await screen.findByRole("dialog", { name: "Compose the e-mail" });
        await user.keyboard("abc");
        expect(notes).toHaveFocus();
        expect(notes).toHaveValue("abc");
        expect(within(dialog).getByLabelText(/Subject/)).toHaveValue("");
      } finally {
        notes.remove();
      }
    });
  });

  it("counts down when the request has a timeout", async () => {
    renderSession();
    const ts = new Date().toISOString();
    connectWith(server.latest(), [frames.confirmation("r1", "Go?", { timeout: 30, ts, default: false })], "r1");
    const timer = await screen.findByRole("timer");
    expect(timer).toHaveTextContent(/^(30|29) s left to answer — then the default answer “No” is used\.$/);
  });

  it("builds the input form from the request, and keeps what was typed when the server rejects a field", async () => {
    const user = userEvent.setup();
    renderSession();
    const socket = server.latest();
    connectWith(
      socket,
      [
        frames.input(
          "r1",
          "Compose the e-mail",
          [
            { name: "subject", description: "Subject of the email" },
            { name: "to_address", description: "Recipient email address", type: "email" },
          ],
          { properties: { subject: { type: "string" }, to_address: { type: "string", format: "email" } } },
        ),
      ],
      "r1",
    );
    const dialog = await screen.findByRole("dialog", { name: "Compose the e-mail" });
    await user.type(within(dialog).getByLabelText(/Subject of the email/), "Hello");
    await user.type(within(dialog).getByLabelText(/Recipient email address/), "nope");
    await user.click(within(dialog).getByRole("button", { name: "Submit" }));
    expect(actions(socket)).toEqual([{ type: "user_input", values: { subject: "Hello", to_address: "nope" }, request_id: "r1" }]);

    live(socket, frames.error("validation_error", "invalid answer", [{ field: "to_address", message: "value is not a valid email address" }]));
    const address = within(dialog).getByLabelText(/Recipient email address/);
    expect(await within(dialog).findByText("value is not a valid email address")).toBeInTheDocument();
    expect(address).toHaveAttribute("aria-invalid", "true");
    expect(address).toHaveValue("nope");
    expect(within(dialog).getByLabelText(/Subject of the email/)).toHaveValue("Hello");
    expect(address).toBeEnabled();
  });

  it("closes the dialog and says who answered when another tab answers", async () => {
    renderSession();
    const socket = server.latest();
    connectWith(socket, [frames.confirmation("r1", "Proceed?")], "r1");
    await screen.findByRole("dialog", { name: "Proceed?" });
    live(socket, frames.resolved("r1", { value: false, answered_by: otherTab }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(screen.getByText("Answered by 127.0.0.1 (another tab): No — “Proceed?”")).toBeInTheDocument();
  });

  it("says when a request timed out", async () => {
    renderSession();
    const socket = server.latest();
    connectWith(socket, [frames.confirmation("r1", "Proceed?", { timeout: 5 })], "r1");
    await screen.findByRole("dialog");
    live(socket, frames.resolved("r1", { reason: "timeout", value: false, answered_by: { connection_id: null, client: null, user: null, via: "server" } }));
    expect(await screen.findByText("“Proceed?” timed out — default No used.")).toBeInTheDocument();
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
  });

  it("ends a timed-out hazard with “timed out — default No used”, not “declined”", async () => {
    renderSession();
    const socket = server.latest();
    connectWith(socket, [frames.confirmation("r1", "Move x?", { kind: "hazard", timeout: 5 })], "r1");
    live(socket, frames.resolved("r1", { reason: "timeout", value: false }), frames.cancelled("declined"));
    expect(await screen.findByRole("heading", { name: "Cancelled" })).toBeInTheDocument();
    expect(screen.getByText("Reason: timed out — default No used")).toBeInTheDocument();
    expect(screen.queryByText(/declined/)).not.toBeInTheDocument();
  });

  it("says “declined” when the person answered No", async () => {
    renderSession();
    const socket = server.latest();
    connectWith(socket, [frames.confirmation("r1", "Move x?", { kind: "hazard" })], "r1");
    live(socket, frames.resolved("r1", { value: false, answered_by: otherTab }), frames.cancelled("declined"));
    expect(await screen.findByText("Reason: declined")).toBeInTheDocument();
  });

  it("names the axes to check when the task's worker was lost", async () => {
    renderSession();
    const socket = server.latest();
    connectWith(socket, [frames.stream("moving")]);
    live(socket, frames.interrupted("worker lost", [{ axis: "x", position: 812.5, unit: "um" }]));
    expect(await screen.findByText("worker lost")).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("Check the stage: nothing stopped x (last at 812.5 µm) when its worker was lost.");
  });

  it("follows the latest progress message, not the task's first one", async () => {
    stubFetch({ "GET /tasks/s1": task({ message: "Task submitted successfully" }), "GET /tasks/s1/requests": [] });
    renderSession();
    const socket = server.latest();
    connectWith(socket, []);
    expect(await screen.findByText("Task submitted successfully")).toBeInTheDocument();
    live(
      socket,
      frames.progress(10, {
        stage: "moving",
        message: "Moving x",
        details: { axis: "x", position: 12.5, target: 100, unit: "um" },
      }),
    );
    expect(await screen.findByText("Moving x")).toBeInTheDocument();
    expect(screen.queryByText("Task submitted successfully")).not.toBeInTheDocument();
    const now = screen.getByRole("table", { name: "Latest progress" });
    expect(within(now).getByRole("row", { name: "Position 12.5 µm" })).toBeInTheDocument();
    expect(within(now).getByRole("row", { name: "Target 100 µm" })).toBeInTheDocument();
    // Progress with no message keeps the last one; a stage repeated in the message shows once.
    live(socket, frames.progress(20, { details: { axis: "x", position: 50, target: 100, unit: "um" } }));
    await waitFor(() => expect(within(now).getByRole("row", { name: "Position 50 µm" })).toBeInTheDocument());
    expect(screen.getByText("Moving x")).toBeInTheDocument();
    live(socket, frames.progress(30, { stage: "measuring", message: "measuring: x point 1/3" }));
    expect(await screen.findByText("x point 1/3")).toBeInTheDocument();
    expect(screen.queryByText(/measuring: measuring/)).not.toBeInTheDocument();
  });

  it("reconnects with since and shows each line once", async () => {
    renderSession();
    connectWith(server.latest(), [frames.stream("one", 1), frames.stream("two", 2)]);
    const log = await screen.findByRole("log", { name: "Stream output" });
    await within(log).findByText("two");

    act(() => server.latest().drop(1006));
    expect(screen.getByRole("status", { name: "connection" })).toHaveTextContent("reconnecting");

    await waitFor(() => expect(server.sockets).toHaveLength(2));
    expect(server.latest().since).toBe("2");
    connectWith(server.latest(), [frames.stream("two", 2), frames.stream("three", 3)]);
    live(server.latest(), frames.stream("three", 3), frames.stream("four", 4));

    await within(log).findByText("four");
    expect(within(log).getAllByText(/^(one|two|three|four)$/).map((el) => el.lastChild?.textContent)).toEqual(["one", "two", "three", "four"]);
    expect(screen.getByRole("status", { name: "connection" })).toHaveTextContent("connected");
  });

  it("reconnects at once when the browser comes back online", async () => {
    renderSession();
    connectWith(server.latest(), [frames.stream("a", 1)]);
    act(() => server.latest().drop(1006));
    act(() => {
      window.dispatchEvent(new Event("online"));
    });
    expect(server.sockets).toHaveLength(2);
    expect(server.latest().since).toBe("1");
  });

  it("shows the same open prompt after a reload (a fresh full replay)", async () => {
    renderSession();
    connectWith(server.latest(), [frames.stream("a"), frames.confirmation("r1", "Still there?")], "r1", "waiting");
    expect(await screen.findByRole("dialog", { name: "Still there?" })).toBeInTheDocument();
    expect(screen.getByRole("status", { name: "task status" })).toHaveTextContent("waiting");
  });

  it("cancels over the socket", async () => {
    const user = userEvent.setup();
    renderSession();
    const socket = server.latest();
    connectWith(socket, []);
    await user.click(screen.getByRole("button", { name: "Cancel Task" }));
    expect(actions(socket)).toEqual([{ type: "cancel" }]);
  });

  it("cancels over HTTP while the socket is down", async () => {
    const user = userEvent.setup();
    const { calls } = stubFetch({ "GET /tasks/s1": task(), "DELETE /tasks/s1": { status: "cancelled" } });
    renderSession();
    await user.click(screen.getByRole("button", { name: "Cancel Task" }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.path === "/tasks/s1")).toBe(true));
  });

  it("clears the stream on request", async () => {
    const user = userEvent.setup();
    renderSession();
    connectWith(server.latest(), [frames.stream("noise")]);
    const log = await screen.findByRole("log", { name: "Stream output" });
    await within(log).findByText("noise");
    await user.click(screen.getByRole("button", { name: "Clear Stream" }));
    expect(within(log).queryByText("noise")).not.toBeInTheDocument();
  });

  it("shows the result, plots its series, and links the artifacts", async () => {
    stubFetch({
      "GET /tasks/s1": task({
        status: "completed",
        artifacts: [{ name: "scan.csv", url: "/tasks/s1/artifacts/scan.csv", content_type: "text/csv" }],
      }),
    });
    renderSession();
    connectWith(
      server.latest(),
      [frames.completed({ scan: { x: [0, 1, 2], y: [0.2, 0.9, 0.4] }, position: 1.5 }, { subject: "Hi" })],
      null,
      "completed",
    );
    expect(await screen.findByRole("heading", { name: "Completed" })).toBeInTheDocument();
    // The plot's code loads on demand: on a busy machine that takes longer than findBy's 1 s.
    expect(await screen.findByRole("figure", { name: "Plot of scan" }, { timeout: 10_000 })).toBeInTheDocument();
    expect(screen.getByText(/3 points, peak y = 0.9 at x = 1/)).toBeInTheDocument();
    expect(screen.getByRole("row", { name: "Position 1.5" })).toBeInTheDocument();
    expect(screen.getByRole("row", { name: "Subject Hi" })).toBeInTheDocument();
    expect(await screen.findByRole("link", { name: "scan.csv" })).toHaveAttribute("href", "/tasks/s1/artifacts/scan.csv");
    expect(screen.getByRole("button", { name: "Cancel Task" })).toBeDisabled();
  });

  it("lists who answered what, re-read when a request opens, is resolved, or the task ends", async () => {
    const resolvedAt = "2024-01-01T10:00:05+00:00";
    const confirm = {
      request_id: "r1",
      seq: 1,
      kind: "confirm",
      prompt: "Proceed?",
      details: null,
      request: {},
      status: "open",
      answer: null,
      answered_by: null,
      resolved_at: null,
    };
    const form = {
      ...confirm,
      request_id: "r2",
      seq: 3,
      kind: "input",
      prompt: "Compose the e-mail",
      status: "answered",
      answer: { subject: "Hi", to_address: "a@b.c" },
      answered_by: { connection_id: null, client: "10.0.0.7:4000", user: null, via: "http" },
      resolved_at: resolvedAt,
    };
    const hazard = {
      ...confirm,
      request_id: "r3",
      seq: 5,
      kind: "hazard",
      prompt: "Move x?",
      status: "timeout",
      answer: false,
      answered_by: { connection_id: null, client: null, user: null, via: "server" },
      resolved_at: resolvedAt,
    };
    let trail: unknown[] = [confirm];
    const { calls } = stubFetch({ "GET /tasks/s1": task(), "GET /tasks/s1/requests": () => trail });
    const requestCalls = () => calls.filter((c) => c.path === "/tasks/s1/requests").length;
    renderSession();
    const socket = server.latest();
    connectWith(socket, [frames.confirmation("r1", "Proceed?")], "r1");
    const table = await screen.findByRole("table", { name: "Answers" });
    expect(screen.getByRole("region", { name: "Answers" })).toContainElement(table);
    expect(await within(table).findByRole("row", { name: "Proceed? confirm open — —" })).toBeInTheDocument();
    // Read on mount, and again once the replay opened r1.
    await screen.findByRole("dialog", { name: "Proceed?" });
    await waitFor(() => expect(requestCalls()).toBe(2));
    const settled = requestCalls();

    trail = [{ ...confirm, status: "answered", answer: true, answered_by: otherTab, resolved_at: resolvedAt }, form, hazard];
    live(socket, frames.resolved("r1", { value: true, answered_by: otherTab }));
    const when = formatDateTime(resolvedAt);
    expect(when).toMatch(/^(Sun|Mon) /); // with the day
    // Who: the host, never the ephemeral port.
    expect(await within(table).findByRole("row", { name: `Proceed? confirm Yes 127.0.0.1 via websocket ${when}` })).toBeInTheDocument();
    expect(requestCalls()).toBe(settled + 1);
    expect(within(table).getByRole("row", { name: `Compose the e-mail input subject: Hi; to_address: a@b.c 10.0.0.7 via http ${when}` })).toBeInTheDocument();
    expect(within(table).getByRole("row", { name: `Move x? hazard timed out — default No used server ${when}` })).toBeInTheDocument();

    // A prompt opening is news for the table too.
    trail = [...trail, { ...confirm, request_id: "r4", seq: 7, prompt: "Retry?", kind: "retry", status: "open" }];
    live(socket, frames.confirmation("r4", "Retry?", { kind: "retry" }));
    expect(await within(table).findByRole("row", { name: "Retry? retry open — —" })).toBeInTheDocument();
    expect(requestCalls()).toBe(settled + 2);

    trail = [...trail.slice(0, -1), { ...confirm, request_id: "r4", seq: 7, prompt: "Retry?", kind: "retry", status: "cancelled" }];
    live(socket, frames.cancelled("cancelled by operator"));
    expect(await within(table).findByRole("row", { name: "Retry? retry cancelled — —" })).toBeInTheDocument();
    expect(requestCalls()).toBe(settled + 3);
  });

  it("says so when the session does not exist, and stops reconnecting", async () => {
    renderSession("nope");
    act(() => {
      server.latest().accept().deliver(frames.error("session_not_found", "no session nope"));
      server.latest().drop(4404);
    });
    expect(await screen.findByRole("heading", { name: "Session not found" })).toBeInTheDocument();
    expect(server.sockets).toHaveLength(1);
  });

  describe("who may answer", () => {
    const vera: Identity = { user: "vera", role: "viewer" };
    const ana: Identity = { user: "ana", role: "operator" };
    const otto: Identity = { user: "otto", role: "operator" };

    it("shows a viewer the prompt read-only: no answer, no Cancel, and why", async () => {
      renderSession("s1", vera);
      const socket = server.latest();
      connectWith(socket, [frames.confirmation("r1", "Move x by 100 um?", { kind: "hazard" })], "r1", "waiting");
      const dialog = await screen.findByRole("dialog", { name: "Move x by 100 µm?" });
      expect(within(dialog).getByText("Only operators can answer.")).toBeInTheDocument();
      expect(within(dialog).getByRole("button", { name: "Yes" })).toBeDisabled();
      expect(within(dialog).getByRole("button", { name: "No" })).toBeDisabled();
      expect(screen.queryByRole("button", { name: "Cancel Task" })).not.toBeInTheDocument();
      expect(actions(socket)).toEqual([]);
    });

    it("shows a viewer an input form read-only", async () => {
      renderSession("s1", vera);
      connectWith(server.latest(), [frames.input("r1", "Compose the e-mail", [{ name: "subject", description: "Subject" }])], "r1", "waiting");
      const dialog = await screen.findByRole("dialog", { name: "Compose the e-mail" });
      expect(within(dialog).getByText("Only operators can answer.")).toBeInTheDocument();
      expect(within(dialog).getByLabelText(/Subject/)).toBeDisabled();
      expect(within(dialog).getByRole("button", { name: "Submit" })).toBeDisabled();
    });

    it("lets an operator answer and cancel", async () => {
      renderSession("s1", ana);
      connectWith(server.latest(), [frames.confirmation("r1", "Go on?")], "r1", "waiting");
      const dialog = await screen.findByRole("dialog", { name: "Go on?" });
      expect(within(dialog).getByRole("button", { name: "Yes" })).toBeEnabled();
      expect(within(dialog).queryByText(/Only/)).not.toBeInTheDocument();
      expect(screen.getByRole("button", { name: "Cancel Task" })).toBeEnabled();
    });

    it("names the respondents of a prompt, and lets only them answer", async () => {
      // The field the server adds for a task started with `respondents`.
      const prompt = { ...frames.confirmation("r1", "Go on?"), respondents: ["ana", "ben"] };
      renderSession("s1", ana);
      connectWith(server.latest(), [prompt], "r1", "waiting");
      let dialog = await screen.findByRole("dialog", { name: "Go on?" });
      expect(within(dialog).getByText("Only ana and ben may answer.")).toBeInTheDocument();
      expect(within(dialog).getByRole("button", { name: "Yes" })).toBeEnabled();
      cleanup();

      renderSession("s1", otto);
      connectWith(server.latest(), [prompt], "r1", "waiting");
      dialog = await screen.findByRole("dialog", { name: "Go on?" });
      expect(within(dialog).getByText("Only ana and ben may answer.")).toBeInTheDocument();
      expect(within(dialog).getByRole("button", { name: "Yes" })).toBeDisabled();
    });

    it("says the server refused an answer (forbidden), keeps the prompt open, and asks who we are", async () => {
      const refusals: string[] = [];
      const off = onForbidden(() => refusals.push("403"));
      try {
        const user = userEvent.setup();
        renderSession("s1", ana);
        const socket = server.latest();
        connectWith(socket, [frames.confirmation("r1", "Go on?")], "r1", "waiting");
        const dialog = await screen.findByRole("dialog", { name: "Go on?" });
        await user.click(within(dialog).getByRole("button", { name: "Yes" }));
        live(socket, frames.error("forbidden", "confirm requires the operator role"));
        expect(await screen.findByText("Refused by the server: confirm requires the operator role.")).toBeInTheDocument();
        expect(within(dialog).getByRole("button", { name: "Yes" })).toBeEnabled();
        expect(refusals).toEqual(["403"]);
      } finally {
        off();
      }
    });
  });

  describe("a socket closed because the sign-in ended (4401)", () => {
    let signals: number;
    let off: () => void;

    beforeEach(() => {
      signals = 0;
      off = onUnauthenticated(() => (signals += 1));
    });

    afterEach(() => off());

    // That it never reconnects is the ws client's test (with fake timers).
    it("sends the person to sign in, and stops", () => {
      renderSession();
      connectWith(server.latest(), []);
      act(() => server.latest().drop(4401, "credential revoked"));
      expect(signals).toBe(1);
      expect(screen.getByRole("status", { name: "connection" })).toHaveTextContent("offline");
    });
  });

  describe("the whole session log", () => {
    it("loads earlier output above the stream, numbered by seq, while the live tail goes on", async () => {
      const user = userEvent.setup();
      const pages: Array<{ before: string | null; after: string | null }> = [];
      stubFetch({
        "GET /tasks/s1": task(),
        "GET /tasks/s1/requests": [],
        "GET /tasks/s1/messages": (r: { query: URLSearchParams }) => {
          const before = Number(r.query.get("before_seq"));
          pages.push({ before: r.query.get("before_seq"), after: r.query.get("after_seq") });
          const from = Math.max(1, before - 3);
          const seqs = Array.from({ length: before - from }, (_, i) => from + i);
          return { messages: seqs.map((seq) => frames.stream(`old ${seq}`, seq)), last_seq: 12, first_seq: 1 };
        },
      });
      renderSession();
      const again = server.latest();
      // A full replay of the window (seq 6-10) that says older messages exist.
      act(() => {
        again
          .accept()
          .deliver(frames.replayStart({ truncated: true, count: 5 }), ...[6, 7, 8, 9, 10].map((seq) => frames.stream(`line ${seq}`, seq)), frames.replayComplete(10));
      });
      const first = await within(screen.getByRole("log", { name: "Stream output" })).findByText("line 6");
      expect(first).toHaveTextContent(/^6line 6$/); // numbered by seq, not from 1
      await user.click(await screen.findByRole("button", { name: "Load earlier output" }));
      const stream = screen.getByRole("log", { name: "Stream output" });
      expect(await within(stream).findByText("old 3")).toBeInTheDocument();
      expect(within(stream).getByText("old 3")).toHaveTextContent(/^3old 3$/);
      live(again, frames.stream("line 11", 11)); // the live tail keeps coming
      expect(await within(stream).findByText("line 11")).toBeInTheDocument(); // rendered in its own time
      await user.click(screen.getByRole("button", { name: "Load earlier output" }));
      expect(await within(stream).findByText("old 1")).toBeInTheDocument();
      expect(pages.map((p) => p.before)).toEqual(["6", "3"]);
      const texts = within(stream).getAllByText(/^(old|line) \d+$/).map((el) => el.textContent);
      // Each row: its seq, then its text; older pages in front, the live line at the end.
      const expected = [1, 2, 3, 4, 5].map((n) => `${n}old ${n}`).concat([6, 7, 8, 9, 10, 11].map((n) => `${n}line ${n}`));
      expect(texts).toEqual(expected);
      // At the log's start: nothing more to load.
      expect(screen.queryByRole("button", { name: "Load earlier output" })).not.toBeInTheDocument();
    });

    it("exports the whole log as JSON Lines, page by page", async () => {
      const user = userEvent.setup();
      const all = Array.from({ length: 5 }, (_, i) => frames.stream(`line ${i + 1}`, i + 1));
      stubFetch({
        "GET /tasks/s1": task(),
        "GET /tasks/s1/requests": [],
        "GET /tasks/s1/messages": (r: { query: URLSearchParams }) => {
          const after = Number(r.query.get("after_seq"));
          return { messages: all.filter((m) => m.seq > after).slice(0, 3), last_seq: 5, first_seq: 1 };
        },
      });
      const saved: Blob[] = [];
      const created = URL.createObjectURL;
      const revoked = URL.revokeObjectURL;
      URL.createObjectURL = (blob: Blob) => {
        saved.push(blob);
        return "blob:log";
      };
      URL.revokeObjectURL = () => {};
      const clicks: string[] = [];
      const click = HTMLAnchorElement.prototype.click;
      HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
        clicks.push(this.download);
      };
      try {
        renderSession();
        connectWith(server.latest(), all.slice(3));
        await user.click(screen.getByRole("button", { name: "Export log" }));
        await waitFor(() => expect(clicks).toEqual(["session-s1.jsonl"]));
        const text = await new Promise<string>((resolve) => {
          const reader = new FileReader();
          reader.onload = () => resolve(String(reader.result));
          reader.readAsText(saved[0]!);
        });
        expect(text.split("\n")).toEqual([...all.map((m) => JSON.stringify(m)), ""]);
      } finally {
        URL.createObjectURL = created;
        URL.revokeObjectURL = revoked;
        HTMLAnchorElement.prototype.click = click;
      }
    });
  });

  describe("presence", () => {
    const presence = (watchers: Array<{ connection_id: string; user: string | null; answering: string | null }>, tabs = watchers.length) => ({
      type: "presence",
      you: "me",
      tabs,
      watchers,
    });

    it("announces itself, shows who watches and who else is answering the open prompt", async () => {
      renderSession();
      const socket = server.latest();
      connectWith(socket, [frames.confirmation("r1", "Move?")], "r1", "waiting");
      expect(socket.sent).toContainEqual({ type: "presence", answering: null });
      live(
        socket,
        presence([
          { connection_id: "me", user: "ada", answering: null },
          { connection_id: "c2", user: "otto", answering: "r1" },
        ], 3),
      );
      const bar = await screen.findByRole("region", { name: "Presence" });
      expect(bar).toHaveTextContent("Watching: 3 tabs — ada, otto");
      expect(within(bar).getByRole("status")).toHaveTextContent("otto is answering…");
      // Its own claim is not shown back to it; a claim on an older request is stale.
      live(socket, presence([{ connection_id: "me", user: "ada", answering: "r1" }, { connection_id: "c2", user: null, answering: "r0" }]));
      await waitFor(() => expect(within(bar).queryByRole("status")).not.toBeInTheDocument());
    });

    it("says it is answering from the first click in the form until focus leaves it", async () => {
      const user = userEvent.setup();
      renderSession();
      const socket = server.latest();
      connectWith(socket, [frames.confirmation("r1", "Move?")], "r1", "waiting");
      const claims = () => socket.sent.filter((m) => (m as { type: string }).type === "presence");
      // The dialog took focus by itself: nobody is answering yet.
      expect(claims()).toEqual([{ type: "presence", answering: null }]);
      await user.click(await screen.findByRole("button", { name: "Yes" }));
      expect(claims()).toContainEqual({ type: "presence", answering: "r1" });
      live(socket, frames.resolved("r1", { value: true }));
      await waitFor(() => expect(claims().at(-1)).toEqual({ type: "presence", answering: null }));
    });
  });
});
