import { formatValue } from "../../../components/DetailsTable";
import { errorMessage } from "../../../lib/api-client";
import { formatDateTime } from "../../../lib/dates";
import { withUnits } from "../../../lib/units";
import type { RequestAnswerer, TaskRequest } from "../api/task";
import { clientHost, timedOutText } from "../hooks/session-state";

function yesNo(value: unknown): string {
  return value ? "Yes" : "No";
}

function formatAnswer(answer: TaskRequest["answer"]): string {
  if (answer === null || answer === undefined) return "—";
  if (typeof answer === "boolean") return yesNo(answer);
  const entries = Object.entries(answer);
  if (entries.length === 0) return "(no values)";
  return entries.map(([key, value]) => `${key}: ${formatValue(value)}`).join("; ");
}

/**
 * "Yes", "No" (a decline), the submitted values, "timed out — default No used" (a
 * confirmation nobody answered), "timed out" (a form), "cancelled", "open".
 */
export function describeOutcome(request: TaskRequest): string {
  switch (request.status) {
    case "open":
      return "open";
    case "cancelled":
      return "cancelled";
    case "timeout":
      return timedOutText(request.kind === "input" ? null : request.answer === true);
    case "answered":
      return formatAnswer(request.answer);
  }
}

/** "127.0.0.1 via websocket", "alice (10.0.0.7) via http", "server" for the server's own
 *  decisions. The client's port is left out: it is a new ephemeral one per connection. */
export function describeWho(by: RequestAnswerer | null): string {
  if (!by) return "—";
  if (by.via === "server") return "server";
  const host = by.client ? clientHost(by.client) : null;
  const who = by.user ? (host ? `${by.user} (${host})` : by.user) : host ?? by.connection_id ?? "unknown";
  return `${who} via ${by.via}`;
}

function When({ iso }: { iso: string | null }) {
  if (!iso) return <>—</>;
  const text = formatDateTime(iso);
  return text === iso ? <>{iso}</> : <time dateTime={iso}>{text}</time>;
}

/** Who answered what: every request of the task with its outcome, who and when. */
export function AnswersTable({ requests, error }: { requests: TaskRequest[] | undefined; error: unknown }) {
  return (
    <section className="panel" aria-labelledby="answers-heading">
      <h2 id="answers-heading">Answers</h2>
      {error != null && <p className="muted">Could not load the answers: {errorMessage(error)}</p>}
      {requests && requests.length === 0 && <p className="muted">No requests yet.</p>}
      {requests && requests.length > 0 && (
        <table className="answers" aria-labelledby="answers-heading">
          <thead>
            <tr>
              <th scope="col">Prompt</th>
              <th scope="col">Kind</th>
              <th scope="col">Outcome</th>
              <th scope="col">Who</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {requests.map((request) => (
              <tr key={request.request_id}>
                <td>{withUnits(request.prompt)}</td>
                <td>{request.kind}</td>
                <td>{describeOutcome(request)}</td>
                <td>{describeWho(request.answered_by)}</td>
                <td>
                  <When iso={request.resolved_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
