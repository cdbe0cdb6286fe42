import { useEffect, useState } from "react";

import { getTaskTypes, type TaskType } from "../api/task-types";

/** The server's task types, loaded once. */
export function useTaskTypes(): { taskTypes: TaskType[] | undefined; error: unknown } {
  const [taskTypes, setTaskTypes] = useState<TaskType[]>();
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const controller = new AbortController();
    getTaskTypes(controller.signal).then(setTaskTypes, (err: unknown) => {
      if (!controller.signal.aborted) setError(err);
    });
    return () => controller.abort();
  }, []);
  return { taskTypes, error };
}
