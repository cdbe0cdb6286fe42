import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { fakeSocketServer, frames, type FakeSocketServer } from "../test/fake-websocket";
import { SessionSocket, sessionSocketUrl, type ConnectionState, type SessionEvent } from "./ws-client";

const URL_ = "ws://console.test/ws/s1";

function connect(server: FakeSocketServer, extra: Partial<ConstructorParameters<typeof SessionSocket>[0]> = {}) {
  const client = new SessionSocket({
    url: URL_,
    createSocket: server.createSocket,
    random: () => 0.5, // no jitter
    pingIntervalMs: 0,
    ...extra,
  });
  const events: SessionEvent[] = [];
  const states: ConnectionState[] = [];
  client.subscribe((event) => events.push(event));
  client.onStateChange((state) => states.push(state));
  client.start();
  return { client, events, states };
}

function streamed(events: SessionEvent[]): string[] {
  return events.flatMap((e) =>
    e.kind === "message" && e.message.type === "stream" ? [e.message.content] : [],
  );
}

describe("SessionSocket", () => {
  let server: FakeSocketServer;

  beforeEach(() => {
    vi.useFakeTimers();
    frames.resetSeq();
    server = fakeSocketServer();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("connects without since the first time and reads connected once open", () => {
    const { client, states } = connect(server);
    expect(server.latest().since).toBeNull();
    expect(client.state).toBe("connecting");
    server.latest().accept();
    expect(states).toEqual(["connecting", "connected"]);
  });

  it("dispatches a replay, then live messages, marking which were replayed", () => {
    const { events } = connect(server);
    server
      .latest()
      .accept()
      .deliver(frames.replayStart({ count: 1 }), frames.stream("old"), frames.replayComplete(1), frames.stream("new"));
    const kinds = events.map((e) => e.kind);
    expect(kinds).toEqual(["reset", "replay_start", "message", "replay_complete", "message"]);
    const replayedFlags = events.flatMap((e) => (e.kind === "message" ? [e.replayed] : []));
    expect(replayedFlags).toEqual([true, false]);
  });

  it("reconnects with since=<last seq> after the connection drops", () => {
    const { client, states } = connect(server);
    server.latest().accept().deliver(frames.replayStart(), frames.replayComplete(0), frames.stream("a"), frames.stream("b"));
    server.latest().drop(1006);
    expect(client.state).toBe("reconnecting");
    expect(server.sockets).toHaveLength(1);

    vi.advanceTimersByTime(250);
    expect(server.sockets).toHaveLength(2);
    expect(server.latest().since).toBe("2");
    server.latest().accept();
    expect(states.at(-1)).toBe("connected");
  });

  it("drops messages it has already seen so a reconnect adds no duplicate lines", () => {
    const { events } = connect(server);
    server.latest().accept().deliver(frames.replayStart(), frames.stream("a", 1), frames.stream("b", 2), frames.replayComplete(2));
    server.latest().drop();
    vi.advanceTimersByTime(250);
    // A server that replays an overlapping range must not duplicate lines.
    server
      .latest()
      .accept()
      .deliver(frames.replayStart({ count: 2 }), frames.stream("b", 2), frames.stream("c", 3), frames.replayComplete(3), frames.stream("c", 3), frames.stream("d", 4));
    expect(streamed(events)).toEqual(["a", "b", "c", "d"]);
  });

  it("does not reset state on a replay that resumes with since", () => {
    const { events } = connect(server);
    server.latest().accept().deliver(frames.replayStart(), frames.stream("a", 1), frames.replayComplete(1));
    server.latest().drop();
    vi.advanceTimersByTime(250);
    server.latest().accept().deliver(frames.replayStart(), frames.replayComplete(1));
    expect(events.filter((e) => e.kind === "reset")).toHaveLength(1);
    const starts = events.flatMap((e) => (e.kind === "replay_start" ? [e.full] : []));
    expect(starts).toEqual([true, false]);
  });

  it("backs off exponentially while the server is unreachable and reads offline after a few failures", () => {
    const { client } = connect(server, { offlineAfter: 3 });
    server.latest().drop(1006);
    expect(client.state).toBe("reconnecting");
    vi.advanceTimersByTime(249);
    expect(server.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(server.sockets).toHaveLength(2);

    server.latest().drop(1006);
    vi.advanceTimersByTime(499);
    expect(server.sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(server.sockets).toHaveLength(3);

    server.latest().drop(1006);
    expect(client.state).toBe("offline");
    vi.advanceTimersByTime(1000);
    expect(server.sockets).toHaveLength(4);
    server.latest().accept();
    expect(client.state).toBe("connected");
  });

  it("caps the backoff delay", () => {
    connect(server, { backoff: { initialMs: 100, maxMs: 300 } });
    for (let i = 0; i < 6; i++) {
      server.latest().drop(1006);
      vi.advanceTimersByTime(300);
    }
    expect(server.sockets).toHaveLength(7);
  });

  it("resets the backoff once a replay completes", () => {
    connect(server);
    server.latest().drop(1006);
    vi.advanceTimersByTime(250);
    server.latest().drop(1006);
    vi.advanceTimersByTime(500);
    server.latest().accept().deliver(frames.replayStart(), frames.replayComplete(0));
    server.latest().drop(1006);
    vi.advanceTimersByTime(250);
    expect(server.sockets).toHaveLength(4);
  });

  it("stops reconnecting when the session does not exist (4404)", () => {
    const { client, events } = connect(server);
    server.latest().accept().deliver(frames.error("session_not_found", "no such session"));
    server.latest().drop(4404);
    vi.advanceTimersByTime(60_000);
    client.reconnectNow();
    expect(server.sockets).toHaveLength(1);
    expect(client.state).toBe("offline");
    expect(events.some((e) => e.kind === "error" && e.message.code === "session_not_found")).toBe(true);
  });

  it("stops for good and says so when its credential is revoked (4401): no reconnect loop", () => {
    const { client, events } = connect(server);
    server.latest().accept().deliver(frames.replayStart(), frames.replayComplete(0));
    server.latest().drop(4401, "credential revoked");
    vi.advanceTimersByTime(60_000);
    client.reconnectNow();
    vi.advanceTimersByTime(60_000);
    expect(server.sockets).toHaveLength(1);
    expect(client.state).toBe("offline");
    expect(events.filter((e) => e.kind === "unauthorized")).toHaveLength(1);
  });

  it("keeps reconnecting after an ordinary drop, without saying unauthorized", () => {
    const { events } = connect(server);
    server.latest().accept();
    server.latest().drop(1006);
    vi.advanceTimersByTime(250);
    expect(server.sockets).toHaveLength(2);
    expect(events.some((e) => e.kind === "unauthorized")).toBe(false);
  });

  it("reconnects with since after being closed as too slow (1013)", () => {
    connect(server);
    server.latest().accept().deliver(frames.replayStart(), frames.stream("a", 7), frames.replayComplete(7));
    server.latest().drop(1013);
    vi.advanceTimersByTime(250);
    expect(server.latest().since).toBe("7");
  });

  it("starts over with a full replay after invalid_since (1008)", () => {
    const { events } = connect(server);
    server.latest().accept().deliver(frames.replayStart(), frames.stream("a", 5), frames.replayComplete(5));
    server.latest().drop();
    vi.advanceTimersByTime(250);
    expect(server.latest().since).toBe("5");
    server.latest().accept().deliver(frames.error("invalid_since", "since is ahead of the session"));
    server.latest().drop(1008);
    vi.advanceTimersByTime(500); // second failure in a row

    expect(server.latest().since).toBeNull();
    server.latest().accept().deliver(frames.replayStart({ count: 1 }), frames.stream("a2", 1), frames.replayComplete(1));
    expect(events.filter((e) => e.kind === "reset")).toHaveLength(2);
    expect(streamed(events)).toEqual(["a", "a2"]);
  });

  it("sends client messages only while connected", () => {
    const { client } = connect(server);
    expect(client.send({ type: "cancel" })).toBe(false);
    server.latest().accept();
    expect(client.send({ type: "confirm", value: true, request_id: "r1" })).toBe(true);
    expect(server.latest().sent).toEqual([{ type: "confirm", value: true, request_id: "r1" }]);
  });

  it("pings to keep the connection alive", () => {
    connect(server, { pingIntervalMs: 1000 });
    server.latest().accept();
    vi.advanceTimersByTime(2500);
    expect(server.latest().sent).toEqual([{ type: "ping" }, { type: "ping" }]);
  });

  it("ignores frames that are not protocol messages", () => {
    const { events } = connect(server);
    server.latest().accept().deliver("not json", { type: "mystery" }, { type: "pong" }, frames.stream("ok"));
    expect(events.map((e) => e.kind)).toEqual(["message"]);
  });

  it("closes for good on stop and ignores a late close event", () => {
    const { client } = connect(server);
    const socket = server.latest().accept();
    client.stop();
    expect(socket.closedByClient?.code).toBe(1000);
    socket.drop(1006);
    vi.advanceTimersByTime(60_000);
    expect(server.sockets).toHaveLength(1);
    expect(client.state).toBe("offline");
  });

  it("reconnects immediately on reconnectNow", () => {
    const { client } = connect(server, { offlineAfter: 1 });
    server.latest().drop(1006);
    expect(client.state).toBe("offline");
    client.reconnectNow();
    expect(server.sockets).toHaveLength(2);
  });
});

describe("sessionSocketUrl", () => {
  it("uses the page's origin and the matching ws scheme", () => {
    expect(sessionSocketUrl("abc", new URL("http://lab:8000/sessions/abc"))).toBe("ws://lab:8000/ws/abc");
    expect(sessionSocketUrl("abc", new URL("https://lab/sessions/abc"))).toBe("wss://lab/ws/abc");
  });
});

describe("SessionSocket presence", () => {
  let server: FakeSocketServer;

  beforeEach(() => {
    vi.useFakeTimers();
    frames.resetSeq();
    server = fakeSocketServer();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("announces presence on every connection, sends a change only once, and passes presence on", () => {
    const { client, events } = connect(server);
    client.announce(null); // not connected yet: said once the replay is over
    const first = server.latest();
    first.accept().deliver(frames.replayStart(), frames.replayComplete(0));
    expect(first.sent).toEqual([{ type: "presence", answering: null }]);
    client.announce("r1");
    client.announce("r1");
    expect(first.sent).toEqual([
      { type: "presence", answering: null },
      { type: "presence", answering: "r1" },
    ]);
    const presence = { type: "presence", you: "c1", tabs: 1, watchers: [{ connection_id: "c1", user: null, answering: "r1" }] };
    first.deliver(presence);
    expect(events.at(-1)).toEqual({ kind: "presence", message: presence });
    first.drop();
    vi.advanceTimersByTime(60_000);
    const second = server.latest();
    expect(second).not.toBe(first);
    second.accept().deliver(frames.replayStart(), frames.replayComplete(0));
    expect(second.sent).toEqual([{ type: "presence", answering: "r1" }]); // the new connection is told again
  });
});
