/**
 * The sign-in routes. They handle their own 401s (a wrong password is not a lost sign-in),
 * so they do not report them to lib/auth.
 */
import { api } from "../../../lib/api-client";
import type { LoginBody, Me } from "../../../lib/api-types";

/** Who this browser is signed in as (`{user: null, role: "admin"}` with auth off); 401 when nobody. */
export function getMe(signal?: AbortSignal): Promise<Me> {
  return api.get<Me>("/auth/me", signal, { report: false });
}

/** Sign in: the server sets its HttpOnly session cookie. 401 wrong name or password, 429 too many tries. */
export function signIn(body: LoginBody): Promise<Me> {
  return api.post<Me>("/auth/login", body, { report: false });
}

/** End this browser's sign-in (the server clears the cookie and closes its WebSockets). */
export function signOut(): Promise<unknown> {
  return api.post("/auth/logout", undefined, { report: false });
}
