import { useMemo, useState, type FormEvent } from "react";

import { SchemaFields } from "../../../components/SchemaForm";
import { ApiError, errorMessage } from "../../../lib/api-client";
import { useMayAct } from "../../../lib/auth";
import { useAxes } from "../../../lib/axes";
import { fieldsFromSchema, initialValues, toPayload, type FormValues } from "../../../lib/form-fields";
import { withUnits } from "../../../lib/units";
import { createTask, submitErrors, type CreatedTask, type SubmitErrors } from "../api/create-task";
import { useTaskTypes } from "../hooks/use-task-types";

const NO_ERRORS: SubmitErrors = { fields: {}, form: null };

/**
 * Pick a task type, fill in its parameters, start it; `onStarted` gets the new session.
 * A viewer may look at the task types and their parameters, but not start one.
 */
export function StartTaskForm({ onStarted }: { onStarted: (task: CreatedTask) => void }) {
  const { taskTypes, error: loadError } = useTaskTypes();
  const mayAct = useMayAct();
  const axes = useAxes();
  const [chosen, setChosen] = useState<string | null>(null);
  // What was typed, for the task type it was typed for; other types start from defaults.
  const [edited, setEdited] = useState<{ type: string; values: FormValues } | null>(null);
  const [queue, setQueue] = useState(false);
  const [errors, setErrors] = useState<SubmitErrors>(NO_ERRORS);
  const [submitting, setSubmitting] = useState(false);

  const selected = chosen ?? taskTypes?.[0]?.name ?? "";
  const taskType = taskTypes?.find((t) => t.name === selected);
  const fields = useMemo(() => fieldsFromSchema(taskType?.parameters_schema), [taskType]);
  const values = edited?.type === selected ? edited.values : initialValues(fields);

  function choose(name: string) {
    setChosen(name);
    setErrors(NO_ERRORS);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!taskType || !mayAct) return;
    setSubmitting(true);
    setErrors(NO_ERRORS);
    try {
      const body = { task_type: taskType.name, parameters: toPayload(fields, values), ...(queue ? { queue: true } : {}) };
      onStarted(await createTask(body));
    } catch (error) {
      setErrors(error instanceof ApiError ? submitErrors(error) : { fields: {}, form: errorMessage(error) });
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <section className="panel" aria-labelledby="start-heading">
      <h2 id="start-heading">Start a task</h2>
      {loadError ? (
        <p role="alert" className="error">
          Could not load task types: {errorMessage(loadError)}
        </p>
      ) : !taskTypes ? (
        <p className="muted">Loading task types…</p>
      ) : (
        <form onSubmit={submit} noValidate aria-label="Start a task">
          <div className="field">
            <label htmlFor="task-type">Task type</label>
            <select id="task-type" value={selected} onChange={(e) => choose(e.target.value)} disabled={submitting}>
              {taskTypes.map((t) => (
                <option key={t.name} value={t.name}>
                  {t.title} ({t.name})
                </option>
              ))}
            </select>
            {taskType && (
              <p className="hint">
                {taskType.description && `${withUnits(taskType.description)} `}
                <code className="field-name">{taskType.name}</code>
              </p>
            )}
          </div>
          <fieldset disabled={submitting || !mayAct}>
            <legend>Parameters</legend>
            <SchemaFields
              fields={fields}
              values={values}
              errors={errors.fields}
              axes={axes}
              onChange={(name, value) => setEdited({ type: selected, values: { ...values, [name]: value } })}
            />
          </fieldset>
          <label className="checkbox">
            <input type="checkbox" checked={queue} onChange={(e) => setQueue(e.target.checked)} disabled={submitting || !mayAct} />
            Queue it if another task is running
          </label>
          {errors.form && (
            <p role="alert" className="error">
              {errors.form}
            </p>
          )}
          {mayAct ? (
            <div className="actions">
              <button type="submit" className="primary" disabled={submitting || !taskType}>
                Start Task
              </button>
            </div>
          ) : (
            <p className="restriction">Only operators can start tasks.</p>
          )}
        </form>
      )}
    </section>
  );
}
