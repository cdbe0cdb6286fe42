/**
 * Names for the REST shapes the console uses. The shapes themselves are generated from the
 * server's OpenAPI document into `openapi.ts` (`make types`); nothing here is hand-written
 * but the names.
 */
import type { components } from "./openapi";
import { taskStatusValues } from "./openapi";

type Schemas = components["schemas"];

/** A task as GET /tasks and GET /tasks/{id} return it. */
export type Task = Schemas["TaskView"];
export type Artifact = Schemas["ArtifactView"];
/** An entry of GET /task-types. */
export type TaskType = Schemas["TaskTypeView"];
/** The reply of POST /tasks. */
export type CreatedTask = Schemas["CreatedTask"];
/** One entry of GET /tasks/{id}/requests: a request, its answer and who gave it. */
export type TaskRequest = Schemas["RequestView"];
export type RequestAnswerer = Schemas["Answerer"];
/** The reply of POST /uploads. */
export type UploadCreated = Schemas["UploadCreated"];
/** GET /hardware. */
export type HardwareState = Schemas["HardwareView"];
export type AxisState = Schemas["AxisView"];
export type TaskStatus = Schemas["TaskStatus"];

/** Every task status, in lifecycle order (from the server's enum). */
export const TASK_STATUSES: readonly TaskStatus[] = taskStatusValues;

const TERMINAL: ReadonlySet<TaskStatus> = new Set<TaskStatus>(["completed", "failed", "cancelled", "interrupted"]);

export function isTerminalStatus(status: TaskStatus | null | undefined): boolean {
  return status != null && TERMINAL.has(status);
}
