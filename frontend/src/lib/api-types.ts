/** REST shapes shared by more than one feature. */
import type { RequestMessage, TaskStatus } from "./messages";

export interface Artifact {
  name: string;
  url: string;
  content_type: string;
}

/** A task as GET /tasks and GET /tasks/{id} return it. */
export interface Task {
  task_id: string;
  session_id: string;
  task_type: string;
  parameters: Record<string, unknown>;
  status: TaskStatus;
  progress: number;
  message: string | null;
  stage: string | null;
  created_at: string | null;
  started_at: string | null;
  completed_at: string | null;
  result: unknown;
  error: string | null;
  pending_request: RequestMessage | null;
  queue_position?: number | null;
  artifacts: Artifact[];
}

const TERMINAL: ReadonlySet<TaskStatus> = new Set<TaskStatus>(["completed", "failed", "cancelled", "interrupted"]);

export function isTerminalStatus(status: TaskStatus | null | undefined): boolean {
  return status != null && TERMINAL.has(status);
}
