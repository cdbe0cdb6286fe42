import { api } from "../../../lib/api-client";
import type { Task, TaskStatus, TaskType } from "../../../lib/api-types";

export interface TaskQuery {
  status?: TaskStatus | "";
  /** Only this task type. */
  taskType?: string;
  /** Text in the task's id, type, message, error, creator or parameters. */
  text?: string;
  /** Created at or after / before these instants (ISO 8601). */
  createdAfter?: string;
  createdBefore?: string;
  limit?: number;
  offset?: number;
}

export function listTasks(options: TaskQuery, signal?: AbortSignal): Promise<Task[]> {
  const query = new URLSearchParams();
  if (options.status) query.set("status", options.status);
  if (options.taskType) query.set("task_type", options.taskType);
  if (options.text) query.set("q", options.text);
  if (options.createdAfter) query.set("created_after", options.createdAfter);
  if (options.createdBefore) query.set("created_before", options.createdBefore);
  query.set("limit", String(options.limit ?? 50));
  if (options.offset) query.set("offset", String(options.offset));
  return api.get<Task[]>(`/tasks?${query}`, signal);
}

/** The task types there are (for the type filter). */
export function listTaskTypes(signal?: AbortSignal): Promise<TaskType[]> {
  return api.get<TaskType[]>("/task-types", signal);
}

/** A day picked in a date input (`2026-01-31`), as the instant that day starts where the browser is. */
export function startOfDay(day: string, plusDays = 0): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + plusDays);
  return date.toISOString();
}
