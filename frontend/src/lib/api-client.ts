/**
 * Same-origin JSON requests to the Interlock server. Errors carry the HTTP status and the
 * FastAPI `detail` (a message, or per-field errors on 422), and `Retry-After` when sent.
 *
 * A 401 means the sign-in ended (logged out elsewhere, expired, revoked): it is reported to
 * lib/auth, which sends the person to the sign-in page. A 403 is reported too (the role may
 * have changed). The sign-in calls themselves opt out (`report: false`).
 */
import { reportForbidden, reportUnauthenticated } from "./auth";

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
    /** Seconds the server asked to wait (`Retry-After`), or null. */
    readonly retryAfter: number | null = null,
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

export interface RequestOptions {
  signal?: AbortSignal;
  /** Report a 401 / 403 to lib/auth (default); the sign-in calls handle theirs. */
  report?: boolean;
}

async function request<T>(method: string, path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
  const init: RequestInit = { method, headers: { Accept: "application/json" }, signal: options.signal };
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
  if (response.ok) return payload as T;
  if (options.report !== false) reportStatus(response.status);
  throw apiError(response.status, payload, retryAfterSeconds(response.headers.get("Retry-After")));
}

/** Tell lib/auth about a status that concerns the sign-in rather than the request. */
export function reportStatus(status: number): void {
  if (status === 401) reportUnauthenticated();
  else if (status === 403) reportForbidden();
}

/**
 * `Retry-After` in seconds (rounded up, never negative): delay-seconds, or an HTTP date;
 * null when absent or unreadable.
 */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === "") return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

/** The error of a non-2xx reply whose body (parsed JSON, or text) is `payload`. */
export function apiError(status: number, payload: unknown, retryAfter: number | null = null): ApiError {
  const detail = typeof payload === "object" && payload !== null && "detail" in payload
    ? (payload as { detail: unknown }).detail
    : payload;
  return new ApiError(status, detail, describe(status, detail), retryAfter);
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
  get: <T>(path: string, signal?: AbortSignal, options?: RequestOptions) =>
    request<T>("GET", path, undefined, { ...options, signal }),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>("POST", path, body ?? {}, options),
  delete: <T>(path: string, options?: RequestOptions) => request<T>("DELETE", path, undefined, options),
};

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
