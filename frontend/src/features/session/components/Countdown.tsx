import { useEffect, useState } from "react";

/** When a request stops waiting: its timestamp plus timeout, never later than now + timeout. */
export function requestDeadline(ts: string, timeoutSeconds: number, now = Date.now()): number {
  const sent = Date.parse(ts);
  const latest = now + timeoutSeconds * 1000;
  return Number.isNaN(sent) ? latest : Math.min(latest, sent + timeoutSeconds * 1000);
}

export function Countdown({ deadline, then }: { deadline: number; then: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, []);
  const seconds = Math.max(0, Math.ceil((deadline - now) / 1000));
  return (
    <p className={`countdown${seconds <= 10 ? " urgent" : ""}`} role="timer" aria-live="off">
      {seconds > 0 ? `${seconds} s left to answer` : "Time is up"} — then {then}.
    </p>
  );
}
