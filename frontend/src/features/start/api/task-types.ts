import { api } from "../../../lib/api-client";

export interface TaskType {
  name: string;
  description: string;
  /** JSON Schema of the task's pydantic parameter model. */
  parameters_schema: Record<string, unknown>;
}

export function getTaskTypes(signal?: AbortSignal): Promise<TaskType[]> {
  return api.get<TaskType[]>("/task-types", signal);
}
