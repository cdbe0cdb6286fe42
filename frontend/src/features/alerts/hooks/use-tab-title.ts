import { useEffect, useRef } from "react";

import { withUnits } from "../../../lib/units";
import type { WaitingPrompt } from "./use-waiting-prompts";

/** `(2) Waiting: <newest prompt>`, or null when nothing waits. */
export function waitingTitle(prompts: WaitingPrompt[]): string | null {
  const newest = prompts[0];
  return newest ? `(${prompts.length}) Waiting: ${withUnits(newest.prompt)}` : null;
}

/** The tab's title says how many prompts wait and names the newest; the page's own title
 *  comes back when none wait (and when the console unmounts). */
export function useTabTitle(prompts: WaitingPrompt[] | undefined): void {
  const base = useRef<string | null>(null);
  base.current ??= document.title;
  const title = prompts ? waitingTitle(prompts) : null;

  useEffect(() => {
    document.title = title ?? base.current ?? "";
  }, [title]);

  useEffect(
    () => () => {
      if (base.current !== null) document.title = base.current;
    },
    [],
  );
}
