import { Link, useParams } from "react-router-dom";

import { HardwarePanel } from "../../features/hardware";
import { SessionView } from "../../features/session";

export function SessionPage() {
  const { sessionId = "" } = useParams();
  return (
    <div className="session-page">
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to="/">← All tasks</Link>
      </nav>
      <div className="session-layout">
        <SessionView key={sessionId} sessionId={sessionId} />
        <aside>
          <HardwarePanel />
        </aside>
      </div>
    </div>
  );
}
