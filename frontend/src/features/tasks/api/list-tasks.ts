import { api } from "../../../lib/api-client";
import type { Task, TaskStatus } from "../../../lib/api-types";

export function listTasks(options: { status?: TaskStatus | ""; limit?: number }, signal?: AbortSignal): Promise<Task[]> {
  const query = new URLSearchParams();
  if (options.status) query.set("status", options.status);
  query.set("limit", String(options.limit ?? 50));
  return api.get<Task[]>(`/tasks?${query}`, signal);
}
