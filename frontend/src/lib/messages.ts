/**
 * Hand-written narrowings of the generated protocol types: which server messages belong to
 * a session (carry `seq`, are replayed), which are requests, which end a task.
 */
import type {
  AttemptFailed,
  Error as ProtocolError,
  Pong,
  Presence,
  Progress,
  RequestConfirmation,
  RequestResolved,
  RequestUserInput,
  ServerMessage,
  StateReplayComplete,
  StateReplayStart,
  Status,
  Stream,
  TaskCancelled,
  TaskCompleted,
  TaskFailed,
  TaskInterrupted,
} from "./protocol";

export type {
  Answerer,
  ClientMessage,
  FieldError,
  InputField,
  Presence,
  RequestKind,
  ServerMessage,
  TaskStatus,
  Watcher,
} from "./protocol";
export type {
  AttemptFailed,
  Progress,
  RequestConfirmation,
  RequestResolved,
  RequestUserInput,
  StateReplayComplete,
  StateReplayStart,
  Status,
  Stream,
  TaskCancelled,
  TaskCompleted,
  TaskFailed,
  TaskInterrupted,
};

/** An `error` message: sent to one connection, never saved or replayed. */
export type ErrorMessage = ProtocolError;
export type ErrorCode = ErrorMessage["code"];

export type RequestMessage = RequestConfirmation | RequestUserInput;
export type TerminalMessage = TaskCompleted | TaskFailed | TaskCancelled | TaskInterrupted;

/** Saved in the session's history, numbered by `seq`, replayed on reconnect. */
export type SessionMessage =
  | Stream
  | Progress
  | Status
  | RequestMessage
  | RequestResolved
  | AttemptFailed
  | TerminalMessage;

/** About this connection only (`presence`: who watches; never saved or replayed). */
export type ConnectionMessage = StateReplayStart | StateReplayComplete | ErrorMessage | Pong | Presence;

const SESSION_TYPES: ReadonlySet<string> = new Set<SessionMessage["type"]>([
  "stream",
  "progress",
  "status",
  "request_confirmation",
  "request_user_input",
  "request_resolved",
  "attempt_failed",
  "task_completed",
  "task_failed",
  "task_cancelled",
  "task_interrupted",
]);

const CONNECTION_TYPES: ReadonlySet<string> = new Set<ConnectionMessage["type"]>([
  "state_replay_start",
  "state_replay_complete",
  "error",
  "pong",
  "presence",
]);

const TERMINAL_TYPES: ReadonlySet<string> = new Set<TerminalMessage["type"]>([
  "task_completed",
  "task_failed",
  "task_cancelled",
  "task_interrupted",
]);

export function isSessionMessage(message: ServerMessage): message is SessionMessage {
  return SESSION_TYPES.has(message.type);
}

export function isRequestMessage(message: ServerMessage): message is RequestMessage {
  return message.type === "request_confirmation" || message.type === "request_user_input";
}

export function isTerminalMessage(message: ServerMessage): message is TerminalMessage {
  return TERMINAL_TYPES.has(message.type);
}

/**
 * Accepts a parsed frame as a server message when its `type` is one the protocol defines.
 * Fields are trusted: the server validates what it sends against the same models.
 */
export function asServerMessage(value: unknown): ServerMessage | null {
  if (typeof value !== "object" || value === null) return null;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string") return null;
  if (!SESSION_TYPES.has(type) && !CONNECTION_TYPES.has(type)) return null;
  return value as ServerMessage;
}
