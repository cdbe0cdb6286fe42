/** Numeric x/y series found anywhere in a task result (alignment curves, profiles, ...). */
export interface Series {
  /** Where in the result it was found, e.g. "scan" or "axes.x.profile"; "result" at the top. */
  path: string;
  x: number[];
  y: number[];
  xLabel?: string;
  yLabel?: string;
}

function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "number" && Number.isFinite(v));
}

function label(obj: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const key of keys) if (typeof obj[key] === "string") return obj[key] as string;
  return undefined;
}

/** Every object with numeric arrays `x` and `y`, depth-first, in key order. */
export function findSeries(result: unknown, maxDepth = 6): Series[] {
  const found: Series[] = [];
  const walk = (value: unknown, path: string[], depth: number) => {
    if (depth > maxDepth || typeof value !== "object" || value === null) return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, [...path, String(i)], depth + 1));
      return;
    }
    const obj = value as Record<string, unknown>;
    if (isNumberArray(obj.x) && isNumberArray(obj.y)) {
      const n = Math.min(obj.x.length, obj.y.length);
      const series: Series = { path: path.join(".") || "result", x: obj.x.slice(0, n), y: obj.y.slice(0, n) };
      const xLabel = label(obj, "x_label", "xlabel", "x_unit");
      const yLabel = label(obj, "y_label", "ylabel", "y_unit");
      if (xLabel) series.xLabel = xLabel;
      if (yLabel) series.yLabel = yLabel;
      found.push(series);
      return;
    }
    for (const [key, child] of Object.entries(obj)) walk(child, [...path, key], depth + 1);
  };
  walk(result, [], 0);
  return found;
}

/** The result with each plotted series' arrays summarised, for the raw view. */
export function withoutSeriesData(result: unknown, series: Series[]): unknown {
  const paths = new Set(series.map((s) => s.path));
  const strip = (value: unknown, path: string[]): unknown => {
    if (typeof value !== "object" || value === null) return value;
    const here = path.join(".") || "result";
    if (paths.has(here) && !Array.isArray(value)) {
      const obj = value as Record<string, unknown>;
      const n = Array.isArray(obj.x) ? obj.x.length : 0;
      return { ...obj, x: `[${n} numbers]`, y: `[${n} numbers]` };
    }
    if (Array.isArray(value)) return value.map((v, i) => strip(v, [...path, String(i)]));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strip(v, [...path, k])]));
  };
  return strip(result, []);
}

/** Highest y and where it is: the figure of merit of an alignment scan. */
export function peak(series: Series): { x: number; y: number } {
  let best = 0;
  for (let i = 1; i < series.y.length; i++) if (series.y[i]! > series.y[best]!) best = i;
  return { x: series.x[best]!, y: series.y[best]! };
}
