import type { TaskStatus } from "../lib/messages";

/** The task's lifecycle state as a coloured badge; `live` makes it announce changes. */
export function StatusBadge({ status, live = false }: { status: TaskStatus | null; live?: boolean }) {
  return (
    <span
      className={`badge badge-${status ?? "unknown"}`}
      role={live ? "status" : undefined}
      aria-label={live ? "task status" : undefined}
    >
      {status ?? "unknown"}
    </span>
  );
}
