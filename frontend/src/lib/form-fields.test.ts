import { describe, expect, it } from "vitest";

import { fieldsFromRequest, fieldsFromSchema, initialValues, toPayload } from "./form-fields";

// What pydantic emits for a model with an enum, a Literal, an Optional and defaults.
const schema = {
  title: "MoveParams",
  type: "object",
  $defs: { Mode: { enum: ["relative", "absolute"], title: "Mode", type: "string" } },
  properties: {
    axis: { title: "Axis", type: "string", enum: ["x", "y", "z"], description: "Which axis" },
    mode: { $ref: "#/$defs/Mode", default: "relative" },
    distance: { title: "Distance", type: "number", minimum: -1000, maximum: 1000 },
    speed: { anyOf: [{ type: "number", exclusiveMinimum: 0 }, { type: "null" }], default: null, title: "Speed" },
    steps: { title: "Steps", type: "integer", default: 5 },
    dry_run: { title: "Dry Run", type: "boolean", default: true },
    to: { title: "To", type: "string", format: "email" },
    points: { title: "Points", type: "array", items: { type: "number" } },
    axes: { title: "Axes", type: "array", items: { type: "string" }, default: ["tx", "ty"] },
    table: { title: "Table", type: "object" },
  },
  required: ["axis", "distance"],
};

describe("fieldsFromSchema", () => {
  const fields = fieldsFromSchema(schema);
  const byName = Object.fromEntries(fields.map((f) => [f.name, f]));

  it("keeps property order and labels by title", () => {
    expect(fields.map((f) => f.name)).toEqual(["axis", "mode", "distance", "speed", "steps", "dry_run", "to", "points", "axes", "table"]);
    expect(byName.dry_run!.label).toBe("Dry Run");
  });

  it("maps JSON Schema types to input kinds", () => {
    expect(byName.axis).toMatchObject({ kind: "enum", options: ["x", "y", "z"], required: true, description: "Which axis" });
    expect(byName.mode).toMatchObject({ kind: "enum", options: ["relative", "absolute"], default: "relative" });
    expect(byName.distance).toMatchObject({ kind: "number", minimum: -1000, maximum: 1000, required: true });
    expect(byName.speed).toMatchObject({ kind: "number", required: false, default: null });
    expect(byName.steps).toMatchObject({ kind: "integer", default: 5 });
    expect(byName.dry_run).toMatchObject({ kind: "boolean", default: true });
    expect(byName.to!.kind).toBe("email");
    expect(byName.points).toMatchObject({ kind: "list", itemKind: "number" });
    expect(byName.axes).toMatchObject({ kind: "list", itemKind: "text" });
    expect(byName.table!.kind).toBe("json");
  });

  it("starts from the defaults, and a required enum from its first option", () => {
    expect(initialValues(fields)).toEqual({
      axis: "x",
      mode: "relative",
      distance: "",
      speed: "",
      steps: "5",
      dry_run: true,
      to: "",
      points: "",
      axes: "tx, ty",
      table: "",
    });
  });
});

describe("toPayload", () => {
  const fields = fieldsFromSchema(schema);

  it("converts typed text to JSON values and leaves empty inputs out", () => {
    const values = { ...initialValues(fields), distance: "100", speed: "", points: "1, 2.5,", table: '{"a": 1}', dry_run: false };
    expect(toPayload(fields, values)).toEqual({
      axis: "x",
      mode: "relative",
      distance: 100,
      steps: 5,
      dry_run: false,
      points: [1, 2.5],
      axes: ["tx", "ty"],
      table: { a: 1 },
    });
  });

  it("sends what does not parse as typed, for the server to explain", () => {
    const values = { ...initialValues(fields), distance: "abc", points: "1, two", table: "{oops" };
    expect(toPayload(fields, values)).toMatchObject({ distance: "abc", points: [1, "two"], table: "{oops" });
  });
});

describe("fieldsFromRequest", () => {
  it("labels by description (else name) and takes the kind from the schema", () => {
    const fields = fieldsFromRequest(
      [
        { name: "subject", description: "Subject of the email", type: "string", value: null, required: true },
        { name: "to_address", description: "", type: "email", value: null, required: true },
        { name: "count", description: "How many", type: "integer", value: 3, required: false },
      ],
      {
        properties: {
          subject: { type: "string", description: "Subject of the email" },
          to_address: { type: "string", format: "email" },
        },
      },
    );
    expect(fields.map((f) => [f.label, f.kind])).toEqual([
      ["Subject of the email", "text"],
      ["to_address", "email"],
      ["How many", "integer"],
    ]);
    expect(initialValues(fields)).toEqual({ subject: "", to_address: "", count: "3" });
  });
});

describe("axis fields", () => {
  // pydantic's output for `axis: str`, `focus: str | None` and `axes: list[str]` marked with
  // json_schema_extra={"x-interlock-widget": "axis"} (on the items of the list).
  const fields = fieldsFromSchema({
    type: "object",
    properties: {
      axis: { title: "Axis", type: "string", default: "x", "x-interlock-widget": "axis" },
      focus: { anyOf: [{ type: "string" }, { type: "null" }], default: null, title: "Focus", "x-interlock-widget": "axis" },
      axes: { title: "Axes", type: "array", items: { type: "string", "x-interlock-widget": "axis" }, default: ["tx", "ty"] },
      note: { title: "Note", type: "string" },
      other: { title: "Other", type: "string", "x-interlock-widget": "slider" },
    },
  });
  const byName = Object.fromEntries(fields.map((f) => [f.name, f]));

  it("are marked by the server's x-interlock-widget key, on the field or on a list's items", () => {
    expect(byName.axis).toMatchObject({ kind: "text", widget: "axis" });
    expect(byName.focus).toMatchObject({ kind: "text", widget: "axis", required: false });
    expect(byName.axes).toMatchObject({ kind: "list", widget: "axis" });
    expect(byName.note!.widget).toBeUndefined();
    expect(byName.other!.widget).toBeUndefined();
  });

  it("send ids, and a list of ids", () => {
    const values = { ...initialValues(fields), axes: "tx, ty" };
    expect(toPayload(fields, values)).toEqual({ axis: "x", axes: ["tx", "ty"] });
  });
});

describe("input file fields", () => {
  it("are files offered with the suffixes the server takes, sent as the upload id", () => {
    const [file, any] = fieldsFromSchema({
      type: "object",
      properties: {
        positions: { title: "Positions", type: "string", format: "interlock-upload", "x-interlock-suffixes": [".csv", ".tsv"] },
        notes: { anyOf: [{ type: "string", format: "interlock-upload", "x-interlock-suffixes": [] }, { type: "null" }], default: null },
      },
      required: ["positions"],
    });
    expect(file).toMatchObject({ kind: "file", accept: [".csv", ".tsv"], required: true });
    expect(any).toMatchObject({ kind: "file", accept: [] });
    const id = "0f".repeat(16);
    expect(toPayload([file!, any!], { positions: id, notes: "" })).toEqual({ positions: id });
  });
});
