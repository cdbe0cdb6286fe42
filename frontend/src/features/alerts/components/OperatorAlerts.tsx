import { useCallback } from "react";
import { matchPath, useLocation, useNavigate } from "react-router-dom";

import { useNotificationPermission, usePromptNotifications } from "../hooks/use-notifications";
import { useTabTitle } from "../hooks/use-tab-title";
import { useWaitingPrompts } from "../hooks/use-waiting-prompts";
import { NotificationControl } from "./NotificationControl";
import { WaitingPrompts } from "./WaitingPrompts";

/**
 * Tells the operator a prompt waits, wherever they are: the header's count and links, the
 * tab's title, and (once allowed) a desktop notification per new prompt.
 */
export function OperatorAlerts({ intervalMs = 1000 }: { intervalMs?: number }) {
  const { prompts } = useWaitingPrompts(intervalMs);
  const { permission, request } = useNotificationPermission();
  const navigate = useNavigate();
  const location = useLocation();
  const here = matchPath("/sessions/:sessionId", location.pathname)?.params.sessionId;

  useTabTitle(prompts);
  const open = useCallback((sessionId: string) => navigate(`/sessions/${encodeURIComponent(sessionId)}`), [navigate]);
  const onScreen = useCallback(
    (sessionId: string) => sessionId === here && document.visibilityState === "visible" && document.hasFocus(),
    [here],
  );
  usePromptNotifications(prompts, { permission, open, onScreen });

  return (
    <div className="alerts">
      <WaitingPrompts prompts={prompts} />
      <NotificationControl permission={permission} onEnable={() => void request()} />
    </div>
  );
}
