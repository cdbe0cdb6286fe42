/**
 * Stands in for the server's REST API: `stubFetch({"GET /tasks": [...]})` replaces the
 * global fetch (a browser API, not our code) with routes keyed by method and path.
 */
import { vi } from "vitest";

import type { Task } from "../lib/api-types";

export interface StubRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

type Handler = unknown | ((request: StubRequest) => unknown);

/** A reply with its own status (and headers): `reply(422, {detail: [...]})`. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

export function reply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return new Reply(status, body, headers);
}

export function stubFetch(routes: Record<string, Handler>) {
  const calls: StubRequest[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), "http://console.test");
    const method = (init?.method ?? "GET").toUpperCase();
    const request: StubRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    };
    calls.push(request);
    const key = `${method} ${url.pathname}`;
    if (!(key in routes)) return new Response(JSON.stringify({ detail: "Not Found" }), { status: 404 });
    const handler = routes[key];
    // A handler may answer later (return a promise) to hold the request open.
    const result: unknown = await (typeof handler === "function" ? (handler as (r: StubRequest) => unknown)(request) : handler);
    const { status, body, headers } = result instanceof Reply ? result : { status: 200, body: result, headers: {} };
    if (status === 204) return new Response(null, { status, headers });
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls, fetchMock };
}

type PendingConfirmation = Extract<NonNullable<Task["pending_request"]>, { type: "request_confirmation" }>;

/** An open confirmation as a task's `pending_request` holds it. */
export function pendingConfirmation(request_id: string, prompt: string, extra: Partial<PendingConfirmation> = {}): PendingConfirmation {
  return {
    type: "request_confirmation",
    request_id,
    prompt,
    kind: "confirm",
    details: null,
    timeout: null,
    default: false,
    respondents: null,
    seq: 1,
    ts: "2024-01-01T10:00:00+00:00",
    ...extra,
  };
}

/** A task as the REST API returns it (typed by the generated types, so it cannot drift). */
export function task(overrides: Partial<Task> = {}): Task {
  return {
    task_id: "s1",
    session_id: "s1",
    task_type: "interactive_demo",
    task_title: "Interactive e-mail demo",
    parameters: {},
    status: "running",
    progress: 0,
    message: null,
    stage: null,
    created_at: "2024-01-01T10:00:00+00:00",
    started_at: null,
    completed_at: null,
    result: null,
    error: null,
    pending_request: null,
    queue_position: null,
    queued_reason: null,
    last_seq: 0,
    artifacts: [],
    respondents: null,
    created_by: null,
    cancelled_by: null,
    ...overrides,
  };
}
