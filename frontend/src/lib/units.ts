/**
 * Units as people read them. The server spells micrometres "um" (ASCII, as controllers and
 * their SDKs do); the console shows "µm", and "deg" and "s" as they are.
 */

const DISPLAY: Record<string, string> = { um: "µm", micron: "µm", microns: "µm" };

/** "µm" for "um"; every other unit as given. */
export function unitLabel(unit: string): string {
  return DISPLAY[unit] ?? unit;
}

/**
 * `text` with each ASCII "um" unit written "µm": "100 um", "um/s", "(um)" and "in um" change;
 * words that merely contain the letters ("maximum", "Um,") do not.
 */
export function withUnits(text: string): string {
  return text.replace(/(?<![\p{L}\p{N}_])um(?![\p{L}\p{N}_])/gu, "µm");
}

/** A number with its unit: "12.5 µm", "2 deg", "0.4 s". */
export function withUnit(value: string, unit: string | null | undefined): string {
  return unit ? `${value} ${unitLabel(unit)}` : value;
}

/**
 * The unit of the quantities in a details object (a request's, a progress message's, a
 * result's): its own `unit`, else the unit of the axis it names.
 */
export function quantityUnit(data: Record<string, unknown> | null | undefined, axes?: ReadonlyArray<{ id: string; unit: string }>): string | null {
  if (!data) return null;
  if (typeof data.unit === "string") return data.unit;
  const axis = typeof data.axis === "string" ? axes?.find((a) => a.id === data.axis) : undefined;
  return axis?.unit ?? null;
}

/** Keys that hold a position or a distance along the axis (in its unit). */
const POSITION_KEYS = new Set(["from", "to", "position", "target", "distance", "start", "stop", "scan", "x", "best", "span", "center"]);
/** Keys that hold a speed (the axis unit per second). */
const SPEED_KEYS = new Set(["speed"]);
/** A unit spelled at the end of a key: `estimated_s`, `span_um`, `range_deg`. */
const KEY_SUFFIX = /_(s|um|deg)$/;

/**
 * How a details table shows `key`: its label root (a unit suffix dropped) and the unit its
 * value is in, given the unit of the axis (`unit`), if any. `null` unit: a plain value.
 */
export function keyUnit(key: string, unit: string | null): { root: string; unit: string | null } {
  const suffix = KEY_SUFFIX.exec(key);
  if (suffix) return { root: key.slice(0, suffix.index), unit: unitLabel(suffix[1]!) };
  if (unit && POSITION_KEYS.has(key)) return { root: key, unit: unitLabel(unit) };
  if (unit && SPEED_KEYS.has(key)) return { root: key, unit: `${unitLabel(unit)}/s` };
  return { root: key, unit: null };
}
