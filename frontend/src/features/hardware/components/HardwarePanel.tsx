import { useState } from "react";

import { formatValue } from "../../../components/DetailsTable";
import { errorMessage } from "../../../lib/api-client";
import { formatDateTime } from "../../../lib/dates";
import { unitLabel } from "../../../lib/units";
import { usePolling } from "../../../lib/use-polling";
import { getHardware, stopAllAxes, type AxisState } from "../api/hardware";

function fraction(axis: AxisState): number {
  const span = axis.max - axis.min;
  if (!(span > 0) || axis.position == null) return 0;
  return Math.max(0, Math.min(1, (axis.position - axis.min) / span));
}

/** Axes with position, motion and soft limits, polled; and the software stop. */
export function HardwarePanel({ intervalMs = 500 }: { intervalMs?: number }) {
  const { data, error, refresh } = usePolling(getHardware, intervalMs);
  const [stopState, setStopState] = useState<{ tone: "ok" | "error"; text: string } | null>(null);
  const [stopping, setStopping] = useState(false);

  async function stop() {
    setStopping(true);
    try {
      await stopAllAxes();
      setStopState({ tone: "ok", text: `Stop sent at ${formatDateTime(new Date().toISOString())}.` });
      refresh();
    } catch (err) {
      setStopState({ tone: "error", text: `Stop failed: ${errorMessage(err)}` });
    } finally {
      setStopping(false);
    }
  }

  return (
    <section className="panel hardware" aria-labelledby="hardware-heading">
      <div className="panel-header">
        <h2 id="hardware-heading">Hardware</h2>
        {data && <span className="muted">controller: {data.controller}</span>}
      </div>
      {data && !data.connected && (
        <p role="alert" className="error">
          Controller disconnected: reconnecting. Motion tasks fail until it is back.
        </p>
      )}
      {error != null && (
        <p role="alert" className="error">
          Hardware unavailable: {errorMessage(error)}
        </p>
      )}
      {data && (
        <table className="axes">
          <thead>
            <tr>
              <th scope="col">Axis</th>
              <th scope="col">Position (limits)</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {data.axes.map((axis) => (
              <tr key={axis.id} aria-label={`axis ${axis.id}`}>
                <th scope="row">
                  <code>{axis.id}</code>
                  {axis.name !== axis.id && <span className="axis-name">{axis.name}</span>}
                </th>
                <td className="num">
                  <span className="position">
                    {axis.position == null ? "unknown" : `${formatValue(axis.position)} ${unitLabel(axis.unit)}`}
                  </span>
                  <span className="limit-gauge" aria-hidden="true">
                    <span style={{ left: `${fraction(axis) * 100}%` }} />
                  </span>
                  <span className="limits">
                    {formatValue(axis.min)} … {formatValue(axis.max)} {unitLabel(axis.unit)}
                  </span>
                </td>
                <td>
                  {axis.state === "fault" ? (
                    <span className="badge badge-failed" title={axis.fault ?? undefined}>
                      fault
                    </span>
                  ) : (
                    <span className={axis.moving ? "badge badge-running" : "badge badge-idle"}>
                      {axis.moving ? "moving" : "idle"}
                    </span>
                  )}
                  {axis.fault && <span className="axis-fault">{axis.fault}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="stop">
        <button type="button" className="danger" onClick={stop} disabled={stopping}>
          Stop All Axes
        </button>
        <p className="hint">
          Software stop: asks the controller to halt every axis. It is <strong>not an emergency stop</strong> — for
          emergencies use the hardware E-stop.
        </p>
        {stopState && (
          <p role="status" className={stopState.tone === "error" ? "error" : "ok"}>
            {stopState.text}
          </p>
        )}
      </div>
    </section>
  );
}
