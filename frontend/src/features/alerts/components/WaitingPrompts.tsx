import { Link } from "react-router-dom";

import { withUnits } from "../../../lib/units";
import type { WaitingPrompt } from "../hooks/use-waiting-prompts";

/** How many prompts wait, with a link to each session; in the header of every page. */
export function WaitingPrompts({ prompts }: { prompts: WaitingPrompt[] | undefined }) {
  const count = prompts?.length ?? 0;
  return (
    <nav className={`waiting${count ? " waiting-some" : ""}`} aria-label="Waiting prompts">
      <span className="waiting-count" role="status" aria-label="prompts waiting">
        {prompts === undefined ? "…" : count === 0 ? "No prompts waiting" : `${count} waiting`}
      </span>
      {count > 0 && (
        <ul>
          {prompts?.map((p) => (
            <li key={p.requestId}>
              <Link to={`/sessions/${encodeURIComponent(p.sessionId)}`} title={withUnits(p.prompt)}>
                <strong>{p.taskTitle}</strong>: {withUnits(p.prompt)}
              </Link>
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}
