import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { TaskType } from "../../../lib/api-types";
import { IdentityContext } from "../../../lib/auth";
import { stubXhr } from "../../../test/fake-xhr";
import { reply, stubFetch, type StubRequest } from "../../../test/fetch-stub";
import { StartTaskForm } from "./StartTaskForm";

const taskTypes: TaskType[] = [
  {
    name: "interactive_demo",
    title: "Interactive e-mail demo",
    timeout: null,
    role: "operator",
    description: "Streams, asks for an e-mail form",
    parameters_schema: {
      type: "object",
      properties: {
        stream_count: { title: "Stream Count", type: "integer", default: 5, minimum: 0, description: "Messages streamed" },
        delay: { title: "Delay", type: "number", default: 0.5 },
      },
    },
  },
  {
    name: "axis_movement",
    title: "Axis movement",
    timeout: null,
    role: "operator",
    description: "Moves one axis",
    parameters_schema: {
      type: "object",
      $defs: { Mode: { enum: ["relative", "absolute"], type: "string", title: "Mode" } },
      properties: {
        axis: { title: "Axis", type: "string", enum: ["x", "y"] },
        mode: { $ref: "#/$defs/Mode", default: "relative" },
        distance: { title: "Distance", type: "number" },
        confirm: { title: "Confirm", type: "boolean", default: true },
      },
      required: ["axis", "distance"],
    },
  },
];

const created = { task_id: "t1", session_id: "t1", status: "running", message: null, status_url: "/tasks/t1", ws_url: "/ws/t1" };

describe("StartTaskForm", () => {
  let posted: StubRequest[];

  beforeEach(() => {
    posted = [];
    stubFetch({
      "GET /task-types": taskTypes,
      "POST /tasks": (request: StubRequest) => {
        posted.push(request);
        return reply(202, created);
      },
    });
  });

  it("lets a viewer look at task types and parameters, but not start one", async () => {
    const user = userEvent.setup();
    render(
      <IdentityContext.Provider value={{ user: "vera", role: "viewer" }}>
        <StartTaskForm onStarted={() => {}} />
      </IdentityContext.Provider>,
    );
    await user.selectOptions(await screen.findByLabelText("Task type"), "axis_movement");
    expect(screen.getByText("Only operators can start tasks.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Start Task" })).not.toBeInTheDocument();
    expect(screen.getByRole("group", { name: "Parameters" })).toBeDisabled();
    expect(screen.getByLabelText(/^Distance/)).toBeDisabled();
  });

  it("builds the parameter form from the selected task type's schema with its defaults", async () => {
    render(<StartTaskForm onStarted={() => {}} />);
    const count = await screen.findByLabelText(/Stream Count/);
    expect(count).toHaveValue(5);
    expect(screen.getByLabelText(/stream_count/)).toBe(count);
    expect(screen.getByLabelText("Delay")).toHaveValue(0.5);
    expect(screen.getByText("Messages streamed")).toBeInTheDocument();

    await userEvent.setup().selectOptions(screen.getByLabelText("Task type"), "axis_movement");
    expect(screen.getByLabelText(/Axis/)).toHaveDisplayValue("x");
    expect(screen.getByLabelText(/Mode/)).toHaveDisplayValue("relative");
    expect(screen.getByLabelText("Confirm")).toBeChecked();
    expect(screen.queryByLabelText(/Stream Count/)).not.toBeInTheDocument();
  });

  it("starts the task with typed parameters and hands over the new session", async () => {
    const user = userEvent.setup();
    const onStarted = vi.fn();
    render(<StartTaskForm onStarted={onStarted} />);
    const count = await screen.findByLabelText(/Stream Count/);
    await user.clear(count);
    await user.type(count, "3");
    await user.clear(screen.getByLabelText("Delay"));
    await user.type(screen.getByLabelText("Delay"), "0");
    await user.click(screen.getByRole("button", { name: "Start Task" }));
    await waitFor(() => expect(onStarted).toHaveBeenCalledWith(created));
    expect(posted[0]?.body).toEqual({ task_type: "interactive_demo", parameters: { stream_count: 3, delay: 0 } });
  });

  it("shows the server's validation messages next to their fields", async () => {
    stubFetch({
      "GET /task-types": taskTypes,
      "POST /tasks": reply(422, {
        detail: [{ loc: ["body", "parameters", "stream_count"], msg: "Input should be greater than or equal to 0", type: "value_error" }],
      }),
    });
    const user = userEvent.setup();
    const onStarted = vi.fn();
    render(<StartTaskForm onStarted={onStarted} />);
    const count = await screen.findByLabelText(/Stream Count/);
    await user.clear(count);
    await user.type(count, "-1");
    await user.click(screen.getByRole("button", { name: "Start Task" }));
    expect(await screen.findByText("Input should be greater than or equal to 0")).toBeInTheDocument();
    expect(count).toHaveAttribute("aria-invalid", "true");
    expect(count).toHaveValue(-1);
    expect(onStarted).not.toHaveBeenCalled();
  });

  it("offers task types by their title, with the name beside it", async () => {
    render(<StartTaskForm onStarted={() => {}} />);
    const select = await screen.findByLabelText("Task type");
    expect(within(select).getByRole("option", { name: "Interactive e-mail demo (interactive_demo)" })).toBeInTheDocument();
    expect(within(select).getByRole("option", { name: "Axis movement (axis_movement)" })).toHaveValue("axis_movement");
  });

  it("explains a refusal that is not about one field (409: busy)", async () => {
    stubFetch({ "GET /task-types": taskTypes, "POST /tasks": reply(409, { detail: "A task is already running: abc" }) });
    render(<StartTaskForm onStarted={() => {}} />);
    await screen.findByLabelText(/Stream Count/);
    await userEvent.setup().click(screen.getByRole("button", { name: "Start Task" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("A task is already running: abc");
  });

  it("asks to queue when the box is ticked", async () => {
    const user = userEvent.setup();
    render(<StartTaskForm onStarted={() => {}} />);
    await screen.findByLabelText(/Stream Count/);
    await user.click(screen.getByLabelText(/Queue it/));
    await user.click(screen.getByRole("button", { name: "Start Task" }));
    await waitFor(() => expect(posted[0]?.body).toMatchObject({ queue: true }));
  });
});

describe("StartTaskForm with axis fields", () => {
  // What the motion tasks' parameter models emit: axis ids marked for the console.
  const motion: TaskType = {
    name: "flat_alignment",
    title: "Flat alignment",
    timeout: null,
    role: "operator",
    description: "Peaks the signal (um scans)",
    parameters_schema: {
      type: "object",
      properties: {
        axis: { title: "Axis", type: "string", default: "x", "x-interlock-widget": "axis", description: "Axis id" },
        axes: {
          title: "Axes",
          type: "array",
          items: { type: "string", "x-interlock-widget": "axis" },
          default: ["x", "y"],
        },
        span: { title: "Span", type: "number", default: 500, description: "Scan width (um) around each axis" },
      },
    },
  };
  const hardware = {
    controller: "simulated",
    axes: [
      { id: "x", name: "X (lateral)", unit: "um", position: 0, moving: false, min: -5000, max: 5000 },
      { id: "y", name: "Y (lateral)", unit: "um", position: 0, moving: false, min: -5000, max: 5000 },
      { id: "tx", name: "Tilt X", unit: "deg", position: 0, moving: false, min: -5, max: 5 },
    ],
  };

  it("offers the controller's axes in a select (id, name and unit), and sends the ids", async () => {
    const posted: StubRequest[] = [];
    stubFetch({
      "GET /task-types": [motion],
      "GET /hardware": hardware,
      "POST /tasks": (request: StubRequest) => {
        posted.push(request);
        return reply(202, created);
      },
    });
    const user = userEvent.setup();
    render(<StartTaskForm onStarted={() => {}} />);
    const axis = await screen.findByRole("combobox", { name: /^Axis/ });
    expect(within(axis).getAllByRole("option").map((o) => o.textContent)).toEqual([
      "x — X (lateral), µm",
      "y — Y (lateral), µm",
      "tx — Tilt X, deg",
    ]);
    expect(axis).toHaveValue("x");
    await user.selectOptions(axis, "tx");

    const axes = screen.getByRole("listbox", { name: /^Axes/ });
    expect(within(axes).getByRole("option", { name: "x — X (lateral), µm" })).toHaveProperty("selected", true);
    await user.deselectOptions(axes, "x");
    await user.selectOptions(axes, "tx");
    // Descriptions write micrometres as µm.
    expect(screen.getByText("Scan width (µm) around each axis")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Start Task" }));
    await waitFor(() => expect(posted).toHaveLength(1));
    expect(posted[0]?.body).toEqual({ task_type: "flat_alignment", parameters: { axis: "tx", axes: ["y", "tx"], span: 500 } });
  });

  it("falls back to a text field when the hardware cannot be read", async () => {
    stubFetch({ "GET /task-types": [motion], "GET /hardware": reply(502, { detail: "controller error" }) });
    render(<StartTaskForm onStarted={() => {}} />);
    const axis = await screen.findByRole("textbox", { name: /^Axis/ });
    expect(axis).toHaveValue("x");
    expect(screen.getByRole("textbox", { name: /^Axes/ })).toHaveValue("x, y");
  });
});

describe("StartTaskForm with file fields", () => {
  // What csv_scan's parameter model emits: an input file that takes .csv files.
  const csvScan: TaskType = {
    name: "csv_scan",
    title: "CSV position scan",
    timeout: null,
    role: "operator",
    description: "Visit the positions listed in an uploaded CSV file",
    parameters_schema: {
      type: "object",
      properties: {
        positions: {
          title: "Positions",
          type: "string",
          format: "interlock-upload",
          "x-interlock-suffixes": [".csv"],
          description: "CSV file: a header naming the axes",
        },
        confirm_timeout: { title: "Confirm Timeout", type: "number", default: 300 },
      },
      required: ["positions"],
    },
  };
  const stored = { upload_id: "ab".repeat(16), filename: "path.csv", size: 8, sha256: "00" };
  let posted: StubRequest[];

  beforeEach(() => {
    posted = [];
    stubFetch({
      "GET /task-types": [csvScan],
      "POST /tasks": (request: StubRequest) => {
        posted.push(request);
        return reply(202, created);
      },
    });
  });

  it("uploads the chosen file at once, shows its progress, and sends the upload id", async () => {
    const xhr = stubXhr();
    const user = userEvent.setup();
    const onStarted = vi.fn();
    render(<StartTaskForm onStarted={onStarted} />);
    const picker = await screen.findByLabelText(/Positions/);
    expect(picker).toHaveAttribute("type", "file");
    expect(picker).toHaveAttribute("accept", ".csv");
    expect(screen.getByText(/Takes \.csv files\./)).toBeInTheDocument();

    await user.upload(picker, new File(["x,y\n1,2\n"], "path.csv", { type: "text/csv" }));
    const [request] = xhr.sent;
    expect(request?.method).toBe("POST");
    expect(request?.url).toBe("/uploads");
    const file = (request?.body as FormData).get("file") as File;
    expect(file.name).toBe("path.csv");

    act(() => request?.progress(4, 8));
    expect(screen.getByRole("progressbar", { name: "Uploading path.csv" })).toHaveAttribute("aria-valuenow", "50");
    act(() => request?.respond(201, stored));
    expect(await screen.findByText("Uploaded path.csv (8 bytes)")).toBeInTheDocument();
    expect(screen.queryByRole("progressbar")).not.toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Start Task" }));
    await waitFor(() => expect(onStarted).toHaveBeenCalledWith(created));
    expect(posted[0]?.body).toEqual({ task_type: "csv_scan", parameters: { positions: stored.upload_id, confirm_timeout: 300 } });
  });

  it("shows why the server refused a file and keeps no upload id", async () => {
    const xhr = stubXhr();
    const user = userEvent.setup();
    render(<StartTaskForm onStarted={() => {}} />);
    const picker = await screen.findByLabelText(/Positions/);
    await user.upload(picker, new File(["x"], "big.csv", { type: "text/csv" }));
    act(() => xhr.sent[0]?.respond(413, { detail: "Upload too large: the limit is 50 MiB (52428800 bytes)" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Could not upload big.csv: Upload too large: the limit is 50 MiB (52428800 bytes)",
    );
    await user.click(screen.getByRole("button", { name: "Start Task" }));
    await waitFor(() => expect(posted).toHaveLength(1));
    expect(posted[0]?.body).toEqual({ task_type: "csv_scan", parameters: { confirm_timeout: 300 } });
  });
});
