import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { IdentityContext } from "../../../lib/auth";
import { reply, stubFetch } from "../../../test/fetch-stub";
import { HardwarePanel } from "./HardwarePanel";

const axis = { unit: "um", min: -5000, max: 5000, fault: null };
const hardware = {
  controller: "simulated",
  connected: true,
  axes: [
    { ...axis, id: "x", name: "X (lateral)", position: 12.5, moving: true, state: "moving" },
    { ...axis, id: "y", name: "Y", position: 0, moving: false, state: "idle" },
  ],
};
const fault = "controller disconnected: cable pulled";
const disconnected = {
  controller: "simulated",
  connected: false,
  axes: [
    { ...axis, id: "x", name: "X", position: 12.5, moving: false, state: "fault", fault },
    { ...axis, id: "y", name: "Y", position: null, moving: false, state: "fault", fault },
  ],
};

describe("HardwarePanel", () => {
  it("shows each axis with position, motion and limits, in µm", async () => {
    stubFetch({ "GET /hardware": hardware });
    render(<HardwarePanel />);
    const x = await screen.findByRole("row", { name: /axis x/ });
    expect(within(x).getByText("12.5 µm")).toBeInTheDocument();
    expect(within(x).getByText("moving")).toBeInTheDocument();
    expect(within(x).getByText("-5000 … 5000 µm")).toBeInTheDocument();
    expect(within(x).getByText("X (lateral)")).toBeInTheDocument();
    expect(within(screen.getByRole("row", { name: /axis y/ })).getByText("idle")).toBeInTheDocument();
    expect(screen.getByText("controller: simulated")).toBeInTheDocument();
  });

  it("shows a lost controller link and each axis in fault", async () => {
    stubFetch({ "GET /hardware": disconnected });
    render(<HardwarePanel />);
    expect(await screen.findByText(/Controller disconnected: reconnecting/)).toBeInTheDocument();
    const x = screen.getByRole("row", { name: /axis x/ });
    expect(within(x).getByText("fault")).toBeInTheDocument();
    expect(within(x).getByText(fault)).toBeInTheDocument();
    expect(within(x).getByText("12.5 µm")).toBeInTheDocument();
    expect(within(screen.getByRole("row", { name: /axis y/ })).getByText("unknown")).toBeInTheDocument();
  });

  it("sends a software stop and says it is not an emergency stop", async () => {
    const { calls } = stubFetch({ "GET /hardware": hardware, "POST /hardware/stop": { stopped: ["x", "y"] } });
    render(<HardwarePanel />);
    expect(screen.getByText(/not an emergency stop/)).toBeInTheDocument();
    await userEvent.setup().click(screen.getByRole("button", { name: "Stop All Axes" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.path === "/hardware/stop")).toBe(true));
    expect(await screen.findByText(/Stop sent/)).toBeInTheDocument();
  });

  it("lets a viewer stop too: anyone who can see may stop", async () => {
    const { calls } = stubFetch({ "GET /hardware": hardware, "POST /hardware/stop": { stopped: ["x", "y"] } });
    render(
      <IdentityContext.Provider value={{ user: "vera", role: "viewer" }}>
        <HardwarePanel />
      </IdentityContext.Provider>,
    );
    await userEvent.setup().click(screen.getByRole("button", { name: "Stop All Axes" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.path === "/hardware/stop")).toBe(true));
  });

  it("reports a failed stop", async () => {
    stubFetch({ "GET /hardware": hardware, "POST /hardware/stop": reply(503, { detail: "controller offline" }) });
    render(<HardwarePanel />);
    await userEvent.setup().click(screen.getByRole("button", { name: "Stop All Axes" }));
    expect(await screen.findByText("Stop failed: controller offline")).toBeInTheDocument();
  });
});
