import { api } from "../../../lib/api-client";
import type { Task } from "../../../lib/api-types";

export function getTask(taskId: string, signal?: AbortSignal): Promise<Task> {
  return api.get<Task>(`/tasks/${encodeURIComponent(taskId)}`, signal);
}

export function cancelTask(taskId: string): Promise<unknown> {
  return api.delete(`/tasks/${encodeURIComponent(taskId)}`);
}

/** Who resolved a request, as the server recorded it. */
export interface RequestAnswerer {
  connection_id: string | null;
  client: string | null;
  user: string | null;
  via: "websocket" | "http" | "server";
}

/** One entry of GET /tasks/{id}/requests: a request, its answer and who gave it. */
export interface TaskRequest {
  request_id: string;
  seq: number;
  kind: "confirm" | "retry" | "hazard" | "input";
  prompt: string;
  details: Record<string, unknown> | null;
  request: Record<string, unknown>;
  status: "open" | "answered" | "timeout" | "cancelled";
  answer: boolean | Record<string, unknown> | null;
  answered_by: RequestAnswerer | null;
  resolved_at: string | null;
}

/** The task's requests, oldest first. */
export function getRequests(taskId: string, signal?: AbortSignal): Promise<TaskRequest[]> {
  return api.get<TaskRequest[]>(`/tasks/${encodeURIComponent(taskId)}/requests`, signal);
}
