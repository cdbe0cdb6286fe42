/**
 * Where the sign-in page sends the person afterwards: `/sign-in?next=<the page they wanted>`.
 * Only a path of this console is followed, so a crafted link cannot send a freshly signed-in
 * person to another site.
 */

export const SIGN_IN_PATH = "/sign-in";

/** The page to return to, from the `next` parameter: a path on this origin, else "/". */
export function safeNext(raw: string | null): string {
  if (!raw || !raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\")) return "/";
  const url = new URL(raw, "http://console.invalid");
  if (url.origin !== "http://console.invalid" || url.pathname === SIGN_IN_PATH) return "/";
  return `${url.pathname}${url.search}${url.hash}`;
}

/** The sign-in page, remembering `from` (the page being left), unless that is the start page. */
export function signInPath(from: { pathname: string; search: string; hash: string } | null): string {
  if (!from) return SIGN_IN_PATH;
  const next = safeNext(`${from.pathname}${from.search}${from.hash}`);
  return next === "/" ? SIGN_IN_PATH : `${SIGN_IN_PATH}?next=${encodeURIComponent(next)}`;
}
