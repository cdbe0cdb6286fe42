import { useCallback, useEffect, useRef, useState } from "react";

import { errorMessage } from "../../../lib/api-client";
import { getLogPage, logAsJsonLines } from "../api/log";
import type { SessionAction } from "./session-state";

/** Messages one "Load earlier output" asks for. */
export const EARLIER_PAGE = 200;

export interface EarlierOutput {
  loading: boolean;
  error: string | null;
  loadEarlier: () => void;
}

/**
 * Pages backwards through the session's log, before the lowest seq this tab holds; the
 * live tail keeps arriving meanwhile (the page is prepended, never replaces anything).
 */
export function useEarlierOutput(sessionId: string, firstSeq: number | null, dispatch: (action: SessionAction) => void): EarlierOutput {
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), [sessionId]);

  const loadEarlier = useCallback(() => {
    if (firstSeq === null || abort.current) return;
    const controller = new AbortController();
    abort.current = controller;
    setLoading(true);
    setError(null);
    getLogPage(sessionId, { beforeSeq: firstSeq, limit: EARLIER_PAGE }, controller.signal)
      .then((page) => dispatch({ type: "earlier_loaded", messages: page.messages, firstStored: page.firstSeq }))
      .catch((err: unknown) => {
        if (!controller.signal.aborted) setError(`Loading earlier output failed: ${errorMessage(err)}`);
      })
      .finally(() => {
        if (abort.current === controller) abort.current = null;
        if (!controller.signal.aborted) setLoading(false);
      });
  }, [sessionId, firstSeq, dispatch]);

  return { loading, error, loadEarlier };
}

export interface LogExport {
  exporting: boolean;
  error: string | null;
  exportLog: () => void;
}

/** "Export log": the session's whole log downloaded as `session-<id>.jsonl`. */
export function useLogExport(sessionId: string): LogExport {
  const [exporting, setExporting] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const exportLog = useCallback(() => {
    setExporting(true);
    setError(null);
    logAsJsonLines(sessionId)
      .then((text) => download(`session-${sessionId}.jsonl`, text, "application/jsonl"))
      .catch((err: unknown) => setError(`Export failed: ${errorMessage(err)}`))
      .finally(() => setExporting(false));
  }, [sessionId]);

  return { exporting, error, exportLog };
}

function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // After the click has been handled: the download holds its own reference.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
