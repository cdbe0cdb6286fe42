import { humanize } from "../lib/form-fields";

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** A key/value table (request details, submitted values, result fields). */
export function DetailsTable({ data, caption }: { data: Record<string, unknown>; caption?: string }) {
  const entries = Object.entries(data);
  if (entries.length === 0) return null;
  return (
    <table className="details">
      {caption && <caption>{caption}</caption>}
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th scope="row" title={key}>
              {humanize(key)}
            </th>
            <td>{formatValue(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
