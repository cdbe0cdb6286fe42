/**
 * Names for the REST shapes the console uses. The shapes themselves are generated from the
 * server's OpenAPI document into `openapi.ts` (`make types`); nothing here is hand-written
 * but the names.
 */
import type { components } from "./openapi";
import { roleValues, taskStatusValues } from "./openapi";

type Schemas = components["schemas"];

/** A task as GET /tasks and GET /tasks/{id} return it. */
export type Task = Schemas["TaskView"];
export type Artifact = Schemas["ArtifactView"];
/** An entry of GET /task-types. */
export type TaskType = Schemas["TaskTypeView"];
/** A page of a session's whole log (GET /tasks/{id}/messages). */
export type MessagePage = Schemas["MessagePageView"];
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
/** GET /auth/me and POST /auth/login: who the caller is (`user` is null when authentication is off). */
export type Me = Schemas["Me"];
/** The body of POST /auth/login. */
export type LoginBody = Schemas["LoginBody"];
export type Role = Schemas["Role"];

/** Every role, least first: each may do everything the ones before it may (from the server's enum). */
export const ROLES: readonly Role[] = roleValues;

/** Every task status, in lifecycle order (from the server's enum). */
export const TASK_STATUSES: readonly TaskStatus[] = taskStatusValues;

const TERMINAL: ReadonlySet<TaskStatus> = new Set<TaskStatus>(["completed", "failed", "cancelled", "interrupted"]);

export function isTerminalStatus(status: TaskStatus | null | undefined): boolean {
  return status != null && TERMINAL.has(status);
}
