/**
 * Same-origin JSON requests to the Interlock server. Errors carry the HTTP status and the
 * FastAPI `detail` (a message, or per-field errors on 422).
 */

export interface ValidationIssue {
  loc: Array<string | number>;
  msg: string;
  type?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** FastAPI's 422 `detail` list, or [] for other errors. */
  get issues(): ValidationIssue[] {
    if (!Array.isArray(this.detail)) return [];
    return this.detail.filter(
      (item): item is ValidationIssue =>
        typeof item === "object" && item !== null && Array.isArray((item as ValidationIssue).loc),
    );
  }
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, headers: { Accept: "application/json" }, signal };
  if (body !== undefined) {
    init.headers = { ...init.headers, "Content-Type": "application/json" };
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let payload: unknown = null;
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = text;
    }
  }
  if (!response.ok) throw apiError(response.status, payload);
  return payload as T;
}

/** The error of a non-2xx reply whose body (parsed JSON, or text) is `payload`. */
export function apiError(status: number, payload: unknown): ApiError {
  const detail = typeof payload === "object" && payload !== null && "detail" in payload
    ? (payload as { detail: unknown }).detail
    : payload;
  return new ApiError(status, detail, describe(status, detail));
}

function describe(status: number, detail: unknown): string {
  if (typeof detail === "string" && detail) return detail;
  if (Array.isArray(detail)) {
    const first = detail[0] as Partial<ValidationIssue> | undefined;
    if (first?.msg) return first.msg;
  }
  return `Request failed (HTTP ${status})`;
}

export const api = {
  get: <T>(path: string, signal?: AbortSignal) => request<T>("GET", path, undefined, signal),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {}),
  delete: <T>(path: string) => request<T>("DELETE", path),
};

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
