import { useCallback, useLayoutEffect, useRef, useState, type UIEvent } from "react";

import type { StreamLine } from "../hooks/session-state";

/** Fixed row height (px): rows are positioned, not flowed, so only visible ones exist. */
export const ROW_HEIGHT = 20;
const OVERSCAN = 30;
/** Tallest the output box grows before it scrolls; also the height assumed in jsdom. */
const MAX_HEIGHT = 360;
const MIN_HEIGHT = 60;

export interface StreamViewProps {
  lines: StreamLine[];
  /** Lines cleared by the user or dropped from memory (said in the header). */
  offset: number;
  onClear: () => void;
  /** The server's log holds older output: offer "Load earlier output". */
  earlierAvailable?: boolean;
  /** Paged back to the log's start, and older output was dropped by the server's limit. */
  earlierDropped?: boolean;
  loadingEarlier?: boolean;
  onLoadEarlier?: () => void;
  exporting?: boolean;
  onExport?: () => void;
}

/**
 * The task's output. Renders only the rows in view, so thousands of lines stay fast;
 * follows new output until the operator scrolls up, and offers a way back down.
 */
export function StreamView({
  lines,
  offset,
  onClear,
  earlierAvailable = false,
  earlierDropped = false,
  loadingEarlier = false,
  onLoadEarlier,
  exporting = false,
  onExport,
}: StreamViewProps) {
  const ref = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const [scrollTop, setScrollTop] = useState(0);
  const total = lines.length * ROW_HEIGHT;
  const viewport = Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, total + 8));
  // Older lines put in front must not move what the operator is reading.
  const head = useRef<{ key: string | undefined; length: number }>({ key: undefined, length: 0 });

  useLayoutEffect(() => {
    const el = ref.current;
    const before = head.current;
    head.current = { key: lines[0]?.key, length: lines.length };
    if (!el || follow || before.key === undefined) return;
    const at = lines.findIndex((line) => line.key === before.key);
    if (at > 0) {
      el.scrollTop += at * ROW_HEIGHT;
      setScrollTop(el.scrollTop);
    }
  }, [lines, follow]);

  useLayoutEffect(() => {
    const el = ref.current;
    if (follow && el) el.scrollTop = total;
  }, [follow, total]);

  const onScroll = useCallback(
    (event: UIEvent<HTMLDivElement>) => {
      const el = event.currentTarget;
      const height = el.clientHeight || viewport; // jsdom has no layout
      setScrollTop(el.scrollTop);
      setFollow(el.scrollTop + height >= total - ROW_HEIGHT);
    },
    [total, viewport],
  );

  const top = follow ? Math.max(0, total - viewport) : scrollTop;
  const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(lines.length, Math.ceil((top + viewport) / ROW_HEIGHT) + OVERSCAN);
  const visible = lines.slice(first, last);

  return (
    <section className="panel stream-panel" aria-labelledby="stream-heading">
      <div className="panel-header">
        <h2 id="stream-heading">Stream</h2>
        <span className="muted">
          {lines.length} line{lines.length === 1 ? "" : "s"}
          {offset > 0 && ` (${offset} cleared)`}
        </span>
        <div className="spacer" />
        {!follow && (
          <button type="button" onClick={() => setFollow(true)}>
            Jump to latest
          </button>
        )}
        {onExport && (
          <button type="button" onClick={onExport} disabled={exporting}>
            {exporting ? "Exporting…" : "Export log"}
          </button>
        )}
        <button type="button" onClick={onClear} disabled={lines.length === 0}>
          Clear Stream
        </button>
      </div>
      {earlierAvailable && onLoadEarlier && (
        <button type="button" className="load-earlier" onClick={onLoadEarlier} disabled={loadingEarlier}>
          {loadingEarlier ? "Loading earlier output…" : "Load earlier output"}
        </button>
      )}
      {earlierDropped && <p className="muted">… older output is no longer kept: the server keeps a limited number of messages per session.</p>}
      <div
        ref={ref}
        className="stream"
        style={{ height: viewport }}
        role="log"
        aria-label="Stream output"
        aria-live="off"
        tabIndex={0}
        onScroll={onScroll}
      >
        <div className="stream-inner" style={{ height: total }}>
          {visible.map((line, i) => (
            <div
              key={line.key}
              className={`stream-line stream-${line.kind}`}
              style={{ top: (first + i) * ROW_HEIGHT, height: ROW_HEIGHT }}
              title={line.text.length > 120 ? line.text : undefined}
            >
              <span className="gutter" aria-hidden="true">
                {line.seq ?? ""}
              </span>
              {line.text}
            </div>
          ))}
        </div>
        {lines.length === 0 && <p className="muted stream-empty">No output yet.</p>}
      </div>
    </section>
  );
}
