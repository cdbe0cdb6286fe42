import { useCallback, useEffect, useRef, useState } from "react";

import { withUnits } from "../../../lib/units";
import type { WaitingPrompt } from "./use-waiting-prompts";

export type NotificationState = NotificationPermission | "unsupported";

function currentPermission(): NotificationState {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

/**
 * The browser's notification permission, and `request` to ask for it. Nothing asks on load:
 * browsers (rightly) distrust a prompt nobody asked for, so only a visible control calls
 * `request`, and only while the answer is still open (`default`).
 */
export function useNotificationPermission(): { permission: NotificationState; request: () => Promise<void> } {
  const [permission, setPermission] = useState<NotificationState>(currentPermission);
  const request = useCallback(async () => {
    if (currentPermission() !== "default") return;
    setPermission(await Notification.requestPermission());
  }, []);
  return { permission, request };
}

export interface NotifyOptions {
  permission: NotificationState;
  /** Focus this tab on the prompt's session (a click on the notification). */
  open: (sessionId: string) => void;
  /** The person already looks at this session: no notification for it. */
  onScreen: (sessionId: string) => boolean;
}

/**
 * One desktop notification per prompt that opens while the console runs. Prompts already
 * waiting when the console loads are not announced (the page shows them); each notification
 * is tagged with its request id, so several tabs make one notification, not several.
 */
export function usePromptNotifications(prompts: WaitingPrompt[] | undefined, options: NotifyOptions): void {
  const seen = useRef<Set<string> | null>(null);
  const optionsRef = useRef(options);
  optionsRef.current = options;

  useEffect(() => {
    if (prompts === undefined) return;
    const ids = new Set(prompts.map((p) => p.requestId));
    const known = seen.current;
    seen.current = ids;
    if (known === null) return; // the first answer is the baseline
    const { permission, open, onScreen } = optionsRef.current;
    if (permission !== "granted") return;
    for (const prompt of prompts) {
      if (known.has(prompt.requestId) || onScreen(prompt.sessionId)) continue;
      const notification = new Notification(`Waiting: ${prompt.taskTitle}`, {
        body: withUnits(prompt.prompt),
        tag: prompt.requestId,
      });
      notification.onclick = () => {
        window.focus();
        open(prompt.sessionId);
        notification.close();
      };
    }
  }, [prompts]);
}
