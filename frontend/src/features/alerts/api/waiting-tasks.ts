import { api } from "../../../lib/api-client";
import type { Task } from "../../../lib/api-types";

/** At most this many waiting prompts are listed; more than a handful is already a backlog. */
export const WAITING_LIMIT = 100;

/** Tasks waiting on a person (status `waiting`), newest task first. */
export function listWaitingTasks(signal?: AbortSignal): Promise<Task[]> {
  return api.get<Task[]>(`/tasks?status=waiting&limit=${WAITING_LIMIT}`, signal);
}
