/**
 * Form fields derived from JSON Schema (pydantic's `model_json_schema()`): the task
 * parameter form and the input requests both render from these specs. The server is the
 * validator; the client only converts what was typed into JSON values.
 */

export type FieldKind = "text" | "email" | "number" | "integer" | "boolean" | "enum" | "list" | "json" | "file";

/** The JSON Schema key with which the server marks a field (or a list's items) as an axis id. */
export const WIDGET_KEY = "x-interlock-widget";
/** The JSON Schema `format` of a task input file: the value is the id POST /uploads returned. */
export const UPLOAD_FORMAT = "interlock-upload";
/** The JSON Schema key listing the suffixes an input file may have (empty: any). */
export const SUFFIXES_KEY = "x-interlock-suffixes";

export interface FieldSpec {
  name: string;
  label: string;
  description?: string;
  kind: FieldKind;
  required: boolean;
  options?: unknown[];
  /** Element kind of a `list` (comma-separated values). */
  itemKind?: "text" | "number" | "integer";
  default?: unknown;
  hasDefault: boolean;
  minimum?: number;
  maximum?: number;
  /** `axis`: the value is an axis id (a `text`) or a list of them (a `list`), offered as a
   *  select of the controller's axes. */
  widget?: "axis";
  /** `file` fields: the suffixes the server takes (".csv"); empty or absent: any file. */
  accept?: string[];
}

/** What the inputs hold: text for most kinds, a flag for checkboxes. */
export type FormValues = Record<string, string | boolean>;

type Schema = Record<string, unknown>;

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function resolve(node: Schema, root: Schema, depth = 0): Schema {
  if (depth > 10) return node;
  const ref = node.$ref;
  if (typeof ref === "string" && ref.startsWith("#/")) {
    let target: unknown = root;
    for (const part of ref.slice(2).split("/")) target = isSchema(target) ? target[part] : undefined;
    if (isSchema(target)) {
      const { $ref: _ignored, ...rest } = node;
      return resolve({ ...target, ...rest }, root, depth + 1);
    }
  }
  const allOf = node.allOf;
  if (Array.isArray(allOf) && allOf.length === 1 && isSchema(allOf[0])) {
    const { allOf: _ignored, ...rest } = node;
    return resolve({ ...allOf[0], ...rest }, root, depth + 1);
  }
  return node;
}

/** The schema with `null` alternatives removed (Optional[X] -> X). */
function nonNull(node: Schema, root: Schema): Schema {
  const resolved = resolve(node, root);
  const alternatives = resolved.anyOf ?? resolved.oneOf;
  if (Array.isArray(alternatives)) {
    const rest = alternatives.filter((alt) => !(isSchema(alt) && alt.type === "null"));
    if (rest.length === 1 && isSchema(rest[0])) {
      const { anyOf: _a, oneOf: _o, ...outer } = resolved;
      return { ...nonNull(rest[0], root), ...outer };
    }
  }
  if (Array.isArray(resolved.type)) {
    const types = resolved.type.filter((t) => t !== "null");
    if (types.length === 1) return { ...resolved, type: types[0] };
  }
  return resolved;
}

function kindOf(node: Schema): Pick<FieldSpec, "kind" | "options" | "itemKind"> {
  if (Array.isArray(node.enum)) return { kind: "enum", options: node.enum };
  if ("const" in node) return { kind: "enum", options: [node.const] };
  switch (node.type) {
    case "boolean":
      return { kind: "boolean" };
    case "integer":
      return { kind: "integer" };
    case "number":
      return { kind: "number" };
    case "string":
      if (node.format === UPLOAD_FORMAT) return { kind: "file" };
      return { kind: node.format === "email" ? "email" : "text" };
    case "array": {
      const items = isSchema(node.items) ? node.items.type : undefined;
      if (items === "string" || items === "number" || items === "integer")
        return { kind: "list", itemKind: items === "string" ? "text" : items };
      return { kind: "json" };
    }
    default:
      return { kind: "json" };
  }
}

export function humanize(name: string): string {
  const words = name.replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** `axis` when the server marked the field, or the items of a list field, as an axis id. */
function widgetOf(node: Schema, root: Schema): FieldSpec["widget"] {
  if (node[WIDGET_KEY] === "axis") return "axis";
  if (node.type === "array" && isSchema(node.items) && nonNull(node.items, root)[WIDGET_KEY] === "axis") return "axis";
  return undefined;
}

function numberOr(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}

function specFor(name: string, property: Schema, root: Schema, required: boolean, label: string): FieldSpec {
  const node = nonNull(property, root);
  const hasDefault = "default" in property || "default" in node;
  const spec: FieldSpec = {
    name,
    label,
    required,
    hasDefault,
    ...kindOf(node),
  };
  const description = property.description ?? node.description;
  if (typeof description === "string") spec.description = description;
  if (hasDefault) spec.default = "default" in property ? property.default : node.default;
  const minimum = numberOr(node.minimum) ?? numberOr(node.exclusiveMinimum);
  const maximum = numberOr(node.maximum) ?? numberOr(node.exclusiveMaximum);
  if (minimum !== undefined) spec.minimum = minimum;
  if (maximum !== undefined) spec.maximum = maximum;
  const widget = widgetOf(node, root);
  if (widget && (spec.kind === "text" || spec.kind === "list")) spec.widget = widget;
  const suffixes = node[SUFFIXES_KEY];
  if (spec.kind === "file" && Array.isArray(suffixes)) spec.accept = suffixes.map(String);
  return spec;
}

/** Fields of an object schema, in property order, labelled by title (or the name). */
export function fieldsFromSchema(schema: unknown): FieldSpec[] {
  if (!isSchema(schema)) return [];
  const root = resolve(schema, schema);
  const properties = isSchema(root.properties) ? root.properties : {};
  const required = new Set(Array.isArray(root.required) ? root.required.map(String) : []);
  return Object.entries(properties).flatMap(([name, property]) => {
    if (!isSchema(property)) return [];
    const title = typeof property.title === "string" ? property.title : humanize(name);
    return [specFor(name, property, schema, required.has(name), title)];
  });
}

const FIELD_TYPE_KINDS: Record<string, FieldKind> = {
  string: "text",
  str: "text",
  text: "text",
  email: "email",
  integer: "integer",
  int: "integer",
  number: "number",
  float: "number",
  boolean: "boolean",
  bool: "boolean",
};

export interface InputFieldLike {
  name: string;
  description?: string;
  type?: string;
  value?: unknown;
  required?: boolean;
}

/**
 * Fields of an input request: the request's `fields` give order, label (description, else
 * name), default and required; its `schema` refines the kind when it describes the field.
 */
export function fieldsFromRequest(fields: InputFieldLike[], schema: unknown): FieldSpec[] {
  const root = isSchema(schema) ? schema : {};
  const properties = isSchema(root.properties) ? root.properties : {};
  return fields.map((field) => {
    const label = field.description?.trim() || field.name;
    const required = field.required ?? true;
    const property = properties[field.name];
    const spec = isSchema(property)
      ? specFor(field.name, property, root, required, label)
      : { name: field.name, label, kind: FIELD_TYPE_KINDS[field.type ?? "string"] ?? "text", required, hasDefault: false };
    delete spec.description; // the label already is the description
    if (field.value !== null && field.value !== undefined) {
      spec.default = field.value;
      spec.hasDefault = true;
    }
    return spec;
  });
}

function toText(value: unknown, kind: FieldKind): string {
  if (value === undefined || value === null) return "";
  if (kind === "list" && Array.isArray(value)) return value.join(", ");
  if (kind === "json") return typeof value === "string" ? value : JSON.stringify(value);
  return String(value);
}

export function initialValues(fields: FieldSpec[]): FormValues {
  const values: FormValues = {};
  for (const field of fields) {
    if (field.kind === "boolean") values[field.name] = field.default === true;
    else if (field.kind === "enum" && !field.hasDefault && field.required && field.options?.length)
      values[field.name] = String(field.options[0]);
    else values[field.name] = toText(field.default, field.kind);
  }
  return values;
}

/**
 * JSON values for the server. Empty inputs are left out, so the server applies its
 * default or reports the missing field; text that does not parse is sent as typed, so
 * the server's message explains what is wrong with it.
 */
export function toPayload(fields: FieldSpec[], values: FormValues): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const field of fields) {
    const raw = values[field.name];
    if (field.kind === "boolean") {
      payload[field.name] = raw === true;
      continue;
    }
    const text = typeof raw === "string" ? raw : "";
    if (text.trim() === "") continue;
    switch (field.kind) {
      case "number":
      case "integer": {
        const number = Number(text);
        payload[field.name] = Number.isFinite(number) ? number : text;
        break;
      }
      case "enum": {
        const option = field.options?.find((o) => String(o) === text);
        payload[field.name] = option === undefined ? text : option;
        break;
      }
      case "list":
        payload[field.name] = text
          .split(",")
          .map((item) => item.trim())
          .filter((item) => item !== "")
          .map((item) => (field.itemKind !== "text" && Number.isFinite(Number(item)) ? Number(item) : item));
        break;
      case "json":
        try {
          payload[field.name] = JSON.parse(text);
        } catch {
          payload[field.name] = text;
        }
        break;
      default:
        payload[field.name] = text;
    }
  }
  return payload;
}
