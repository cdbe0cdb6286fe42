import { describe, expect, it } from "vitest";

import { findSeries, peak, withoutSeriesData } from "./series";

describe("findSeries", () => {
  it("finds x/y series at any depth, named by where they are", () => {
    const result = {
      scan: { x: [0, 1, 2], y: [0.1, 0.9, 0.3], x_label: "um" },
      position: 1,
      axes: [{ profile: { x: [1, 2], y: [3, 4] } }],
    };
    const series = findSeries(result);
    expect(series.map((s) => s.path)).toEqual(["scan", "axes.0.profile"]);
    expect(series[0]).toMatchObject({ x: [0, 1, 2], y: [0.1, 0.9, 0.3], xLabel: "um" });
  });

  it("accepts a series at the top level", () => {
    expect(findSeries({ x: [1], y: [2] })[0]!.path).toBe("result");
  });

  it("ignores arrays that are not all numbers, and trims to the shorter array", () => {
    expect(findSeries({ a: { x: ["a"], y: [1] }, b: { x: [], y: [] } })).toEqual([]);
    expect(findSeries({ s: { x: [1, 2, 3], y: [1, 2] } })[0]!.x).toEqual([1, 2]);
  });

  it("summarises plotted arrays in the raw view and reports the peak", () => {
    const result = { series: { x: [0, 1, 2], y: [1, 5, 2] }, ok: true };
    const series = findSeries(result);
    expect(withoutSeriesData(result, series)).toEqual({ series: { x: "[3 numbers]", y: "[3 numbers]" }, ok: true });
    expect(peak(series[0]!)).toEqual({ x: 1, y: 5 });
  });
});
