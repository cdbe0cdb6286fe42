import { describe, expect, it } from "vitest";

import { formatDateTime } from "./dates";

describe("formatDateTime", () => {
  const now = new Date(2026, 10, 30, 15, 0, 0); // local time, like the input below

  it("shows the day with the time", () => {
    const iso = new Date(2026, 10, 30, 14, 3, 12).toISOString();
    expect(formatDateTime(iso, now)).toBe("Mon 30 Nov 14:03:12");
  });

  it("adds the year when it is not this year's", () => {
    const iso = new Date(2025, 0, 2, 9, 5, 7).toISOString();
    expect(formatDateTime(iso, now)).toBe("Thu 2 Jan 2025 09:05:07");
  });

  it("passes through what is not a date, and shows nothing for none", () => {
    expect(formatDateTime("soon", now)).toBe("soon");
    expect(formatDateTime(null, now)).toBe("");
  });
});
