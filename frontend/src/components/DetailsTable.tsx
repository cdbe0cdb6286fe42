import { humanize } from "../lib/form-fields";
import { keyUnit } from "../lib/units";

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** A value with its unit: "100 µm", "0.1 s", a range "−200 … 200 µm". */
function formatQuantity(value: unknown, unit: string | null): string {
  if (unit === null) return formatValue(value);
  if (typeof value === "number") return `${formatValue(value)} ${unit}`;
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "number"))
    return `${formatValue(value[0])} … ${formatValue(value[1])} ${unit}`;
  return formatValue(value);
}

export interface DetailsTableProps {
  data: Record<string, unknown>;
  caption?: string;
  /** The axis unit of the positions, distances and speeds in `data` ("um", "deg"); its own
   *  `unit` entry is then shown with each value instead of as a row. */
  unit?: string | null;
}

/** A key/value table (request details, progress details, submitted values, result fields). */
export function DetailsTable({ data, caption, unit = null }: DetailsTableProps) {
  const entries = Object.entries(data).filter(([key]) => !(unit !== null && key === "unit"));
  if (entries.length === 0) return null;
  return (
    <table className="details">
      {caption && <caption>{caption}</caption>}
      <tbody>
        {entries.map(([key, value]) => {
          const shown = keyUnit(key, unit);
          return (
            <tr key={key}>
              <th scope="row" title={key}>
                {humanize(shown.root)}
              </th>
              <td>{formatQuantity(value, shown.unit)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
