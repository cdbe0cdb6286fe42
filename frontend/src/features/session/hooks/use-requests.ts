import { useEffect, useState } from "react";

import { getRequests, type TaskRequest } from "../api/task";

/**
 * The task's request audit trail over REST, fetched on mount and again whenever `revision`
 * changes (the caller bumps it when a request is resolved or the task ends): no polling.
 * Keeps the last good list when a later fetch fails.
 */
export function useRequests(taskId: string, revision: string): { requests: TaskRequest[] | undefined; error: unknown } {
  const [requests, setRequests] = useState<TaskRequest[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    setRequests(undefined);
    setError(null);
  }, [taskId]);

  useEffect(() => {
    const controller = new AbortController();
    getRequests(taskId, controller.signal).then(
      (list) => {
        if (controller.signal.aborted) return;
        setRequests(list);
        setError(null);
      },
      (err: unknown) => {
        if (!controller.signal.aborted) setError(err);
      },
    );
    return () => controller.abort();
  }, [taskId, revision]);

  return { requests, error };
}
