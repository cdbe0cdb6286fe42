import { useEffect } from "react";

import { DetailsTable } from "../../../components/DetailsTable";
import { ProgressBar } from "../../../components/ProgressBar";
import { StatusBadge } from "../../../components/StatusBadge";
import { errorMessage } from "../../../lib/api-client";
import { isTerminalStatus } from "../../../lib/api-types";
import { answerRestriction, useIdentity, useMayAct } from "../../../lib/auth";
import { useAxes } from "../../../lib/axes";
import { quantityUnit, withUnits } from "../../../lib/units";
import { cancelTask } from "../api/task";
import { useAnsweringFocus } from "../hooks/use-answering-focus";
import { useEarlierOutput, useLogExport } from "../hooks/use-log";
import { useSession } from "../hooks/use-session";
import { useRequests } from "../hooks/use-requests";
import { useTask } from "../hooks/use-task";
import { AnswersTable } from "./AnswersTable";
import { Artifacts } from "./Artifacts";
import { ConfirmationDialog } from "./ConfirmationDialog";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { InputRequestDialog } from "./InputRequestDialog";
import { Notices } from "./Notices";
import { Outcome } from "./Outcome";
import { PresenceBar } from "./PresenceBar";
import { StreamView } from "./StreamView";

/** One session, live: stream, progress, the open request, the outcome. */
export function SessionView({ sessionId }: { sessionId: string }) {
  const { state, connection, dispatch, send, reconnect, announce } = useSession(sessionId);
  // The server uses one id for a task and its session.
  const { task } = useTask(sessionId);
  const axes = useAxes();
  const identity = useIdentity();
  const mayAct = useMayAct();
  // Re-read the audit trail when a request opens, is resolved, or the task ends; never polled.
  const answersRevision = `${Object.keys(state.requests).length}:${state.resolutions.length}:${state.outcome?.type ?? ""}`;
  const answers = useRequests(sessionId, answersRevision);
  const earlier = useEarlierOutput(sessionId, state.firstSeq, dispatch);
  const logExport = useLogExport(sessionId);
  const openRequestId = state.openRequest?.request_id ?? null;
  const mayAnswer = mayAct && (state.openRequest ? answerRestriction(identity, state.openRequest).allowed : false);
  const answeringFocus = useAnsweringFocus(openRequestId, mayAnswer, announce);

  useEffect(() => {
    if (task) dispatch({ type: "task_snapshot", task });
  }, [task, dispatch]);

  if (state.notFound) {
    return (
      <section className="panel">
        <h1>Session not found</h1>
        <p>
          There is no session <code>{sessionId}</code> on this server.
        </p>
      </section>
    );
  }

  const status = state.status ?? task?.status ?? null;
  const terminal = isTerminalStatus(status);
  const connected = connection === "connected";
  const request = state.openRequest;
  // Who may answer is the server's rule (role, and the task's respondents); the buttons say
  // it up front instead of offering an answer the server would refuse.
  const restriction = request ? answerRestriction(identity, request) : { allowed: true, text: null };
  const busy = !restriction.allowed || !connected || (request !== null && state.answering.includes(request.request_id));
  const disabledReason =
    connected || !restriction.allowed ? null : "Not connected: answering is possible again once the connection is back.";
  const progress = state.progress;
  const progressValue = progress?.progress ?? (terminal && status === "completed" ? 100 : task?.progress ?? null);
  // The REST copy only fills in before the first progress message arrives.
  const stage = progress ? progress.stage : task?.stage ?? null;
  const rawMessage = progress ? progress.message : task?.message ?? null;
  // Some tasks repeat their stage in the message ("measuring: x point 3/41"): say it once.
  const message = rawMessage && stage && rawMessage.startsWith(`${stage}: `) ? rawMessage.slice(stage.length + 2) : rawMessage;
  const details = progress?.details ?? null;

  function answerConfirmation(value: boolean) {
    if (!request) return;
    if (send({ type: "confirm", value, request_id: request.request_id })) {
      dispatch({ type: "answer_sent", requestId: request.request_id });
    } else {
      dispatch({ type: "notice", tone: "error", text: "Not connected: the answer was not sent." });
    }
  }

  function answerInput(values: Record<string, unknown>) {
    if (!request) return;
    if (send({ type: "user_input", values, request_id: request.request_id })) {
      dispatch({ type: "answer_sent", requestId: request.request_id });
    } else {
      dispatch({ type: "notice", tone: "error", text: "Not connected: the form was not sent." });
    }
  }

  async function cancel() {
    if (send({ type: "cancel" })) return;
    try {
      await cancelTask(sessionId);
    } catch (err) {
      dispatch({ type: "notice", tone: "error", text: `Cancel failed: ${errorMessage(err)}` });
    }
  }

  return (
    <div className="session">
      <header className="session-header">
        <div>
          <h1>{task?.task_title ?? "Session"}</h1>
          <p className="muted">
            {task && (
              <>
                <code>{task.task_type}</code> ·{" "}
              </>
            )}
            session <code>{sessionId}</code>
          </p>
        </div>
        <div className="spacer" />
        <StatusBadge status={status} live />
        <ConnectionIndicator state={connection} onReconnect={reconnect} />
      </header>

      <Notices notices={state.notices} onDismiss={(id) => dispatch({ type: "dismiss_notice", id })} />

      <PresenceBar presence={state.presence} openRequestId={openRequestId} />

      <div className="request-area" {...answeringFocus}>
        {request?.type === "request_confirmation" && (
          <ConfirmationDialog
            key={request.request_id}
            request={request}
            onAnswer={answerConfirmation}
            restriction={restriction.text}
            busy={busy}
            disabledReason={disabledReason}
            axes={axes}
          />
        )}
        {request?.type === "request_user_input" && (
          <InputRequestDialog
            key={request.request_id}
            request={request}
            onSubmit={answerInput}
            restriction={restriction.text}
            busy={busy}
            fieldErrors={state.fieldErrors}
            formError={state.formError}
            disabledReason={disabledReason}
            axes={axes}
          />
        )}
      </div>

      <section className="panel" aria-label="Progress">
        <ProgressBar
          value={progressValue}
          label="Task progress"
          valueText={[progressValue === null ? null : `${Math.round(progressValue)}%`, stage, message && withUnits(message)]
            .filter(Boolean)
            .join(" — ")}
        />
        <p className="progress-caption">
          {stage && <span className="stage">{stage}</span>}
          {message && <span>{withUnits(message)}</span>}
          {state.replaying && <span className="muted">catching up…</span>}
        </p>
        {details && !terminal && <DetailsTable data={details} caption="Latest progress" unit={quantityUnit(details, axes)} />}
        {mayAct && (
          <div className="actions">
            <button type="button" className="danger-outline" onClick={() => void cancel()} disabled={terminal}>
              Cancel Task
            </button>
          </div>
        )}
      </section>

      {state.outcome && <Outcome outcome={state.outcome} lastResolution={state.resolutions.at(-1)?.resolved ?? null} axes={axes} />}
      <AnswersTable requests={answers.requests} error={answers.error} />
      <Artifacts artifacts={task?.artifacts ?? []} />

      {(earlier.error ?? logExport.error) && (
        <p role="alert" className="error">
          {earlier.error ?? logExport.error}
        </p>
      )}
      <StreamView
        lines={state.lines}
        offset={state.hiddenLines}
        onClear={() => dispatch({ type: "clear_stream" })}
        earlierAvailable={state.earlierAvailable}
        earlierDropped={state.earlierDropped}
        loadingEarlier={earlier.loading}
        onLoadEarlier={earlier.loadEarlier}
        exporting={logExport.exporting}
        onExport={logExport.exportLog}
      />
    </div>
  );
}
