import type { ConnectionState } from "../../../lib/ws-client";

/** "connected" / "reconnecting" / "offline" (and "connecting" at first), always visible. */
export function ConnectionIndicator({ state, onReconnect }: { state: ConnectionState; onReconnect: () => void }) {
  return (
    <span className="connection">
      <span className={`dot dot-${state}`} aria-hidden="true" />
      <span role="status" aria-label="connection">
        {state}
      </span>
      {state === "offline" && (
        <button type="button" className="link" onClick={onReconnect}>
          Reconnect now
        </button>
      )}
    </span>
  );
}
