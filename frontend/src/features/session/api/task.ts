import { api } from "../../../lib/api-client";
import type { Task, TaskRequest } from "../../../lib/api-types";

export type { RequestAnswerer, TaskRequest } from "../../../lib/api-types";

export function getTask(taskId: string, signal?: AbortSignal): Promise<Task> {
  return api.get<Task>(`/tasks/${encodeURIComponent(taskId)}`, signal);
}

export function cancelTask(taskId: string): Promise<unknown> {
  return api.delete(`/tasks/${encodeURIComponent(taskId)}`);
}

/** The task's requests, oldest first. */
export function getRequests(taskId: string, signal?: AbortSignal): Promise<TaskRequest[]> {
  return api.get<TaskRequest[]>(`/tasks/${encodeURIComponent(taskId)}/requests`, signal);
}
