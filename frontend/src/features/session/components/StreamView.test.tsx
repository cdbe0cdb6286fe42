import { fireEvent, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import type { StreamLine } from "../hooks/session-state";
import { ROW_HEIGHT, StreamView } from "./StreamView";

const makeLines = (n: number, from = 0): StreamLine[] =>
  Array.from({ length: n }, (_, i) => ({ key: `s${from + i}`, text: `line ${from + i + 1}`, kind: "output", seq: from + i + 1 }));

describe("StreamView", () => {
  it("renders only the rows near the view, however long the stream", () => {
    render(<StreamView lines={makeLines(5000)} offset={0} onClear={() => {}} />);
    const log = screen.getByRole("log", { name: "Stream output" });
    const rows = within(log).getAllByText(/^line \d+$/);
    expect(rows.length).toBeLessThan(100);
    // Following the output: the newest line is there, the first is not.
    expect(within(log).getByText("line 5000")).toBeInTheDocument();
    expect(within(log).queryByText("line 1")).not.toBeInTheDocument();
    expect(screen.getByText("5000 lines")).toBeInTheDocument();
  });

  it("stops following when scrolled up, and offers a way back", async () => {
    const user = userEvent.setup();
    const { rerender } = render(<StreamView lines={makeLines(1000)} offset={0} onClear={() => {}} />);
    const log = screen.getByRole("log", { name: "Stream output" });
    fireEvent.scroll(log, { target: { scrollTop: 0 } });
    expect(within(log).getByText("line 1")).toBeInTheDocument();

    rerender(<StreamView lines={makeLines(1200)} offset={0} onClear={() => {}} />);
    expect(within(log).getByText("line 1")).toBeInTheDocument();
    expect(within(log).queryByText("line 1200")).not.toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Jump to latest" }));
    expect(within(log).getByText("line 1200")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Jump to latest" })).not.toBeInTheDocument();
  });

  it("follows again once scrolled back to the bottom", () => {
    render(<StreamView lines={makeLines(100)} offset={0} onClear={() => {}} />);
    const log = screen.getByRole("log", { name: "Stream output" });
    fireEvent.scroll(log, { target: { scrollTop: 0 } });
    expect(screen.getByRole("button", { name: "Jump to latest" })).toBeInTheDocument();
    fireEvent.scroll(log, { target: { scrollTop: 100 * ROW_HEIGHT } });
    expect(screen.queryByRole("button", { name: "Jump to latest" })).not.toBeInTheDocument();
  });

  it("numbers lines by their seq, also after some were cleared, and clears on request", async () => {
    const onClear = vi.fn();
    render(<StreamView lines={makeLines(2, 10)} offset={10} onClear={onClear} />);
    expect(screen.getByText("(10 cleared)", { exact: false })).toBeInTheDocument();
    expect(screen.getByText("11")).toBeInTheDocument();
    await userEvent.setup().click(screen.getByRole("button", { name: "Clear Stream" }));
    expect(onClear).toHaveBeenCalledOnce();
  });

  it("offers earlier output above the stream and keeps the reader's place when it arrives", async () => {
    const onLoadEarlier = vi.fn();
    const props = { offset: 0, onClear: () => {}, earlierAvailable: true, onLoadEarlier };
    const { rerender } = render(<StreamView lines={makeLines(100, 100)} {...props} />);
    const log = screen.getByRole("log", { name: "Stream output" });
    await userEvent.setup().click(screen.getByRole("button", { name: "Load earlier output" }));
    expect(onLoadEarlier).toHaveBeenCalledOnce();
    fireEvent.scroll(log, { target: { scrollTop: 10 * ROW_HEIGHT } }); // reading line 111
    rerender(<StreamView lines={[...makeLines(50, 50), ...makeLines(100, 100)]} {...props} />);
    expect(log.scrollTop).toBe(60 * ROW_HEIGHT); // still at line 111, 50 rows further down
    rerender(<StreamView lines={[...makeLines(50, 50), ...makeLines(100, 100)]} {...props} earlierAvailable={false} earlierDropped />);
    expect(screen.queryByRole("button", { name: "Load earlier output" })).not.toBeInTheDocument();
    expect(screen.getByText(/older output is no longer kept/)).toBeInTheDocument();
  });
});
