import { useCallback, useEffect, useMemo, useState } from "react";
import { Link } from "react-router-dom";

import { StatusBadge } from "../../../components/StatusBadge";
import { errorMessage } from "../../../lib/api-client";
import { TASK_STATUSES, type Task, type TaskStatus } from "../../../lib/api-types";
import { formatDateTime } from "../../../lib/dates";
import { usePolling } from "../../../lib/use-polling";
import { withUnits } from "../../../lib/units";
import { listTasks, listTaskTypes, startOfDay } from "../api/list-tasks";

/** Tasks on one page of the list. */
export const PAGE_SIZE = 50;

// "pending" lasts only until the task is admitted: not worth a filter of its own.
const STATUSES = TASK_STATUSES.filter((s) => s !== "pending");

/** Who the task waits on, or what it last reported ("stage: message", the stage once). */
export function activity(task: Task): string {
  if (task.pending_request) return withUnits(`waiting for operator: ${task.pending_request.prompt}`);
  if (task.status === "queued") {
    const queued = task.queue_position ? `queued (position ${task.queue_position})` : "queued";
    return task.queued_reason ? `${queued}: ${task.queued_reason}` : queued;
  }
  if (task.status === "failed" && task.error) return withUnits(task.error);
  const { stage, message } = task;
  if (stage && message?.startsWith(`${stage}:`)) return withUnits(message);
  return withUnits([stage, message].filter(Boolean).join(": "));
}

/** The type filter's choices: the server's task types (none while they load or fail). */
function useTypeNames(): string[] {
  const [names, setNames] = useState<string[]>([]);
  useEffect(() => {
    const controller = new AbortController();
    listTaskTypes(controller.signal)
      .then((types) => setNames(types.map((t) => t.name)))
      .catch(() => setNames([]));
    return () => controller.abort();
  }, []);
  return names;
}

/**
 * The newest tasks, refreshed every `intervalMs`, each linking to its session; filtered by
 * status, type, text and the day range they were created in, and paged through history.
 */
export function TaskList({ intervalMs = 1000 }: { intervalMs?: number }) {
  const [status, setStatus] = useState<TaskStatus | "">("");
  const [taskType, setTaskType] = useState("");
  const [text, setText] = useState("");
  const [fromDay, setFromDay] = useState("");
  const [toDay, setToDay] = useState("");
  const [page, setPage] = useState(0);
  const typeNames = useTypeNames();
  const query = useMemo(
    () => ({
      status,
      taskType,
      text: text.trim(),
      createdAfter: startOfDay(fromDay),
      createdBefore: startOfDay(toDay, 1), // the "to" day is included
      limit: PAGE_SIZE + 1, // one more: is there an older page?
      offset: page * PAGE_SIZE,
    }),
    [status, taskType, text, fromDay, toDay, page],
  );
  // Each answer says what it answers: one to an older filter (still in flight when the
  // filter changed) is never shown as this one's.
  const load = useCallback(async (signal: AbortSignal) => ({ query, tasks: await listTasks(query, signal) }), [query]);
  const { data, error, refresh } = usePolling(load, intervalMs);
  // A new filter or page is fetched now, not at the next refresh.
  useEffect(() => refresh(), [load, refresh]);
  const current = data?.query === query ? data.tasks : undefined;
  const tasks = current?.slice(0, PAGE_SIZE);
  const older = (current?.length ?? 0) > PAGE_SIZE;
  const filtered = Boolean(status || taskType || text.trim() || fromDay || toDay);
  // Any change of filter starts again at the newest page.
  const filter =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      set(value);
      setPage(0);
    };

  return (
    <section className="panel" aria-labelledby="tasks-heading">
      <div className="panel-header">
        <h2 id="tasks-heading">Tasks</h2>
        <label className="inline">
          Show{" "}
          <select value={status} onChange={(e) => filter(setStatus)(e.target.value as TaskStatus | "")}>
            <option value="">all</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="task-filters" role="search" aria-label="Filter tasks">
        <label className="inline">
          Type{" "}
          <select value={taskType} onChange={(e) => filter(setTaskType)(e.target.value)}>
            <option value="">all types</option>
            {typeNames.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          Search <input type="search" value={text} maxLength={200} onChange={(e) => filter(setText)(e.target.value)} />
        </label>
        <label className="inline">
          From <input type="date" value={fromDay} onChange={(e) => filter(setFromDay)(e.target.value)} />
        </label>
        <label className="inline">
          To <input type="date" value={toDay} onChange={(e) => filter(setToDay)(e.target.value)} />
        </label>
      </div>
      {error != null && (
        <p role="alert" className="error">
          Could not load tasks: {errorMessage(error)}
        </p>
      )}
      {tasks === undefined ? (
        error == null && <p className="muted">Loading tasks…</p>
      ) : tasks.length === 0 ? (
        <p className="muted">{page > 0 ? "No older tasks." : filtered ? "No tasks match." : "No tasks yet."}</p>
      ) : (
        <table className="tasks">
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">Activity</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {tasks.map((task) => (
              <tr key={task.task_id} className={task.pending_request ? "row-waiting" : undefined}>
                <td>
                  <Link to={`/sessions/${encodeURIComponent(task.session_id)}`} className="task-link">
                    <strong>{task.task_title}</strong> <span className="muted">{task.task_type}</span> <code>{task.task_id}</code>
                  </Link>
                </td>
                <td>
                  <StatusBadge status={task.status} />
                </td>
                <td className="num">
                  <span className="mini-bar" aria-hidden="true">
                    <span style={{ width: `${Math.max(0, Math.min(100, task.progress))}%` }} />
                  </span>
                  {Math.round(task.progress)}%
                </td>
                <td className="activity">{activity(task)}</td>
                <td>
                  {task.created_at && <time dateTime={task.created_at}>{formatDateTime(task.created_at)}</time>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(page > 0 || older) && (
        <nav className="actions pager" aria-label="Task pages">
          <button type="button" onClick={() => setPage((p) => Math.max(0, p - 1))} disabled={page === 0}>
            Newer
          </button>
          <span className="muted">
            {tasks && tasks.length > 0 ? `Tasks ${page * PAGE_SIZE + 1}–${page * PAGE_SIZE + tasks.length}` : `Page ${page + 1}`}
          </span>
          <button type="button" onClick={() => setPage((p) => p + 1)} disabled={!older}>
            Older
          </button>
        </nav>
      )}
    </section>
  );
}
