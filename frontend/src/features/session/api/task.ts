import { api } from "../../../lib/api-client";
import type { Task } from "../../../lib/api-types";

export function getTask(taskId: string, signal?: AbortSignal): Promise<Task> {
  return api.get<Task>(`/tasks/${encodeURIComponent(taskId)}`, signal);
}

export function cancelTask(taskId: string): Promise<unknown> {
  return api.delete(`/tasks/${encodeURIComponent(taskId)}`);
}
