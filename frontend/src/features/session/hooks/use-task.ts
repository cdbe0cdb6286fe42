import { useCallback, useEffect, useState } from "react";

import type { Task } from "../../../lib/api-types";
import { isTerminalStatus } from "../../../lib/api-types";
import { usePolling } from "../../../lib/use-polling";
import { getTask } from "../api/task";

/** The session's task over REST (type, artifacts), polled until it has ended. */
export function useTask(taskId: string, intervalMs = 1000): { task: Task | undefined; error: unknown } {
  const [done, setDone] = useState(false);
  const load = useCallback((signal: AbortSignal) => getTask(taskId, signal), [taskId]);
  const { data, error } = usePolling(load, intervalMs, !done);
  useEffect(() => setDone(false), [taskId]);
  useEffect(() => {
    if (data && data.task_id === taskId && isTerminalStatus(data.status)) setDone(true);
  }, [data, taskId]);
  return { task: data, error };
}
