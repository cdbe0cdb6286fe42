import type { Presence, Watcher } from "../../../lib/messages";

/** How a watcher is named to the others: their user name, once there are users. */
export function watcherName(watcher: Watcher): string {
  return watcher.user ?? "Someone in another tab";
}

export interface PresenceBarProps {
  presence: Presence | null;
  /** The request open now: only answering it counts (an older claim is stale). */
  openRequestId: string | null;
}

/**
 * Who watches this session, and who is answering its prompt right now. Informational only:
 * anyone allowed may still answer, and the first valid answer wins.
 */
export function PresenceBar({ presence, openRequestId }: PresenceBarProps) {
  if (!presence) return null;
  const others = presence.watchers.filter((w) => w.connection_id !== presence.you);
  const answering = openRequestId ? others.filter((w) => w.answering === openRequestId) : [];
  const users = [...new Set(presence.watchers.map((w) => w.user).filter((u): u is string => u !== null))];
  const tabs = `${presence.tabs} tab${presence.tabs === 1 ? "" : "s"}`;
  return (
    <section className="presence" aria-label="Presence">
      <p className="muted">
        Watching: {tabs}
        {users.length > 0 && ` — ${users.join(", ")}`}
      </p>
      {answering.map((w) => (
        <p key={w.connection_id} role="status" className="presence-answering">
          {watcherName(w)} is answering…
        </p>
      ))}
    </section>
  );
}
