import { beforeEach, describe, expect, it } from "vitest";

import type { ErrorMessage, SessionMessage, StateReplayStart } from "../../../lib/messages";
import type { SessionEvent } from "../../../lib/ws-client";
import { frames } from "../../../test/fake-websocket";
import { clientHost, describeAnswerer, initialSessionState, MAX_LINES, sessionReducer, type SessionState } from "./session-state";

const msg = (frame: object, replayed = false): SessionEvent => ({ kind: "message", message: frame as SessionMessage, replayed });
const start = (extra: Partial<StateReplayStart> = {}, full = true): SessionEvent => ({
  kind: "replay_start",
  message: frames.replayStart(extra) as StateReplayStart,
  full,
});
const complete = (last_seq = 0): SessionEvent => ({ kind: "replay_complete", message: { type: "state_replay_complete", last_seq } });
const error = (frame: object): SessionEvent => ({ kind: "error", message: frame as ErrorMessage });

function apply(state: SessionState, ...events: SessionEvent[]): SessionState {
  return sessionReducer(state, { type: "events", events });
}

const otherTab = { connection_id: "c2", client: "127.0.0.1:50000", user: null, via: "websocket" };

describe("sessionReducer", () => {
  beforeEach(() => frames.resetSeq());

  it("rebuilds the open request from a replay (a reload mid-prompt)", () => {
    const s = apply(
      initialSessionState,
      { kind: "reset" },
      start({ status: "waiting", pending_request_id: "r1" }),
      msg(frames.stream("hello"), true),
      msg(frames.confirmation("r1", "Proceed?"), true),
      complete(2),
    );
    expect(s.openRequest?.request_id).toBe("r1");
    expect(s.status).toBe("waiting");
    expect(s.lines.map((l) => l.text)).toEqual(["hello"]);
    expect(s.replaying).toBe(false);
  });

  it("treats a request followed by its resolution or a terminal message as closed", () => {
    const resolved = apply(initialSessionState, msg(frames.confirmation("r1", "A?")), msg(frames.resolved("r1", { value: true })));
    expect(resolved.openRequest).toBeNull();
    const ended = apply(initialSessionState, msg(frames.input("r2", "Form", [{ name: "a" }])), msg(frames.cancelled("user")));
    expect(ended.openRequest).toBeNull();
    expect(ended.status).toBe("cancelled");
  });

  it("trusts the server's pending_request_id when the replay ends", () => {
    const s = apply(initialSessionState, start({ pending_request_id: null }), msg(frames.confirmation("r1", "A?"), true), complete());
    expect(s.openRequest).toBeNull();
  });

  it("says who answered when another tab did", () => {
    const s = apply(
      initialSessionState,
      msg(frames.confirmation("r1", "Send e-mail to a@b.c?")),
      msg(frames.resolved("r1", { value: true, answered_by: otherTab })),
    );
    expect(s.openRequest).toBeNull();
    expect(s.notices.map((n) => n.text)).toEqual(["Answered by 127.0.0.1 (another tab): Yes — “Send e-mail to a@b.c?”"]);
  });

  it("adds no notice when this tab's own answer resolves the request", () => {
    let s = apply(initialSessionState, msg(frames.confirmation("r1", "A?")));
    s = sessionReducer(s, { type: "answer_sent", requestId: "r1" });
    expect(s.answering).toEqual(["r1"]);
    s = apply(s, msg(frames.resolved("r1", { value: true, answered_by: { ...otherTab, connection_id: "me" } })));
    expect(s.notices).toEqual([]);
    expect(s.resolutions[0]?.byThisTab).toBe(true);
    expect(s.answering).toEqual([]);
  });

  it("adds no notices for resolutions that are only history (replayed)", () => {
    const s = apply(initialSessionState, msg(frames.confirmation("r1", "A?"), true), msg(frames.resolved("r1", { answered_by: otherTab }), true));
    expect(s.notices).toEqual([]);
  });

  it("says so when a request timed out, with the default that was used", () => {
    const s = apply(initialSessionState, msg(frames.confirmation("r1", "Move?")), msg(frames.resolved("r1", { reason: "timeout", value: false })));
    expect(s.notices[0]?.text).toBe("“Move?” timed out — default No used.");
    const form = apply(initialSessionState, msg(frames.input("r2", "Form", [{ name: "a" }])), msg(frames.resolved("r2", { reason: "timeout" })));
    expect(form.notices[0]?.text).toBe("“Form” timed out.");
  });

  it("keeps the last progress message and stage when a progress message has none", () => {
    const s = apply(
      initialSessionState,
      msg(frames.progress(10, { stage: "moving", message: "Moving x" })),
      msg(frames.progress(20, { stage: null, message: null })),
    );
    expect(s.progress).toMatchObject({ progress: 20, stage: "moving", message: "Moving x" });
    const next = apply(s, msg(frames.progress(30, { stage: "measuring", message: "x point 1/3" })));
    expect(next.progress).toMatchObject({ stage: "measuring", message: "x point 1/3" });
  });

  it("names a client by its host, never by its ephemeral port", () => {
    expect(clientHost("127.0.0.1:50000")).toBe("127.0.0.1");
    expect(clientHost("[::1]:50000")).toBe("::1");
    expect(clientHost("lab-pc")).toBe("lab-pc");
    expect(describeAnswerer({ connection_id: null, client: "10.0.0.7:4000", user: null, role: null, via: "http" })).toBe("10.0.0.7 (via the HTTP API)");
  });

  it("puts server field errors on their fields and keeps the request open", () => {
    let s = apply(initialSessionState, msg(frames.input("r1", "Form", [{ name: "to_address" }])));
    s = sessionReducer(s, { type: "answer_sent", requestId: "r1" });
    s = apply(s, error(frames.error("validation_error", "invalid answer", [{ field: "to_address", message: "not an e-mail" }])));
    expect(s.openRequest?.request_id).toBe("r1");
    expect(s.fieldErrors).toEqual({ to_address: "not an e-mail" });
    expect(s.formError).toBeNull();
    expect(s.answering).toEqual([]);
  });

  it("explains a rejected answer when another tab was first", () => {
    let s = apply(initialSessionState, msg(frames.confirmation("r1", "A?")));
    s = sessionReducer(s, { type: "answer_sent", requestId: "r1" });
    s = apply(s, msg(frames.resolved("r1", { value: false, answered_by: otherTab })), error(frames.error("already_answered", "already answered")));
    expect(s.notices.at(-1)?.text).toContain("answered by 127.0.0.1 (another tab)");
  });

  it("lets the operator answer again if the answer may have been lost in a reconnect", () => {
    let s = apply(initialSessionState, msg(frames.confirmation("r1", "A?")));
    s = sessionReducer(s, { type: "answer_sent", requestId: "r1" });
    s = apply(s, start({ pending_request_id: "r1" }, false), complete());
    expect(s.openRequest?.request_id).toBe("r1");
    expect(s.answering).toEqual([]);
  });

  it("starts over on reset but keeps notices", () => {
    let s = apply(initialSessionState, msg(frames.stream("a")), msg(frames.confirmation("r1", "A?")), msg(frames.resolved("r1", { answered_by: otherTab })));
    s = apply(s, { kind: "reset" });
    expect(s.lines).toEqual([]);
    expect(s.notices).toHaveLength(1);
  });

  it("offers the log's earlier output after a truncated full replay, and marks a gap after a resume", () => {
    const full = apply(initialSessionState, start({ truncated: true }, true));
    expect(full.earlierAvailable).toBe(true);
    expect(full.lines).toEqual([]);
    const gap = apply(initialSessionState, start({ truncated: true }, false));
    expect(gap.lines[0]?.text).toContain("lost while this tab was disconnected");
    expect(gap.earlierAvailable).toBe(false);
  });

  it("puts a page of the log in front, once, and knows when the log's start is reached", () => {
    const stream = (seq: number) => ({ type: "stream" as const, content: `l${seq}`, seq, ts: "" });
    let state = apply(initialSessionState, start({ truncated: true }, true));
    state = apply(state, { kind: "message", message: stream(9), replayed: true }, { kind: "message", message: stream(10), replayed: true });
    expect(state.firstSeq).toBe(9);
    // The page overlaps what is held (seq 9): that line is not shown twice.
    state = sessionReducer(state, { type: "earlier_loaded", messages: [stream(7), stream(8), stream(9)], firstStored: 4 });
    expect(state.lines.map((l) => l.seq)).toEqual([7, 8, 9, 10]);
    expect([state.firstSeq, state.earlierAvailable, state.earlierDropped]).toEqual([7, true, false]);
    state = sessionReducer(state, { type: "earlier_loaded", messages: [stream(4), stream(5), stream(6)], firstStored: 4 });
    expect(state.lines.map((l) => l.text)).toEqual(["l4", "l5", "l6", "l7", "l8", "l9", "l10"]);
    // Messages 1-3 were dropped beyond the server's log limit: said, not offered.
    expect([state.firstSeq, state.earlierAvailable, state.earlierDropped]).toEqual([4, false, true]);
  });

  it("records failed attempts as stream events and the outcome when done", () => {
    const s = apply(
      initialSessionState,
      msg(frames.attemptFailed("boom", 1, 3)),
      msg(frames.completed({ sent: true }, { subject: "hi" })),
    );
    expect(s.lines[0]).toMatchObject({ kind: "event", text: "Attempt 1/3 failed: boom" });
    expect(s.outcome?.type).toBe("task_completed");
    expect(s.status).toBe("completed");
  });

  it("clears the stream locally and keeps counting lines", () => {
    let s = apply(initialSessionState, msg(frames.stream("a")), msg(frames.stream("b")));
    s = sessionReducer(s, { type: "clear_stream" });
    s = apply(s, msg(frames.stream("c")));
    expect(s.lines.map((l) => l.text)).toEqual(["c"]);
    expect(s.hiddenLines).toBe(2);
  });

  it("caps the lines kept in memory", () => {
    const events = Array.from({ length: MAX_LINES + 5 }, (_, i) => msg(frames.stream(`line ${i}`)));
    const s = apply(initialSessionState, ...events);
    expect(s.lines).toHaveLength(MAX_LINES);
    expect(s.lines[0]?.text).toBe("line 5");
    expect(s.hiddenLines).toBe(5);
  });

  it("opens the request from the REST snapshot when the replay lacked it", () => {
    let s = apply(initialSessionState, start({ pending_request_id: "r9" }), complete());
    expect(s.openRequest).toBeNull();
    const pending = frames.confirmation("r9", "From REST?");
    s = sessionReducer(s, { type: "task_snapshot", task: { pending_request: pending } as never });
    expect(s.openRequest?.request_id).toBe("r9");
  });
});

describe("describeAnswerer", () => {
  it("names the user, else the client host, else the connection", () => {
    expect(describeAnswerer({ connection_id: "c1", client: "10.0.0.5:1234", user: "ana", role: "operator", via: "websocket" })).toBe("ana (another tab)");
    expect(describeAnswerer({ connection_id: "c1", client: "10.0.0.5:1234", user: null, role: null, via: "http" })).toBe("10.0.0.5 (via the HTTP API)");
    expect(describeAnswerer({ connection_id: "c1", client: null, user: null, role: null, via: "websocket" })).toBe("c1 (another tab)");
  });
});
