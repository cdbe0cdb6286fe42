import { api, type ApiError } from "../../../lib/api-client";
import type { CreatedTask } from "../../../lib/api-types";
import type { components } from "../../../lib/openapi";

export type { CreatedTask } from "../../../lib/api-types";
export type CreateTaskBody = components["schemas"]["TaskCreate"];

export function createTask(body: CreateTaskBody): Promise<CreatedTask> {
  return api.post<CreatedTask>("/tasks", body);
}

export interface SubmitErrors {
  /** By parameter name. */
  fields: Record<string, string>;
  /** Not about one parameter: unknown task type, a slot is busy (409), ... */
  form: string | null;
}

/** Splits a 422's `loc: ["body", "parameters", <name>, ...]` errors onto their fields. */
export function submitErrors(error: ApiError): SubmitErrors {
  const fields: Record<string, string> = {};
  const other: string[] = [];
  for (const issue of error.issues) {
    const [where, group, name] = issue.loc;
    if (where === "body" && group === "parameters" && name !== undefined) {
      const key = String(name);
      fields[key] = fields[key] ? `${fields[key]}; ${issue.msg}` : issue.msg;
    } else {
      other.push(issue.msg);
    }
  }
  if (error.issues.length === 0) other.push(error.message);
  return { fields, form: other.length ? other.join("; ") : null };
}
