/**
 * A WebSocket stand-in handed to the ws client through its `createSocket` option. The test
 * plays the server: `accept()`, `deliver()` frames, `drop()` the connection.
 */
import type { WebSocketFactory, WebSocketLike } from "../lib/ws-client";

export class FakeWebSocket implements WebSocketLike {
  readyState = 0;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly sent: unknown[] = [];
  closedByClient: { code?: number; reason?: string } | null = null;

  constructor(readonly url: string) {}

  get since(): string | null {
    return new URL(this.url).searchParams.get("since");
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    this.sent.push(JSON.parse(data));
  }

  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
    this.readyState = 3;
  }

  /** The server accepts the connection. */
  accept(): this {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
    return this;
  }

  /** The server sends frames (objects are JSON-encoded). */
  deliver(...frames: unknown[]): this {
    for (const frame of frames) {
      const data = typeof frame === "string" ? frame : JSON.stringify(frame);
      this.onmessage?.(new MessageEvent("message", { data }));
    }
    return this;
  }

  /** The server (or the network) closes the connection. */
  drop(code = 1006, reason = ""): void {
    this.readyState = 3;
    this.onclose?.(new CloseEvent("close", { code, reason }));
  }
}

export interface FakeSocketServer {
  createSocket: WebSocketFactory;
  readonly sockets: FakeWebSocket[];
  /** The newest socket; throws if none was opened. */
  latest(): FakeWebSocket;
}

export function fakeSocketServer(): FakeSocketServer {
  const sockets: FakeWebSocket[] = [];
  return {
    sockets,
    createSocket: (url) => {
      const socket = new FakeWebSocket(url);
      sockets.push(socket);
      return socket;
    },
    latest: () => {
      const socket = sockets.at(-1);
      if (!socket) throw new Error("no socket was opened");
      return socket;
    },
  };
}

let nextSeq = 1;
const ts = "2024-01-01T00:00:00+00:00";

/** Builders for server frames, numbering session messages unless `seq` is given. */
export const frames = {
  resetSeq(): void {
    nextSeq = 1;
  },
  replayStart(extra: Partial<{ count: number; truncated: boolean; status: string; pending_request_id: string | null }> = {}) {
    return { type: "state_replay_start", count: 0, truncated: false, status: "running", pending_request_id: null, ...extra };
  },
  replayComplete(last_seq: number) {
    return { type: "state_replay_complete", last_seq };
  },
  stream(content: string, seq = nextSeq++) {
    return { type: "stream", content, seq, ts };
  },
  progress(
    progress: number,
    extra: Partial<{ message: string | null; stage: string | null; details: Record<string, unknown> | null }> = {},
    seq = nextSeq++,
  ) {
    return { type: "progress", progress, message: null, stage: null, details: null, seq, ts, ...extra };
  },
  status(status: string, seq = nextSeq++) {
    return { type: "status", status, seq, ts };
  },
  confirmation(
    request_id: string,
    prompt: string,
    extra: Partial<{ kind: string; details: Record<string, unknown> | null; timeout: number | null; default: boolean; ts: string }> = {},
    seq = nextSeq++,
  ) {
    return { type: "request_confirmation", request_id, prompt, kind: "confirm", details: null, timeout: null, default: false, seq, ts, ...extra };
  },
  input(
    request_id: string,
    prompt: string,
    fields: Array<{ name: string; description?: string; type?: string; value?: unknown; required?: boolean }>,
    schema: Record<string, unknown> = {},
    seq = nextSeq++,
  ) {
    return {
      type: "request_user_input",
      request_id,
      prompt,
      fields: fields.map((f) => ({ description: "", type: "string", value: null, required: true, ...f })),
      schema,
      timeout: null,
      seq,
      ts,
    };
  },
  resolved(
    request_id: string,
    extra: Partial<{ reason: string; value: boolean | null; values: Record<string, unknown> | null; answered_by: Record<string, unknown> | null }> = {},
    seq = nextSeq++,
  ) {
    return { type: "request_resolved", request_id, reason: "answered", value: null, values: null, answered_by: null, ...extra, seq, ts };
  },
  attemptFailed(error: string, attempt: number, max_attempts: number, seq = nextSeq++) {
    return { type: "attempt_failed", error, attempt, max_attempts, seq, ts };
  },
  completed(result: unknown, values: Record<string, unknown> | null = null, seq = nextSeq++) {
    return { type: "task_completed", result, values, seq, ts };
  },
  failed(error: string, seq = nextSeq++) {
    return { type: "task_failed", error, can_retry: false, attempt: null, seq, ts };
  },
  cancelled(reason: string, seq = nextSeq++) {
    return { type: "task_cancelled", reason, position: null, seq, ts };
  },
  interrupted(reason: string, axes: Array<{ axis: string; position: number | null; unit: string | null }> | null = null, seq = nextSeq++) {
    return { type: "task_interrupted", reason, axes, seq, ts };
  },
  error(code: string, message: string, errors: Array<{ field: string; message: string }> = []) {
    return { type: "error", code, message, errors };
  },
};
