import { describe, expect, it } from "vitest";

import { keyUnit, quantityUnit, unitLabel, withUnit, withUnits } from "./units";

describe("units", () => {
  it("write micrometres as µm and leave deg and s alone", () => {
    expect(unitLabel("um")).toBe("µm");
    expect(unitLabel("deg")).toBe("deg");
    expect(withUnit("12.5", "um")).toBe("12.5 µm");
    expect(withUnit("2", null)).toBe("2");
  });

  it("rewrite the um unit in text, and no word that merely contains it", () => {
    expect(withUnits("Move x from 0 to 100 um at 1000 um/s?")).toBe("Move x from 0 to 100 µm at 1000 µm/s?");
    expect(withUnits("Scan width (um) around each axis; x (um)")).toBe("Scan width (µm) around each axis; x (µm)");
    expect(withUnits("maximum drum umbrella Um, 5 deg, 2 s")).toBe("maximum drum umbrella Um, 5 deg, 2 s");
  });

  it("find the unit of a details object: its own, else its axis's", () => {
    const axes = [{ id: "tx", unit: "deg" }];
    expect(quantityUnit({ axis: "x", unit: "um" }, axes)).toBe("um");
    expect(quantityUnit({ axis: "tx", x: 0.2 }, axes)).toBe("deg");
    expect(quantityUnit({ axis: "q" }, axes)).toBeNull();
    expect(quantityUnit(null)).toBeNull();
  });

  it("say which keys carry which unit", () => {
    expect(keyUnit("position", "um")).toEqual({ root: "position", unit: "µm" });
    expect(keyUnit("speed", "deg")).toEqual({ root: "speed", unit: "deg/s" });
    expect(keyUnit("estimated_s", null)).toEqual({ root: "estimated", unit: "s" });
    expect(keyUnit("points", "um")).toEqual({ root: "points", unit: null });
    expect(keyUnit("position", null)).toEqual({ root: "position", unit: null });
  });
});
