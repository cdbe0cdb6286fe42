import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router-dom";
import { beforeEach, describe, expect, it } from "vitest";

import { WebSocketFactoryContext } from "../features/session";
import type { Identity } from "../lib/auth";
import { fakeSocketServer, frames, type FakeSocketServer } from "../test/fake-websocket";
import { reply, stubFetch, task, type StubRequest } from "../test/fetch-stub";
import { AppRoutes } from "./App";

const PASSWORD = "correct horse";
const NOT_AUTHENTICATED = reply(401, { detail: "Not authenticated" });
const hardware = { controller: "simulated", axes: [] };

let signedIn: Identity | null;
let server: FakeSocketServer;

function stubServer() {
  stubFetch({
    "GET /auth/me": () => signedIn ?? NOT_AUTHENTICATED,
    "POST /auth/login": (request: StubRequest) => {
      const { username, password } = request.body as { username: string; password: string };
      if (password !== PASSWORD) return reply(401, { detail: "Invalid username or password" });
      signedIn = { user: username, role: username === "vera" ? "viewer" : "operator" };
      return signedIn;
    },
    // Every other route needs a sign-in, as on the server.
    "GET /tasks": () => (signedIn ? [] : NOT_AUTHENTICATED),
    "GET /tasks/s1": () => (signedIn ? task({ status: "waiting" }) : NOT_AUTHENTICATED),
    "GET /tasks/s1/requests": () => (signedIn ? [] : NOT_AUTHENTICATED),
    "GET /task-types": () => (signedIn ? [] : NOT_AUTHENTICATED),
    "GET /hardware": () => (signedIn ? hardware : NOT_AUTHENTICATED),
  });
}

function renderApp(path: string) {
  server = fakeSocketServer();
  render(
    <MemoryRouter initialEntries={[path]}>
      <WebSocketFactoryContext.Provider value={server.createSocket}>
        <AppRoutes />
      </WebSocketFactoryContext.Provider>
    </MemoryRouter>,
  );
}

/** Once the session has opened its `count`th socket, the server replays one open prompt on it. */
async function replayPrompt(count = 1) {
  // The socket opens in an effect, which may run just after the page is on screen.
  await waitFor(() => expect(server.sockets).toHaveLength(count));
  act(() => {
    server
      .latest()
      .accept()
      .deliver(
        frames.replayStart({ count: 1, status: "waiting", pending_request_id: "r1" }),
        frames.confirmation("r1", "Go on?", {}, 1),
        frames.replayComplete(1),
      );
  });
}

async function signIn(username: string) {
  const user = userEvent.setup();
  await screen.findByRole("heading", { name: "Sign in" });
  await user.type(screen.getByLabelText("User name"), username);
  await user.type(screen.getByLabelText("Password"), PASSWORD);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("the console with authentication on", () => {
  beforeEach(() => {
    frames.resetSeq();
    signedIn = null;
    stubServer();
  });

  it("signs in, then shows the session asked for with who is signed in", async () => {
    renderApp("/sessions/s1");
    await signIn("otto");
    expect(await screen.findByText("Signed in as otto (operator)")).toBeInTheDocument();
    await replayPrompt();
    const dialog = await screen.findByRole("dialog", { name: "Go on?" });
    expect(within(dialog).getByRole("button", { name: "Yes" })).toBeEnabled();
  });

  it("returns to sign-in when the session's socket is closed with 4401, and back after signing in again", async () => {
    signedIn = { user: "otto", role: "operator" };
    renderApp("/sessions/s1");
    await screen.findByText("Signed in as otto (operator)");
    await replayPrompt();
    await screen.findByRole("dialog", { name: "Go on?" });

    signedIn = null; // signed out in another tab
    act(() => server.latest().drop(4401, "credential revoked"));
    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(screen.getByText(/Your sign-in has ended/)).toBeInTheDocument();
    expect(server.sockets).toHaveLength(1); // the session left the screen, its socket with it

    await signIn("otto");
    await screen.findByText("Signed in as otto (operator)");
    await replayPrompt(2);
    expect(server.latest().url).toBe("ws://localhost:3000/ws/s1");
    expect(await screen.findByRole("dialog", { name: "Go on?" })).toBeInTheDocument();
  });

  it("shows a viewer every page read-only, with the Stop button", async () => {
    renderApp("/sessions/s1");
    await signIn("vera");
    expect(await screen.findByText("Signed in as vera (viewer)")).toBeInTheDocument();
    await replayPrompt();
    const dialog = await screen.findByRole("dialog", { name: "Go on?" });
    expect(within(dialog).getByText("Only operators can answer.")).toBeInTheDocument();
    expect(within(dialog).getByRole("button", { name: "Yes" })).toBeDisabled();
    expect(screen.queryByRole("button", { name: "Cancel Task" })).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Stop All Axes" })).toBeEnabled();
  });
});
