import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type FormEvent } from "react";

import { SchemaFields } from "../../../components/SchemaForm";
import type { AxisOption } from "../../../lib/axes";
import { isTypingElsewhere } from "../../../lib/focus";
import { fieldsFromRequest, initialValues, toPayload, type FormValues } from "../../../lib/form-fields";
import type { RequestUserInput } from "../../../lib/messages";
import { withUnits } from "../../../lib/units";
import { Countdown, requestDeadline } from "./Countdown";

export interface InputRequestDialogProps {
  request: RequestUserInput;
  onSubmit: (values: Record<string, unknown>) => void;
  busy: boolean;
  fieldErrors: Record<string, string>;
  formError: string | null;
  disabledReason?: string | null;
  /** Who may answer, when not everyone who sees it ("Only operators can answer."). */
  restriction?: string | null;
  /** The controller's axes, offered by fields the task marked as axis ids. */
  axes?: AxisOption[];
}

/**
 * A form the task waits on; what was typed survives the server's validation errors. Its
 * first field takes focus, unless the person is typing in a field elsewhere.
 */
export function InputRequestDialog({ request, onSubmit, busy, fieldErrors, formError, disabledReason, restriction, axes }: InputRequestDialogProps) {
  const promptId = useId();
  const formRef = useRef<HTMLFormElement>(null);
  const fields = useMemo(() => fieldsFromRequest(request.fields, request.schema), [request]);
  const [values, setValues] = useState<FormValues>(() => initialValues(fields));
  const deadline = useMemo(
    () => (request.timeout ? requestDeadline(request.ts, request.timeout) : null),
    [request.request_id, request.ts, request.timeout],
  );

  useLayoutEffect(() => {
    if (isTypingElsewhere(formRef.current)) return;
    formRef.current?.querySelector<HTMLElement>("input, select, textarea")?.focus();
  }, [request.request_id]);

  useEffect(() => {
    const first = Object.keys(fieldErrors)[0];
    if (first) formRef.current?.querySelector<HTMLElement>(`[name="${CSS.escape(first)}"]`)?.focus();
  }, [fieldErrors]);

  function submit(event: FormEvent) {
    event.preventDefault();
    onSubmit(toPayload(fields, values));
  }

  return (
    <div role="dialog" aria-labelledby={promptId} className="request-dialog input-dialog" data-request-id={request.request_id}>
      <p className="dialog-kind">Input needed</p>
      <h2 id={promptId} className="prompt">
        {withUnits(request.prompt)}
      </h2>
      <form ref={formRef} onSubmit={submit} noValidate>
        <SchemaFields
          fields={fields}
          values={values}
          errors={fieldErrors}
          disabled={busy}
          axes={axes}
          onChange={(name, value) => setValues((prev) => ({ ...prev, [name]: value }))}
        />
        {formError && (
          <p role="alert" className="error">
            {formError}
          </p>
        )}
        {deadline !== null && <Countdown deadline={deadline} then="the request times out" />}
        {restriction && <p className="restriction">{restriction}</p>}
        {disabledReason && <p className="muted">{disabledReason}</p>}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            Submit
          </button>
        </div>
      </form>
    </div>
  );
}
