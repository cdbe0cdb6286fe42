/**
 * Who is signed in, as every feature may ask (`useIdentity`, `useMayAct`), and the signals
 * that the server no longer knows this browser (`reportUnauthenticated`) or no longer lets it
 * do something (`reportForbidden`).
 *
 * The identity is provided by features/auth, which also listens to the signals; the REST
 * client, the upload client and the WebSocket client raise them. Without a provider (auth
 * off, and unit tests of other features) everyone is the local admin, as the server says.
 */
import { createContext, useContext } from "react";

import { ROLES, type Me, type Role } from "./api-types";

export type Identity = Me;
export type { Role } from "./api-types";

/** What `GET /auth/me` answers when authentication is off: nobody in particular, admin. */
export const LOCAL_ADMIN: Identity = { user: null, role: "admin" };

/** The least role that may start, cancel and answer (the server's `operator`). */
export const ACTING_ROLE: Role = "operator";

/** Whether `role` may do what `needed` may (roles are ordered; each includes the ones below). */
export function roleAllows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

export const IdentityContext = createContext<Identity>(LOCAL_ADMIN);

/** The signed-in person (`user` null when authentication is off). */
export function useIdentity(): Identity {
  return useContext(IdentityContext);
}

/** Whether the signed-in person may start tasks, cancel them and answer prompts. */
export function useMayAct(): boolean {
  return roleAllows(useIdentity().role, ACTING_ROLE);
}

/**
 * Who may answer a prompt when its task names them (`respondents`); null when any operator
 * may. Read defensively: a prompt of an older server has no such field.
 */
export function respondentsOf(request: object): readonly string[] | null {
  const value = (request as { respondents?: unknown }).respondents;
  if (!Array.isArray(value) || !value.every((name): name is string => typeof name === "string")) return null;
  return value.length ? value : null;
}

/**
 * Whether `identity` may answer a prompt that names `respondents` (null: any operator). Admins
 * and the local admin (auth off) may answer every prompt, as the server lets them.
 */
export function mayAnswer(identity: Identity, respondents: readonly string[] | null): boolean {
  if (!roleAllows(identity.role, ACTING_ROLE)) return false;
  if (respondents === null || identity.user === null || roleAllows(identity.role, "admin")) return true;
  return respondents.includes(identity.user);
}

export interface AnswerRestriction {
  /** Whether the signed-in person may answer (the server would refuse otherwise). */
  allowed: boolean;
  /** Who may answer, in words, when not everyone who sees the prompt: null when anyone may. */
  text: string | null;
}

/**
 * Whether `identity` may answer `request`, and who may, in words: "Only operators can
 * answer." for a viewer, "Only ana and ben may answer." for a prompt that names them.
 */
export function answerRestriction(identity: Identity, request: object): AnswerRestriction {
  const respondents = respondentsOf(request);
  const allowed = mayAnswer(identity, respondents);
  const operator = roleAllows(identity.role, ACTING_ROLE);
  if (respondents && (operator || !respondents.includes(identity.user ?? ""))) {
    return { allowed, text: `Only ${listNames(respondents)} may answer.` };
  }
  return { allowed, text: operator ? null : "Only operators can answer." };
}

/** "ana", "ana and ben", "ana, ben and cy". */
export function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

type Listener = () => void;

const unauthenticated = new Set<Listener>();
const forbidden = new Set<Listener>();

function subscribe(listeners: Set<Listener>, listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Listen for "the server does not know us any more" (a 401, a WebSocket closed with 4401). */
export function onUnauthenticated(listener: Listener): () => void {
  return subscribe(unauthenticated, listener);
}

/** Listen for "the server refused us something our role should allow" (a 403, `forbidden`). */
export function onForbidden(listener: Listener): () => void {
  return subscribe(forbidden, listener);
}

/** The server answered 401, or closed a WebSocket with 4401: the person must sign in again. */
export function reportUnauthenticated(): void {
  for (const listener of [...unauthenticated]) listener();
}

/** The server answered 403 (or `forbidden`): the person's role may have changed. */
export function reportForbidden(): void {
  for (const listener of [...forbidden]) listener();
}
