import { lazy, Suspense } from "react";

import { DetailsTable, formatValue } from "../../../components/DetailsTable";
import type { AxisOption } from "../../../lib/axes";
import type { RequestResolved, TerminalMessage } from "../../../lib/messages";
import { quantityUnit, withUnits } from "../../../lib/units";
import { timedOutText } from "../hooks/session-state";
import { findSeries, withoutSeriesData } from "../utils/series";

// The chart library is most of the bundle and only results with series need it.
const SeriesPlot = lazy(() => import("./SeriesPlot").then((m) => ({ default: m.SeriesPlot })));

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Why a task was cancelled, as people should read it. A task ends "declined" both when the
 * person said No and when nobody answered; only the first is a decline.
 */
export function cancelReason(reason: string, lastResolution: RequestResolved | null): string {
  if (reason === "declined" && lastResolution?.reason === "timeout") return timedOutText(lastResolution.value);
  return reason;
}

function Result({ result, axes }: { result: unknown; axes: AxisOption[] | undefined }) {
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
      <DetailsTable data={scalars} caption="Result" unit={quantityUnit(scalars, axes)} />
      {isRecord(result) || Array.isArray(result) ? (
        <details>
          <summary>Raw result</summary>
          <pre className="raw">{JSON.stringify(withoutSeriesData(result, series), null, 2)}</pre>
        </details>
      ) : null}
    </>
  );
}

export interface OutcomeProps {
  outcome: TerminalMessage;
  /** The last request resolution before the end (a timeout reads differently from a No). */
  lastResolution?: RequestResolved | null;
  /** The controller's axes, for the units of results that name an axis. */
  axes?: AxisOption[];
}

/** How the task ended: result and plots, the error, or why it stopped. */
export function Outcome({ outcome, lastResolution = null, axes }: OutcomeProps) {
  switch (outcome.type) {
    case "task_completed":
      return (
        <section className="panel outcome outcome-completed" aria-labelledby="outcome-heading">
          <h2 id="outcome-heading">Completed</h2>
          {outcome.result !== null && outcome.result !== undefined && <Result result={outcome.result} axes={axes} />}
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
            {withUnits(outcome.error)}
          </p>
          {outcome.attempt !== null && <p className="muted">after attempt {outcome.attempt}</p>}
        </section>
      );
    case "task_cancelled":
      return (
        <section className="panel outcome outcome-cancelled" aria-labelledby="outcome-heading">
          <h2 id="outcome-heading">Cancelled</h2>
          <p>Reason: {cancelReason(outcome.reason, lastResolution)}</p>
          {outcome.position !== null && <p>Position when stopped: {formatValue(outcome.position)}</p>}
        </section>
      );
    case "task_interrupted":
      return (
        <section className="panel outcome outcome-interrupted" aria-labelledby="outcome-heading">
          <h2 id="outcome-heading">Interrupted</h2>
          <p>{outcome.reason}</p>
          {outcome.axes && outcome.axes.length > 0 && (
            <p role="alert" className="error">
              {withUnits(
                `Check the stage: nothing stopped ${outcome.axes
                  .map((a) => (a.position === null || a.position === undefined ? a.axis : `${a.axis} (last at ${formatValue(a.position)}${a.unit ? ` ${a.unit}` : ""})`))
                  .join(", ")} when its worker was lost.`,
              )}
            </p>
          )}
        </section>
      );
  }
}
