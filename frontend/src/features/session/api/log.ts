import { api } from "../../../lib/api-client";
import type { MessagePage } from "../../../lib/api-types";
import type { SessionMessage } from "../../../lib/messages";

/** The most messages one request asks for (the server's cap). */
export const PAGE_LIMIT = 1000;

export interface LogPage {
  messages: SessionMessage[];
  /** The newest and oldest seq the server stores for the session. */
  lastSeq: number;
  firstSeq: number;
}

function asPage(page: MessagePage): LogPage {
  return { messages: page.messages as SessionMessage[], lastSeq: page.last_seq, firstSeq: page.first_seq };
}

/** Messages with `afterSeq < seq < beforeSeq`: the newest `limit` when `beforeSeq` is set (paging back). */
export async function getLogPage(
  taskId: string,
  options: { afterSeq?: number; beforeSeq?: number; limit?: number },
  signal?: AbortSignal,
): Promise<LogPage> {
  const query = new URLSearchParams({ after_seq: String(options.afterSeq ?? 0), limit: String(options.limit ?? 200) });
  if (options.beforeSeq !== undefined) query.set("before_seq", String(options.beforeSeq));
  return asPage(await api.get<MessagePage>(`/tasks/${encodeURIComponent(taskId)}/messages?${query}`, signal));
}

/** The whole log as JSON Lines: one protocol message per line, in seq order. */
export async function logAsJsonLines(taskId: string, signal?: AbortSignal): Promise<string> {
  const lines: string[] = [];
  let after = 0;
  for (;;) {
    const page = await getLogPage(taskId, { afterSeq: after, limit: PAGE_LIMIT }, signal);
    for (const message of page.messages) lines.push(JSON.stringify(message));
    const last = page.messages.at(-1);
    if (!last || last.seq >= page.lastSeq) break;
    after = last.seq;
  }
  return lines.map((line) => `${line}\n`).join("");
}
