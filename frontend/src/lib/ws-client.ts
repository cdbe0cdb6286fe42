/**
 * The one WebSocket client of the console. It owns the connection to `/ws/{session}`:
 * reconnecting with backoff, resuming with `?since=<last seq>`, dropping duplicates by
 * `seq`, and dispatching what arrives to subscribers in order.
 *
 * The socket constructor is injected (`createSocket`) so tests drive a fake socket.
 */
import {
  asServerMessage,
  isSessionMessage,
  type ClientMessage,
  type ErrorMessage,
  type Presence,
  type SessionMessage,
  type StateReplayComplete,
  type StateReplayStart,
} from "./messages";

export type ConnectionState = "connecting" | "connected" | "reconnecting" | "offline";

/** The part of the browser's WebSocket the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

export const browserWebSocket: WebSocketFactory = (url) => new WebSocket(url);

/** Close codes the server uses, and what the client does about them. */
export const CloseCode = {
  normal: 1000,
  /** `invalid_since`: our `since` means nothing to the server; start over with a full replay. */
  policyViolation: 1008,
  /** The tab was too slow to keep up; reconnect with `since`. */
  tryAgainLater: 1013,
  /**
   * The credential this tab connected with was revoked, expired or signed out elsewhere:
   * another attempt would be refused, so the client stops and the person signs in again.
   */
  credentialRevoked: 4401,
  /** `session_not_found`: nothing to reconnect to. */
  sessionNotFound: 4404,
} as const;

export type SessionEvent =
  /** A full replay starts: everything derived from earlier messages is stale. */
  | { kind: "reset" }
  /** `full` is false when resuming with `since`; `truncated` then means lines were lost. */
  | { kind: "replay_start"; message: StateReplayStart; full: boolean }
  | { kind: "replay_complete"; message: StateReplayComplete }
  /** A session message, new to this client; `replayed` when it came in a replay. */
  | { kind: "message"; message: SessionMessage; replayed: boolean }
  | { kind: "error"; message: ErrorMessage }
  /** Who watches the session now (only after this tab announced itself: `announce`). */
  | { kind: "presence"; message: Presence }
  /** Closed with 4401: the client has stopped; only signing in again helps. */
  | { kind: "unauthorized" };

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Fraction of the delay randomised either way, so many tabs don't reconnect in step. */
  jitter: number;
}

export interface SessionSocketOptions {
  /** Absolute ws:// or wss:// URL of the session, without `since`. */
  url: string;
  createSocket?: WebSocketFactory;
  backoff?: Partial<BackoffOptions>;
  /** Failed attempts in a row after which the state reads "offline" (retries go on). */
  offlineAfter?: number;
  /** Keep-alive ping period; 0 disables it. */
  pingIntervalMs?: number;
  random?: () => number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 8000, factor: 2, jitter: 0.2 };
const OPEN = 1;

type Listener<T> = (value: T) => void;

export class SessionSocket {
  private readonly url: string;
  private readonly createSocket: WebSocketFactory;
  private readonly backoff: BackoffOptions;
  private readonly offlineAfter: number;
  private readonly pingIntervalMs: number;
  private readonly random: () => number;

  private socket: WebSocketLike | null = null;
  private seen = 0;
  private failures = 0;
  private stopped = true;
  /**
   * The server said the session does not exist (4404) or the credential is gone (4401):
   * reconnecting cannot help, only a new client (after signing in again).
   */
  private gone = false;
  private replaying = false;
  private announced = false;
  private answering: string | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private current: ConnectionState = "offline";
  private readonly listeners = new Set<Listener<SessionEvent>>();
  private readonly stateListeners = new Set<Listener<ConnectionState>>();

  constructor(options: SessionSocketOptions) {
    this.url = options.url;
    this.createSocket = options.createSocket ?? browserWebSocket;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.offlineAfter = options.offlineAfter ?? 4;
    this.pingIntervalMs = options.pingIntervalMs ?? 20_000;
    this.random = options.random ?? Math.random;
  }

  /** Newest `seq` received; the next connection resumes after it. */
  get lastSeq(): number {
    return this.seen;
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** Whether the server is replaying saved messages on the current connection. */
  get isReplaying(): boolean {
    return this.replaying;
  }

  subscribe(listener: Listener<SessionEvent>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onStateChange(listener: Listener<ConnectionState>): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Connect (first time, or again after `stop`). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.failures = 0;
    this.open(this.seen > 0 ? "reconnecting" : "connecting");
  }

  /** Close for good: no reconnect until `start` is called again. */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      detach(socket);
      socket.close(CloseCode.normal, "client closed");
    }
    this.setState("offline");
  }

  /** Skip the backoff wait (a "Reconnect" button, the browser coming back online). */
  reconnectNow(): void {
    if (this.socket || this.gone) return;
    this.stopped = false;
    this.clearTimers();
    this.open("reconnecting");
  }

  /**
   * Take part in presence: this tab is listed as watching, and (operators) as answering the
   * request `answering` while its form is in use. Sent only when it changes, and again on
   * every new connection; the server coalesces what it tells the other tabs.
   */
  announce(answering: string | null = null): void {
    if (this.announced && answering === this.answering) return;
    this.announced = true;
    this.answering = answering;
    this.send({ type: "presence", answering });
  }

  /** Send a message; false when there is no open connection to send it on. */
  send(message: ClientMessage): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  private open(state: ConnectionState): void {
    this.setState(state);
    const url = new URL(this.url);
    if (this.seen > 0) url.searchParams.set("since", String(this.seen));
    const full = this.seen === 0;
    let socket: WebSocketLike;
    try {
      socket = this.createSocket(url.toString());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.setState("connected");
      this.startPing();
    };
    socket.onmessage = (event) => {
      if (this.socket === socket) this.receive(event.data, full);
    };
    socket.onerror = () => {
      // A close event always follows; reconnecting is decided there.
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      detach(socket);
      this.closed(event.code);
    };
  }

  private receive(data: unknown, full: boolean): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(data));
    } catch {
      return;
    }
    const message = asServerMessage(parsed);
    if (!message) return;
    switch (message.type) {
      case "state_replay_start":
        this.replaying = true;
        if (full) {
          this.seen = 0;
          this.emit({ kind: "reset" });
        }
        this.emit({ kind: "replay_start", message, full });
        return;
      case "state_replay_complete":
        this.replaying = false;
        this.failures = 0;
        this.seen = Math.max(this.seen, message.last_seq);
        this.emit({ kind: "replay_complete", message });
        // Every connection is new to the server: say again who is here (and answering).
        if (this.announced) this.send({ type: "presence", answering: this.answering });
        return;
      case "error":
        if (message.code === "invalid_since") this.seen = 0;
        this.emit({ kind: "error", message });
        return;
      case "pong":
        return;
      case "presence":
        this.emit({ kind: "presence", message });
        return;
      default:
        if (!isSessionMessage(message)) return;
        if (message.seq > 0) {
          if (message.seq <= this.seen) return;
          this.seen = message.seq;
        }
        this.emit({ kind: "message", message, replayed: this.replaying });
    }
  }

  private closed(code: number): void {
    this.clearTimers();
    this.replaying = false;
    if (code === CloseCode.sessionNotFound || code === CloseCode.credentialRevoked) {
      this.stopped = true;
      this.gone = true;
      this.setState("offline");
      if (code === CloseCode.credentialRevoked) this.emit({ kind: "unauthorized" });
      return;
    }
    // invalid_since: the server no longer knows our position; replay everything.
    if (code === CloseCode.policyViolation) this.seen = 0;
    if (this.stopped) return;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.failures += 1;
    this.setState(this.failures >= this.offlineAfter ? "offline" : "reconnecting");
    const { initialMs, maxMs, factor, jitter } = this.backoff;
    const base = Math.min(maxMs, initialMs * factor ** (this.failures - 1));
    const delay = Math.max(0, base * (1 + jitter * (2 * this.random() - 1)));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.open(this.current === "offline" ? "offline" : "reconnecting");
    }, delay);
  }

  private startPing(): void {
    if (this.pingIntervalMs <= 0) return;
    this.pingTimer = setInterval(() => this.send({ type: "ping" }), this.pingIntervalMs);
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
  }

  private setState(state: ConnectionState): void {
    if (state === this.current) return;
    this.current = state;
    for (const listener of [...this.stateListeners]) listener(state);
  }

  private emit(event: SessionEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}

function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = null;
}

/** ws:// or wss:// URL of a session on the page's own origin. */
export function sessionSocketUrl(sessionId: string, base: Location | URL = window.location): string {
  const scheme = base.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${base.host}/ws/${encodeURIComponent(sessionId)}`;
}
