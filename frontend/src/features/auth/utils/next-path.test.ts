import { describe, expect, it } from "vitest";

import { safeNext, signInPath } from "./next-path";

describe("the page to return to after signing in", () => {
  it("keeps a path of the console, with its query and fragment", () => {
    expect(safeNext("/sessions/s1?tab=answers#end")).toBe("/sessions/s1?tab=answers#end");
  });

  it.each([null, "", "sessions/s1", "//evil.example/x", "/\\evil.example", "/\t/evil.example", "https://evil.example/", "/sign-in?next=/x"])(
    "falls back to the start page for %j",
    (raw) => {
      expect(safeNext(raw)).toBe("/");
    },
  );

  it("remembers the page being left, but not the start page", () => {
    expect(signInPath({ pathname: "/sessions/s1", search: "?a=1", hash: "" })).toBe("/sign-in?next=%2Fsessions%2Fs1%3Fa%3D1");
    expect(signInPath({ pathname: "/", search: "", hash: "" })).toBe("/sign-in");
    expect(signInPath(null)).toBe("/sign-in");
  });
});
