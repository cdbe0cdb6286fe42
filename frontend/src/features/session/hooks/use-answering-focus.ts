import { useCallback, useEffect, useRef, type FocusEvent } from "react";

export interface AnsweringHandlers {
  onPointerDownCapture: () => void;
  onKeyDownCapture: () => void;
  onFocus: () => void;
  onBlur: (event: FocusEvent<HTMLElement>) => void;
}

/**
 * Tells the server (`report`) while this person is answering the open request: from their
 * first click or key press in its form until focus leaves it, or the request closes. A
 * dialog taking focus by itself when it opens does not count: nobody is answering yet.
 */
export function useAnsweringFocus(requestId: string | null, enabled: boolean, report: (answering: string | null) => void): AnsweringHandlers {
  const engaged = useRef(false);

  useEffect(() => {
    engaged.current = false;
    report(null);
  }, [requestId, report]);

  const engage = useCallback(() => {
    if (!enabled || !requestId) return;
    engaged.current = true;
    report(requestId);
  }, [enabled, requestId, report]);

  const onFocus = useCallback(() => {
    if (engaged.current && enabled && requestId) report(requestId);
  }, [enabled, requestId, report]);

  const onBlur = useCallback(
    (event: FocusEvent<HTMLElement>) => {
      const next = event.relatedTarget;
      if (next instanceof Node && event.currentTarget.contains(next)) return;
      report(null);
    },
    [report],
  );

  return { onPointerDownCapture: engage, onKeyDownCapture: engage, onFocus, onBlur };
}
