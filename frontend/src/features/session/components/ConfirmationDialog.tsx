import { useId, useLayoutEffect, useMemo, useRef } from "react";

import { DetailsTable } from "../../../components/DetailsTable";
import type { AxisOption } from "../../../lib/axes";
import { isTypingElsewhere } from "../../../lib/focus";
import type { RequestConfirmation } from "../../../lib/messages";
import { quantityUnit, withUnits } from "../../../lib/units";
import { Countdown, requestDeadline } from "./Countdown";

export interface ConfirmationDialogProps {
  request: RequestConfirmation;
  onAnswer: (value: boolean) => void;
  /** An answer is on its way (or answering is impossible right now). */
  busy: boolean;
  disabledReason?: string | null;
  /** Who may answer, when not everyone who sees it ("Only operators can answer."). */
  restriction?: string | null;
  /** The controller's axes, for the units of the details (when they do not say). */
  axes?: AxisOption[];
}

const KIND_TITLE: Record<RequestConfirmation["kind"], string> = {
  confirm: "Confirmation needed",
  retry: "Retry?",
  hazard: "Hazard: hardware will move",
};

/**
 * A yes/no the task waits on. A hazard never starts with "Yes" focused: motion must be
 * a deliberate choice, so focus lands on "No". And a prompt that opens while the person
 * types in a field elsewhere leaves focus there: their next Enter must not answer it.
 */
export function ConfirmationDialog({ request, onAnswer, busy, disabledReason, restriction, axes }: ConfirmationDialogProps) {
  const promptId = useId();
  const dialogRef = useRef<HTMLDivElement>(null);
  const yesRef = useRef<HTMLButtonElement>(null);
  const noRef = useRef<HTMLButtonElement>(null);
  const hazard = request.kind === "hazard";
  const deadline = useMemo(
    () => (request.timeout ? requestDeadline(request.ts, request.timeout) : null),
    [request.request_id, request.ts, request.timeout],
  );

  useLayoutEffect(() => {
    if (isTypingElsewhere(dialogRef.current)) return;
    (hazard ? noRef.current : yesRef.current)?.focus();
  }, [request.request_id, hazard]);

  return (
    <div
      ref={dialogRef}
      role="dialog"
      aria-labelledby={promptId}
      className={`request-dialog confirm-dialog kind-${request.kind}`}
      data-request-id={request.request_id}
    >
      {hazard ? (
        <div className="hazard-banner" role="alert">
          <span aria-hidden="true">⚠</span> Hazard: hardware will move
        </div>
      ) : (
        <p className="dialog-kind">{KIND_TITLE[request.kind]}</p>
      )}
      <h2 id={promptId} className="prompt">
        {withUnits(request.prompt)}
      </h2>
      {request.details && <DetailsTable data={request.details} caption="Details" unit={quantityUnit(request.details, axes)} />}
      {deadline !== null && <Countdown deadline={deadline} then={`the default answer “${request.default ? "Yes" : "No"}” is used`} />}
      {restriction && <p className="restriction">{restriction}</p>}
      {disabledReason && <p className="muted">{disabledReason}</p>}
      <div className="actions">
        <button
          type="button"
          ref={yesRef}
          className={hazard ? "danger" : "primary"}
          onClick={() => onAnswer(true)}
          disabled={busy}
        >
          Yes
        </button>
        <button type="button" ref={noRef} onClick={() => onAnswer(false)} disabled={busy}>
          No
        </button>
      </div>
    </div>
  );
}
