import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { reply, stubFetch } from "../test/fetch-stub";
import { stubXhr } from "../test/fake-xhr";
import { api, ApiError, retryAfterSeconds } from "./api-client";
import { onForbidden, onUnauthenticated } from "./auth";
import { uploadFile } from "./uploads";

describe("the REST and upload clients report a lost sign-in", () => {
  let signals: string[];
  let unsubscribe: Array<() => void>;

  beforeEach(() => {
    signals = [];
    unsubscribe = [onUnauthenticated(() => signals.push("401")), onForbidden(() => signals.push("403"))];
  });

  afterEach(() => unsubscribe.forEach((off) => off()));

  it("reports a 401 and a 403, and still rejects with the server's detail", async () => {
    stubFetch({
      "GET /tasks": reply(401, { detail: "Not authenticated" }),
      "POST /tasks": reply(403, { detail: "Forbidden: requires operator" }),
    });
    await expect(api.get("/tasks")).rejects.toMatchObject({ status: 401, message: "Not authenticated" });
    await expect(api.post("/tasks", {})).rejects.toMatchObject({ status: 403, message: "Forbidden: requires operator" });
    expect(signals).toEqual(["401", "403"]);
  });

  it("reports nothing for other errors, or when the caller handles its own 401", async () => {
    stubFetch({
      "GET /tasks": reply(404, { detail: "Not Found" }),
      "POST /auth/login": reply(401, { detail: "Invalid username or password" }),
    });
    await expect(api.get("/tasks")).rejects.toBeInstanceOf(ApiError);
    await expect(api.post("/auth/login", {}, { report: false })).rejects.toMatchObject({ status: 401 });
    expect(signals).toEqual([]);
  });

  it("reports an upload refused with 401", async () => {
    const xhr = stubXhr();
    const upload = uploadFile(new File(["x,y\n"], "points.csv"));
    xhr.sent[0]!.respond(401, { detail: "Not authenticated" });
    await expect(upload).rejects.toMatchObject({ status: 401 });
    expect(signals).toEqual(["401"]);
  });

  it("carries Retry-After on the error", async () => {
    stubFetch({ "POST /auth/login": reply(429, { detail: "Too many failed logins; try again later" }, { "Retry-After": "272" }) });
    await expect(api.post("/auth/login", {}, { report: false })).rejects.toMatchObject({ status: 429, retryAfter: 272 });
  });
});

describe("retryAfterSeconds", () => {
  it("reads seconds and HTTP dates, and nothing else", () => {
    const now = Date.parse("2024-01-01T10:00:00Z");
    expect(retryAfterSeconds("120", now)).toBe(120);
    expect(retryAfterSeconds("Mon, 01 Jan 2024 10:01:30 GMT", now)).toBe(90);
    expect(retryAfterSeconds("Mon, 01 Jan 2024 09:00:00 GMT", now)).toBe(0);
    expect(retryAfterSeconds(null, now)).toBeNull();
    expect(retryAfterSeconds("soon", now)).toBeNull();
  });
});
