import { lazy, Suspense } from "react";

import { DetailsTable, formatValue } from "../../../components/DetailsTable";
import type { TerminalMessage } from "../../../lib/messages";
import { findSeries, withoutSeriesData } from "../utils/series";

// The chart library is most of the bundle and only results with series need it.
const SeriesPlot = lazy(() => import("./SeriesPlot").then((m) => ({ default: m.SeriesPlot })));

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function Result({ result }: { result: unknown }) {
  const series = findSeries(result);
  const scalars = isRecord(result)
    ? Object.fromEntries(Object.entries(result).filter(([, v]) => typeof v !== "object" || v === null))
    : { value: result };
  return (
    <>
      {series.length > 0 && (
        <Suspense fallback={<p className="muted">Loading plot…</p>}>
          {series.map((s) => (
            <SeriesPlot key={s.path} series={s} />
          ))}
        </Suspense>
      )}
      <DetailsTable data={scalars} caption="Result" />
      {isRecord(result) || Array.isArray(result) ? (
        <details>
          <summary>Raw result</summary>
          <pre className="raw">{JSON.stringify(withoutSeriesData(result, series), null, 2)}</pre>
        </details>
      ) : null}
    </>
  );
}

/** How the task ended: result and plots, the error, or why it stopped. */
export function Outcome({ outcome }: { outcome: TerminalMessage }) {
  switch (outcome.type) {
    case "task_completed":
      return (
        <section className="panel outcome outcome-completed" aria-labelledby="outcome-heading">
          <h2 id="outcome-heading">Completed</h2>
          {outcome.result !== null && outcome.result !== undefined && <Result result={outcome.result} />}
          {outcome.values && Object.keys(outcome.values).length > 0 && (
            <DetailsTable data={outcome.values} caption="Submitted values" />
          )}
        </section>
      );
    case "task_failed":
      return (
        <section className="panel outcome outcome-failed" aria-labelledby="outcome-heading">
          <h2 id="outcome-heading">Failed</h2>
          <p role="alert" className="error">
            {outcome.error}
          </p>
          {outcome.attempt !== null && <p className="muted">after attempt {outcome.attempt}</p>}
        </section>
      );
    case "task_cancelled":
      return (
        <section className="panel outcome outcome-cancelled" aria-labelledby="outcome-heading">
          <h2 id="outcome-heading">Cancelled</h2>
          <p>Reason: {outcome.reason}</p>
          {outcome.position !== null && <p>Position when stopped: {formatValue(outcome.position)}</p>}
        </section>
      );
    case "task_interrupted":
      return (
        <section className="panel outcome outcome-interrupted" aria-labelledby="outcome-heading">
          <h2 id="outcome-heading">Interrupted</h2>
          <p>{outcome.reason}</p>
        </section>
      );
  }
}
