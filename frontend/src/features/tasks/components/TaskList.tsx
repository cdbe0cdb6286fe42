import { useCallback, useState } from "react";
import { Link } from "react-router-dom";

import { StatusBadge } from "../../../components/StatusBadge";
import { errorMessage } from "../../../lib/api-client";
import { TASK_STATUSES, type Task, type TaskStatus } from "../../../lib/api-types";
import { formatDateTime } from "../../../lib/dates";
import { usePolling } from "../../../lib/use-polling";
import { withUnits } from "../../../lib/units";
import { listTasks } from "../api/list-tasks";

// "pending" lasts only until the task is admitted: not worth a filter of its own.
const STATUSES = TASK_STATUSES.filter((s) => s !== "pending");

/** Who the task waits on, or what it last reported ("stage: message", the stage once). */
export function activity(task: Task): string {
  if (task.pending_request) return withUnits(`waiting for operator: ${task.pending_request.prompt}`);
  if (task.status === "queued") return task.queue_position ? `queued (position ${task.queue_position})` : "queued";
  if (task.status === "failed" && task.error) return withUnits(task.error);
  const { stage, message } = task;
  if (stage && message?.startsWith(`${stage}:`)) return withUnits(message);
  return withUnits([stage, message].filter(Boolean).join(": "));
}

/** The newest tasks, refreshed every `intervalMs`, each linking to its session. */
export function TaskList({ intervalMs = 1000 }: { intervalMs?: number }) {
  const [status, setStatus] = useState<TaskStatus | "">("");
  const load = useCallback((signal: AbortSignal) => listTasks({ status, limit: 50 }, signal), [status]);
  const { data: tasks, error } = usePolling(load, intervalMs);

  return (
    <section className="panel" aria-labelledby="tasks-heading">
      <div className="panel-header">
        <h2 id="tasks-heading">Tasks</h2>
        <label className="inline">
          Show{" "}
          <select value={status} onChange={(e) => setStatus(e.target.value as TaskStatus | "")}>
            <option value="">all</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
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
        <p className="muted">No tasks yet.</p>
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
    </section>
  );
}
