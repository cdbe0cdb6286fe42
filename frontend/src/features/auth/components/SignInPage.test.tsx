import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { beforeEach, describe, expect, it } from "vitest";

import { api } from "../../../lib/api-client";
import { reportUnauthenticated, useIdentity, type Identity } from "../../../lib/auth";
import { reply, stubFetch, type StubRequest } from "../../../test/fetch-stub";
import { AuthProvider } from "./AuthProvider";
import { RequireSignIn } from "./RequireSignIn";
import { SignedInAs } from "./SignedInAs";
import { SignInPage } from "./SignInPage";

const PASSWORD = "correct horse";
const NOT_AUTHENTICATED = reply(401, { detail: "Not authenticated" }, { "WWW-Authenticate": "Bearer" });

/** The server's side of signing in: who the cookie is, if anyone. */
let signedIn: Identity | null;
/** Who the password signs in as. */
let account: Identity;
let calls: StubRequest[];

function stubServer(overrides: Record<string, unknown> = {}) {
  ({ calls } = stubFetch({
    "GET /auth/me": () => signedIn ?? NOT_AUTHENTICATED,
    "POST /auth/login": (request: StubRequest) => {
      const body = request.body as { username: string; password: string };
      if (body.username !== account.user || body.password !== PASSWORD) {
        return reply(401, { detail: "Invalid username or password" });
      }
      signedIn = account;
      return account;
    },
    "POST /auth/logout": () => {
      signedIn = null;
      return reply(204, null);
    },
    "GET /tasks": () => (signedIn ? [] : NOT_AUTHENTICATED),
    ...overrides,
  }));
}

function Where() {
  const location = useLocation();
  return <p data-testid="where">{`${location.pathname}${location.search}`}</p>;
}

/** Any page of the console: it shows who the features see, and makes an API call on demand. */
function SomePage() {
  const identity = useIdentity();
  return (
    <>
      <h1>Some page</h1>
      <p>features see {identity.user ?? "nobody"} as {identity.role}</p>
      <button type="button" onClick={() => void api.get("/tasks").catch(() => {})}>
        Load tasks
      </button>
    </>
  );
}

function renderConsole(path: string) {
  render(
    <MemoryRouter initialEntries={[path]}>
      <AuthProvider>
        <SignedInAs />
        <Routes>
          <Route path="/sign-in" element={<SignInPage />} />
          <Route
            path="*"
            element={
              <RequireSignIn>
                <SomePage />
              </RequireSignIn>
            }
          />
        </Routes>
        <Where />
      </AuthProvider>
    </MemoryRouter>,
  );
}

function where() {
  return screen.getByTestId("where");
}

async function signInWith(user: ReturnType<typeof userEvent.setup>, username: string, password = PASSWORD) {
  await screen.findByRole("heading", { name: "Sign in" });
  await user.clear(screen.getByLabelText("User name"));
  await user.type(screen.getByLabelText("User name"), username);
  await user.type(screen.getByLabelText("Password"), password);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("signing in", () => {
  beforeEach(() => {
    signedIn = null;
    account = { user: "ana", role: "operator" };
    stubServer();
  });

  it("sends a person who is not signed in to the sign-in page, and back to the page they wanted", async () => {
    const user = userEvent.setup();
    renderConsole("/sessions/s1?tab=answers");
    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(where()).toHaveTextContent("/sign-in?next=%2Fsessions%2Fs1%3Ftab%3Danswers");
    expect(screen.getByLabelText("User name")).toHaveFocus();

    await signInWith(user, "ana");

    expect(await screen.findByRole("heading", { name: "Some page" })).toBeInTheDocument();
    expect(where()).toHaveTextContent("/sessions/s1?tab=answers");
    expect(screen.getByText("Signed in as ana (operator)")).toBeInTheDocument();
    expect(screen.getByText("features see ana as operator")).toBeInTheDocument();
    expect(calls.find((c) => c.path === "/auth/login")?.body).toEqual({ username: "ana", password: PASSWORD });
  });

  it("shows the server's refusal of a wrong password, keeps the name and asks for the password again", async () => {
    const user = userEvent.setup();
    renderConsole("/");
    await signInWith(user, "ana", "wrong");
    expect(await screen.findByRole("alert")).toHaveTextContent("Invalid username or password");
    expect(screen.getByLabelText("User name")).toHaveValue("ana");
    expect(screen.getByLabelText("Password")).toHaveValue("");
    expect(screen.getByLabelText("Password")).toHaveFocus();
    expect(screen.queryByRole("heading", { name: "Some page" })).not.toBeInTheDocument();
  });

  it("says how long to wait after too many failed sign-ins (429 with Retry-After)", async () => {
    stubServer({
      "POST /auth/login": reply(429, { detail: "Too many failed logins; try again later" }, { "Retry-After": "272" }),
    });
    const user = userEvent.setup();
    renderConsole("/");
    await signInWith(user, "ana");
    expect(await screen.findByRole("alert")).toHaveTextContent("Too many failed sign-ins for this name: try again in 4 min 32 s.");
  });

  it("names the field the server found wrong (422)", async () => {
    stubServer({
      "POST /auth/login": reply(422, {
        detail: [{ loc: ["body", "username"], msg: "String should have at least 1 character", type: "string_too_short" }],
      }),
    });
    const user = userEvent.setup();
    renderConsole("/");
    await screen.findByRole("heading", { name: "Sign in" });
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("User name: String should have at least 1 character");
  });

  it("says so when the server cannot be reached to sign in", async () => {
    stubServer({
      "POST /auth/login": () => {
        throw new TypeError("Failed to fetch");
      },
    });
    const user = userEvent.setup();
    renderConsole("/");
    await signInWith(user, "ana");
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not reach the server: Failed to fetch");
  });

  it("never sends a person off the console after signing in, whatever `next` says", async () => {
    const user = userEvent.setup();
    renderConsole("/sign-in?next=//evil.example/steal");
    await signInWith(user, "ana");
    await screen.findByRole("heading", { name: "Some page" });
    expect(where()).toHaveTextContent(/^\/$/);
  });

  it("goes straight on from the sign-in page when already signed in", async () => {
    signedIn = account;
    renderConsole("/sign-in?next=%2Fsessions%2Fs1");
    expect(await screen.findByRole("heading", { name: "Some page" })).toBeInTheDocument();
    expect(where()).toHaveTextContent("/sessions/s1");
  });

  it("says when the server cannot say who is signed in, and asks again on request", async () => {
    stubServer({ "GET /auth/me": reply(503, { detail: "Store unavailable" }) });
    const user = userEvent.setup();
    renderConsole("/sessions/s1");
    expect(await screen.findByRole("heading", { name: "Cannot reach the server" })).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("Could not check who is signed in: Store unavailable");

    signedIn = account;
    stubServer();
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("heading", { name: "Some page" })).toBeInTheDocument();
    expect(where()).toHaveTextContent("/sessions/s1");
  });
});

describe("with authentication off", () => {
  beforeEach(() => {
    signedIn = { user: null, role: "admin" };
    stubServer();
  });

  it("shows no sign-in page and no identity in the header", async () => {
    renderConsole("/sessions/s1");
    expect(await screen.findByRole("heading", { name: "Some page" })).toBeInTheDocument();
    expect(screen.getByText("features see nobody as admin")).toBeInTheDocument();
    expect(screen.queryByText(/Signed in as/)).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Sign out" })).not.toBeInTheDocument();
  });

  it("leaves the sign-in page for the page asked for", async () => {
    renderConsole("/sign-in?next=%2Fsessions%2Fs1");
    await screen.findByRole("heading", { name: "Some page" });
    expect(where()).toHaveTextContent("/sessions/s1");
  });
});

describe("a signed-in person", () => {
  beforeEach(() => {
    account = { user: "ana", role: "operator" };
    signedIn = account;
    stubServer();
  });

  it("signs out: POST /auth/logout, then the sign-in page, and signing in again leads to the start page", async () => {
    const user = userEvent.setup();
    renderConsole("/sessions/s1");
    await user.click(await screen.findByRole("button", { name: "Sign out" }));

    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("You have signed out.");
    expect(where()).toHaveTextContent(/^\/sign-in$/);
    expect(calls.filter((c) => c.method === "POST" && c.path === "/auth/logout")).toHaveLength(1);
    expect(screen.queryByText(/Signed in as/)).not.toBeInTheDocument();

    await signInWith(user, "ana");
    await screen.findByRole("heading", { name: "Some page" });
    expect(where()).toHaveTextContent(/^\/$/);
  });

  it("is not sent back to this page by the sockets the sign-out itself closes", async () => {
    stubServer({
      "POST /auth/logout": () => {
        signedIn = null;
        reportUnauthenticated(); // the server closes our WebSockets (4401) before it answers
        return reply(204, null);
      },
    });
    const user = userEvent.setup();
    renderConsole("/sessions/s1");
    await user.click(await screen.findByRole("button", { name: "Sign out" }));
    expect(await screen.findByText("You have signed out.")).toBeInTheDocument();
    expect(where()).toHaveTextContent(/^\/sign-in$/);
  });

  it("stays signed in, and is told why, when signing out fails", async () => {
    stubServer({ "POST /auth/logout": reply(503, { detail: "Store unavailable" }) });
    const user = userEvent.setup();
    renderConsole("/sessions/s1");
    await user.click(await screen.findByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not sign out: Store unavailable");
    expect(screen.getByRole("heading", { name: "Some page" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Sign out" })).toBeEnabled();
  });

  it("is sent to the sign-in page by a 401 from any API call, and back after signing in again", async () => {
    const user = userEvent.setup();
    renderConsole("/sessions/s1");
    await screen.findByRole("heading", { name: "Some page" });

    signedIn = null; // logged out in another tab, expired, or revoked
    await user.click(screen.getByRole("button", { name: "Load tasks" }));

    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("Your sign-in has ended");
    expect(where()).toHaveTextContent("/sign-in?next=%2Fsessions%2Fs1");

    await signInWith(user, "ana");
    await screen.findByRole("heading", { name: "Some page" });
    expect(where()).toHaveTextContent("/sessions/s1");
  });

  it("sees a role changed by an admin at the next refusal (403)", async () => {
    stubServer({ "GET /tasks": reply(403, { detail: "Forbidden: requires operator" }) });
    const user = userEvent.setup();
    renderConsole("/");
    await screen.findByText("Signed in as ana (operator)");

    signedIn = { user: "ana", role: "viewer" };
    await user.click(screen.getByRole("button", { name: "Load tasks" }));
    expect(await screen.findByText("Signed in as ana (viewer)")).toBeInTheDocument();
    await waitFor(() => expect(screen.getByText("features see ana as viewer")).toBeInTheDocument());
  });
});
