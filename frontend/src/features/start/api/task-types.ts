import { api } from "../../../lib/api-client";
import type { TaskType } from "../../../lib/api-types";

export type { TaskType } from "../../../lib/api-types";

export function getTaskTypes(signal?: AbortSignal): Promise<TaskType[]> {
  return api.get<TaskType[]>("/task-types", signal);
}
