import { createContext, useCallback, useContext, useEffect, useReducer, useRef, useState } from "react";

import { reportForbidden, reportUnauthenticated } from "../../../lib/auth";
import type { ClientMessage } from "../../../lib/messages";
import {
  browserWebSocket,
  SessionSocket,
  sessionSocketUrl,
  type ConnectionState,
  type SessionEvent,
  type WebSocketFactory,
} from "../../../lib/ws-client";
import { initialSessionState, sessionReducer, type SessionAction, type SessionState } from "./session-state";

/** Lets tests (and only tests) hand the session a fake WebSocket. */
export const WebSocketFactoryContext = createContext<WebSocketFactory>(browserWebSocket);

/** Events are applied at most this often, so a flood of lines costs few renders. */
const FLUSH_MS = 16;

export interface SessionHandle {
  state: SessionState;
  connection: ConnectionState;
  dispatch: (action: SessionAction) => void;
  /** Send on the session's socket; false when not connected. */
  send: (message: ClientMessage) => boolean;
  reconnect: () => void;
  /** Presence: this tab is answering `answering` (or nothing); see `SessionSocket.announce`. */
  announce: (answering: string | null) => void;
}

export function useSession(sessionId: string): SessionHandle {
  const createSocket = useContext(WebSocketFactoryContext);
  const [state, dispatch] = useReducer(sessionReducer, initialSessionState);
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const clientRef = useRef<SessionSocket | null>(null);

  useEffect(() => {
    const client = new SessionSocket({ url: sessionSocketUrl(sessionId), createSocket });
    clientRef.current = client;
    let buffer: SessionEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      timer = null;
      const events = buffer;
      buffer = [];
      if (events.length) dispatch({ type: "events", events });
    };
    const offEvents = client.subscribe((event) => {
      if (event.kind === "unauthorized") reportUnauthenticated();
      if (event.kind === "error" && event.message.code === "forbidden") reportForbidden();
      buffer.push(event);
      timer ??= setTimeout(flush, FLUSH_MS);
    });
    const offState = client.onStateChange(setConnection);
    // Back on the network: don't sit out the rest of a long backoff.
    const online = () => client.reconnectNow();
    window.addEventListener("online", online);
    client.announce(null); // listed as watching once connected (and told who else is)
    client.start();
    setConnection(client.state);
    return () => {
      window.removeEventListener("online", online);
      offEvents();
      offState();
      client.stop();
      if (timer !== null) clearTimeout(timer);
      clientRef.current = null;
    };
  }, [sessionId, createSocket]);

  const send = useCallback((message: ClientMessage) => clientRef.current?.send(message) ?? false, []);
  const reconnect = useCallback(() => clientRef.current?.reconnectNow(), []);
  const announce = useCallback((answering: string | null) => clientRef.current?.announce(answering), []);
  return { state, connection, dispatch, send, reconnect, announce };
}
