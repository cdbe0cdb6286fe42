import { useCallback, useEffect, useRef, useState } from "react";

export interface Polled<T> {
  data: T | undefined;
  error: unknown;
  /** Fetch now, outside the schedule (after a mutation). */
  refresh: () => void;
}

/**
 * Calls `load` now and every `intervalMs` after each call settles (never overlapping),
 * while `enabled`. Keeps the last good data when a later call fails, and polls a failing
 * endpoint less often (`errorIntervalMs`).
 */
export function usePolling<T>(
  load: (signal: AbortSignal) => Promise<T>,
  intervalMs: number,
  enabled = true,
  errorIntervalMs = Math.max(intervalMs, 5000),
): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const kick = useRef<() => void>(() => {});

  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    // Asked for (refresh) while a call was in flight: call again as soon as it settles.
    let again = false;
    const tick = async () => {
      if (controller.signal.aborted) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      clearTimeout(timer);
      let failed = false;
      try {
        const value = await loadRef.current(controller.signal);
        if (!controller.signal.aborted) {
          setData(value);
          setError(null);
        }
      } catch (err) {
        failed = true;
        if (!controller.signal.aborted) setError(err);
      } finally {
        running = false;
        const delay = again ? 0 : failed ? errorIntervalMs : intervalMs;
        again = false;
        if (!controller.signal.aborted) timer = setTimeout(() => void tick(), delay);
      }
    };
    kick.current = () => void tick();
    void tick();
    return () => {
      controller.abort();
      clearTimeout(timer);
      kick.current = () => {};
    };
  }, [intervalMs, errorIntervalMs, enabled]);

  const refresh = useCallback(() => kick.current(), []);
  return { data, error, refresh };
}
