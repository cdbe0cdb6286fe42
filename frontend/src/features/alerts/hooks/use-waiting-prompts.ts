import { useMemo } from "react";

import { usePolling } from "../../../lib/use-polling";
import type { Task } from "../../../lib/api-types";
import { listWaitingTasks } from "../api/waiting-tasks";

/** A prompt some session waits on. */
export interface WaitingPrompt {
  sessionId: string;
  requestId: string;
  prompt: string;
  taskTitle: string;
  /** When the prompt was sent (ISO 8601), for ordering. */
  openedAt: string;
}

function promptOf(task: Task): WaitingPrompt | null {
  const request = task.pending_request;
  if (!request) return null;
  return {
    sessionId: task.session_id,
    requestId: request.request_id,
    prompt: request.prompt,
    taskTitle: task.task_title,
    openedAt: request.ts,
  };
}

/** Newest first: the one that just opened is the one to name. */
export function waitingPrompts(tasks: Task[]): WaitingPrompt[] {
  const prompts = tasks.map(promptOf).filter((p): p is WaitingPrompt => p !== null);
  const time = (p: WaitingPrompt) => Date.parse(p.openedAt) || 0;
  return prompts.sort((a, b) => time(b) - time(a));
}

/**
 * Every prompt open in any session, polled from GET /tasks?status=waiting every
 * `intervalMs`; `undefined` until the first answer. Keeps polling while the tab is hidden:
 * that is when the operator most needs to hear of a prompt.
 */
export function useWaitingPrompts(intervalMs = 1000): { prompts: WaitingPrompt[] | undefined; error: unknown } {
  const { data, error } = usePolling(listWaitingTasks, intervalMs);
  const prompts = useMemo(() => (data === undefined ? undefined : waitingPrompts(data)), [data]);
  return { prompts, error };
}
