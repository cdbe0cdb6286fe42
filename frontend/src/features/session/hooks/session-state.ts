/**
 * A session's view state, folded from the ws client's events. Pure: the hook batches events
 * and the reducer applies a batch at once, so thousands of lines cost one render.
 */
import type { Task } from "../../../lib/api-types";
import type {
  Answerer,
  AttemptFailed,
  ErrorMessage,
  Presence,
  Progress,
  RequestMessage,
  RequestResolved,
  SessionMessage,
  TaskStatus,
  TerminalMessage,
} from "../../../lib/messages";
import type { SessionEvent } from "../../../lib/ws-client";

export interface StreamLine {
  /** Unique key (the message's seq, or a local counter for markers). */
  key: string;
  text: string;
  kind: "output" | "event" | "marker";
  /** The message's seq: the line's number, the same in every tab and in the log. */
  seq?: number;
}

export interface Notice {
  id: number;
  tone: "info" | "warning" | "error";
  text: string;
}

export interface Resolution {
  request: RequestMessage | null;
  resolved: RequestResolved;
  /** True when this tab sent the answer that won. */
  byThisTab: boolean;
}

export interface SessionState {
  status: TaskStatus | null;
  lines: StreamLine[];
  /** Lines dropped from memory (the cap) or cleared by the user. */
  hiddenLines: number;
  progress: Progress | null;
  openRequest: RequestMessage | null;
  /** Which request is open, per the latest request message or connect-time replay. */
  pendingRequestId: string | null;
  /** The server's word at connect time on which request is open (checked after replay). */
  replayPendingId: string | null;
  /** Requests this tab answered and whose resolution it awaits. */
  answering: string[];
  fieldErrors: Record<string, string>;
  formError: string | null;
  resolutions: Resolution[];
  attempts: AttemptFailed[];
  outcome: TerminalMessage | null;
  notices: Notice[];
  replaying: boolean;
  notFound: boolean;
  /** Every request seen, by id, so a resolution can name its prompt. */
  requests: Record<string, RequestMessage>;
  nextLocalId: number;
  /** The lowest seq this tab holds (live, replayed or loaded from the log); null: none. */
  firstSeq: number | null;
  /** The server's log holds messages before `firstSeq` ("Load earlier output"). */
  earlierAvailable: boolean;
  /** Paged back to the log's start, and the server had dropped older messages (its limit). */
  earlierDropped: boolean;
  /** Who watches the session, as the server last said (null until it says). */
  presence: Presence | null;
}

export type SessionAction =
  | { type: "events"; events: SessionEvent[] }
  | { type: "answer_sent"; requestId: string }
  | { type: "notice"; tone: Notice["tone"]; text: string }
  | { type: "dismiss_notice"; id: number }
  | { type: "clear_stream" }
  /** A page of the log before `firstSeq` arrived; `firstStored` is the log's oldest seq. */
  | { type: "earlier_loaded"; messages: SessionMessage[]; firstStored: number }
  | { type: "task_snapshot"; task: Task };

export const MAX_LINES = 50_000;

export const initialSessionState: SessionState = {
  status: null,
  lines: [],
  hiddenLines: 0,
  progress: null,
  openRequest: null,
  pendingRequestId: null,
  replayPendingId: null,
  answering: [],
  fieldErrors: {},
  formError: null,
  resolutions: [],
  attempts: [],
  outcome: null,
  notices: [],
  replaying: false,
  notFound: false,
  requests: {},
  nextLocalId: 1,
  firstSeq: null,
  earlierAvailable: false,
  earlierDropped: false,
  presence: null,
};

const TERMINAL_STATUS: Record<TerminalMessage["type"], TaskStatus> = {
  task_completed: "completed",
  task_failed: "failed",
  task_cancelled: "cancelled",
  task_interrupted: "interrupted",
};

/**
 * The host of a `host:port` client address: the port is the browser's ephemeral one, new for
 * every connection, and says nothing to a person. "[::1]:5000" and "::1:5000" give "::1".
 */
export function clientHost(client: string): string {
  const bracketed = /^\[(.*)\](?::\d+)?$/.exec(client);
  if (bracketed) return bracketed[1]!;
  return client.replace(/:\d+$/, "");
}

/** "127.0.0.1" from "127.0.0.1:54321"; whoever is most recognisable otherwise. */
export function describeAnswerer(by: Answerer | null): string {
  if (!by) return "someone";
  const who = by.user ?? (by.client ? clientHost(by.client) : null) ?? by.connection_id ?? "someone";
  if (by.via === "http") return `${who} (via the HTTP API)`;
  if (by.via === "server") return `${who} (server)`;
  return `${who} (another tab)`;
}

function answerText(resolved: RequestResolved): string {
  if (resolved.value !== null) return resolved.value ? "Yes" : "No";
  return "";
}

/** "timed out — default No used" for a confirmation, "timed out" for a form. */
export function timedOutText(defaultValue: boolean | null | undefined): string {
  return typeof defaultValue === "boolean" ? `timed out — default ${defaultValue ? "Yes" : "No"} used` : "timed out";
}

/** Mutable working copy for one batch; arrays are copied on first write. */
class Draft {
  state: SessionState;
  private linesCopied = false;
  private noticesCopied = false;

  constructor(state: SessionState) {
    this.state = { ...state };
  }

  addLine(line: Omit<StreamLine, "key">, key?: string) {
    this.copyLines();
    this.state.lines.push({ ...line, key: key ?? `local-${this.state.nextLocalId++}` });
  }

  /** `lines` go before every line held (older output from the log). */
  prependLines(lines: StreamLine[]) {
    this.copyLines();
    this.state.lines = [...lines, ...this.state.lines];
  }

  private copyLines() {
    if (!this.linesCopied) {
      this.state.lines = this.state.lines.slice();
      this.linesCopied = true;
    }
  }

  notice(tone: Notice["tone"], text: string) {
    if (!this.noticesCopied) {
      this.state.notices = this.state.notices.slice();
      this.noticesCopied = true;
    }
    this.state.notices.push({ id: this.state.nextLocalId++, tone, text });
  }

  finish(): SessionState {
    const overflow = this.state.lines.length - MAX_LINES;
    if (overflow > 0) {
      this.state.lines = this.state.lines.slice(overflow);
      this.state.hiddenLines += overflow;
    }
    return this.state;
  }
}

function closeRequest(draft: Draft, requestId: string) {
  const s = draft.state;
  if (s.openRequest?.request_id === requestId) {
    s.openRequest = null;
    s.fieldErrors = {};
    s.formError = null;
  }
  if (s.pendingRequestId === requestId) s.pendingRequestId = null;
  s.answering = s.answering.filter((id) => id !== requestId);
}

function applyResolved(draft: Draft, resolved: RequestResolved, replayed: boolean) {
  const s = draft.state;
  const request = s.requests[resolved.request_id] ?? null;
  const byThisTab = s.answering.includes(resolved.request_id);
  const wasOpen = s.openRequest?.request_id === resolved.request_id;
  s.resolutions = [...s.resolutions, { request, resolved, byThisTab }];
  closeRequest(draft, resolved.request_id);
  if (replayed || !wasOpen) return;
  const prompt = request ? `“${request.prompt}”` : "The request";
  if (resolved.reason === "timeout") {
    draft.notice("warning", `${prompt} ${timedOutText(resolved.value)}.`);
  } else if (resolved.reason === "cancelled") {
    draft.notice("info", `${prompt} was withdrawn.`);
  } else if (!byThisTab) {
    const answer = answerText(resolved);
    draft.notice("info", `Answered by ${describeAnswerer(resolved.answered_by)}${answer ? `: ${answer}` : ""} — ${prompt}`);
  }
}

function applyError(draft: Draft, error: ErrorMessage) {
  const s = draft.state;
  switch (error.code) {
    case "validation_error": {
      s.answering = [];
      if (error.errors.length) {
        s.fieldErrors = Object.fromEntries(error.errors.map((e) => [e.field.replace(/^values\./, ""), e.message]));
        const known = new Set(s.openRequest?.type === "request_user_input" ? s.openRequest.fields.map((f) => f.name) : []);
        const other = error.errors.filter((e) => !known.has(e.field.replace(/^values\./, "")));
        s.formError = other.length ? other.map((e) => `${e.field}: ${e.message}`).join("; ") : null;
      } else {
        s.fieldErrors = {};
        s.formError = error.message;
      }
      return;
    }
    case "already_answered":
    case "stale_request":
    case "no_pending_request": {
      s.answering = [];
      const last = s.resolutions.at(-1);
      const who = last?.resolved.answered_by ? describeAnswerer(last.resolved.answered_by) : "another tab";
      draft.notice("warning", `Your answer was not used: ${error.message}. It was answered by ${who}.`);
      return;
    }
    case "forbidden":
      // Nothing changed on the server: the prompt is still open, for someone who may answer.
      s.answering = [];
      draft.notice("error", `Refused by the server: ${error.message}.`);
      return;
    case "session_not_found":
      s.notFound = true;
      return;
    case "invalid_since":
      return; // the ws client starts over with a full replay
    default:
      draft.notice("error", error.message);
  }
}

function applyEvent(draft: Draft, event: SessionEvent) {
  const s = draft.state;
  switch (event.kind) {
    case "reset": {
      const { notices, nextLocalId, presence } = s;
      draft.state = { ...initialSessionState, notices, nextLocalId, presence, replaying: true };
      return;
    }
    case "replay_start":
      s.replaying = true;
      s.status = event.message.status;
      s.pendingRequestId = event.message.pending_request_id;
      s.replayPendingId = event.message.pending_request_id;
      // A full replay holds the newest messages only: the rest is in the session's log.
      if (event.message.truncated && event.full) s.earlierAvailable = true;
      if (event.message.truncated && !event.full) {
        draft.addLine({ kind: "marker", text: "… some output was lost while this tab was disconnected" });
      }
      return;
    case "presence":
      s.presence = event.message;
      return;
    case "replay_complete":
      s.replaying = false;
      s.pendingRequestId = s.replayPendingId;
      if (s.openRequest && s.openRequest.request_id !== s.replayPendingId) s.openRequest = null;
      if (!s.openRequest && s.replayPendingId) s.openRequest = s.requests[s.replayPendingId] ?? null;
      // An answer sent just before the connection dropped may never have arrived: let the
      // operator answer again (a duplicate is refused by the server, first answer wins).
      if (s.openRequest) s.answering = s.answering.filter((id) => id !== s.openRequest?.request_id);
      return;
    case "error":
      applyError(draft, event.message);
      return;
    case "message":
      applyMessage(draft, event);
      return;
    case "unauthorized":
      return; // the page goes to the sign-in (lib/auth); nothing of the session changed
  }
}

/** The stream line a message shows as, if any. */
export function lineOf(message: SessionMessage): StreamLine | null {
  if (message.type === "stream") return { kind: "output", text: message.content, key: `s${message.seq}`, seq: message.seq };
  if (message.type === "attempt_failed") {
    const text = `Attempt ${message.attempt}/${message.max_attempts} failed: ${message.error}`;
    return { kind: "event", text, key: `s${message.seq}`, seq: message.seq };
  }
  return null;
}

function applyMessage(draft: Draft, event: Extract<SessionEvent, { kind: "message" }>) {
  const s = draft.state;
  const message = event.message;
  if (message.seq > 0 && (s.firstSeq === null || message.seq < s.firstSeq)) s.firstSeq = message.seq;
  switch (message.type) {
    case "stream":
      draft.addLine({ kind: "output", text: message.content, seq: message.seq }, `s${message.seq}`);
      return;
    case "progress":
      // A progress message without a message or stage keeps the last one (as the server's
      // task record does): the caption always says what the task last reported.
      s.progress = { ...message, message: message.message ?? s.progress?.message ?? null, stage: message.stage ?? s.progress?.stage ?? null };
      return;
    case "status":
      s.status = message.status;
      return;
    case "request_confirmation":
    case "request_user_input":
      s.requests = { ...s.requests, [message.request_id]: message };
      s.openRequest = message;
      s.pendingRequestId = message.request_id;
      s.fieldErrors = {};
      s.formError = null;
      return;
    case "request_resolved":
      applyResolved(draft, message, event.replayed);
      return;
    case "attempt_failed":
      s.attempts = [...s.attempts, message];
      draft.addLine(
        { kind: "event", text: `Attempt ${message.attempt}/${message.max_attempts} failed: ${message.error}`, seq: message.seq },
        `s${message.seq}`,
      );
      return;
    default:
      s.outcome = message;
      s.status = TERMINAL_STATUS[message.type];
      s.openRequest = null;
      s.pendingRequestId = null;
      s.answering = [];
  }
}

export function sessionReducer(state: SessionState, action: SessionAction): SessionState {
  switch (action.type) {
    case "events": {
      const draft = new Draft(state);
      for (const event of action.events) applyEvent(draft, event);
      return draft.finish();
    }
    case "answer_sent":
      return {
        ...state,
        answering: [...state.answering, action.requestId],
        fieldErrors: {},
        formError: null,
      };
    case "notice": {
      const draft = new Draft(state);
      draft.notice(action.tone, action.text);
      return draft.finish();
    }
    case "dismiss_notice":
      return { ...state, notices: state.notices.filter((n) => n.id !== action.id) };
    case "earlier_loaded": {
      const before = state.firstSeq ?? Number.POSITIVE_INFINITY;
      const older = action.messages.filter((m) => m.seq < before);
      const draft = new Draft(state);
      draft.prependLines(older.map(lineOf).filter((l): l is StreamLine => l !== null));
      const first = older[0]?.seq ?? null;
      if (first !== null) draft.state.firstSeq = first;
      draft.state.earlierAvailable = first !== null && first > action.firstStored;
      draft.state.earlierDropped = !draft.state.earlierAvailable && action.firstStored > 1;
      return draft.finish();
    }
    case "clear_stream":
      return { ...state, lines: [], hiddenLines: state.hiddenLines + state.lines.length };
    case "task_snapshot": {
      // The REST view knows the open request even when a truncated replay lost it.
      const pending = action.task.pending_request;
      if (state.replaying || state.openRequest || !pending || pending.request_id !== state.pendingRequestId) return state;
      if (state.resolutions.some((r) => r.resolved.request_id === pending.request_id)) return state;
      return { ...state, openRequest: pending, requests: { ...state.requests, [pending.request_id]: pending } };
    }
  }
}
