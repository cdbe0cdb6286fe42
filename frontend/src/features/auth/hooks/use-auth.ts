import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";

import { ApiError, errorMessage } from "../../../lib/api-client";
import { onForbidden, onUnauthenticated, type Identity } from "../../../lib/auth";
import { getMe, signIn as postLogin, signOut as postLogout } from "../api/auth";

/** Why nobody is signed in: never was, the sign-in ended under us, or the person left. */
export type SignedOutReason = "not_signed_in" | "expired" | "signed_out";

export type AuthState =
  /** Asking the server (`GET /auth/me`) who this browser is. */
  | { status: "checking" }
  | { status: "signed_in"; identity: Identity }
  | { status: "signed_out"; reason: SignedOutReason }
  /** The server could not say (down, or an error other than 401). */
  | { status: "unreachable"; error: string };

export interface AuthControl {
  state: AuthState;
  /** Sign in; rejects with the server's ApiError (401, 429 with `retryAfter`, 422). */
  signIn: (username: string, password: string) => Promise<void>;
  /** Sign out (`POST /auth/logout`); on failure the person stays signed in and `signOutError` says why. */
  signOut: () => Promise<void>;
  signingOut: boolean;
  signOutError: string | null;
  /** Ask the server again after it was unreachable. */
  retry: () => void;
}

export const AuthContext = createContext<AuthControl | null>(null);

/** The sign-in state and its actions (inside AuthProvider). */
export function useAuth(): AuthControl {
  const control = useContext(AuthContext);
  if (!control) throw new Error("useAuth must be used inside <AuthProvider>");
  return control;
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return a.user === b.user && a.role === b.role;
}

/**
 * The console's sign-in state machine: checking → signed in | signed out | unreachable.
 * A 401 anywhere (or a WebSocket closed with 4401) while signed in ends the sign-in
 * ("expired"); a 403 asks the server again who we are, so a changed role shows at once.
 * While signing out, those signals are expected (the server closes our sockets) and ignored.
 */
export function useAuthState(): AuthControl {
  const [state, setState] = useState<AuthState>({ status: "checking" });
  const [signingOut, setSigningOut] = useState(false);
  const [signOutError, setSignOutError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const leaving = useRef(false);
  const rechecking = useRef(false);
  const mounted = useRef(true);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    setState({ status: "checking" });
    getMe(controller.signal).then(
      (identity) => {
        if (!controller.signal.aborted) setState({ status: "signed_in", identity });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 401) setState({ status: "signed_out", reason: "not_signed_in" });
        else setState({ status: "unreachable", error: errorMessage(error) });
      },
    );
    return () => controller.abort();
  }, [attempt]);

  useEffect(
    () =>
      onUnauthenticated(() => {
        if (leaving.current) return;
        setState((current) => (current.status === "signed_in" ? { status: "signed_out", reason: "expired" } : current));
      }),
    [],
  );

  useEffect(() => {
    const recheck = async () => {
      if (leaving.current || rechecking.current) return;
      rechecking.current = true;
      try {
        const identity = await getMe();
        if (!mounted.current) return;
        setState((current) =>
          current.status === "signed_in" && !sameIdentity(current.identity, identity) ? { status: "signed_in", identity } : current,
        );
      } catch (error) {
        if (!mounted.current || !(error instanceof ApiError) || error.status !== 401) return;
        setState((current) => (current.status === "signed_in" ? { status: "signed_out", reason: "expired" } : current));
      } finally {
        rechecking.current = false;
      }
    };
    return onForbidden(() => void recheck());
  }, []);

  const signIn = useCallback(async (username: string, password: string) => {
    const identity = await postLogin({ username, password });
    if (!mounted.current) return;
    setSignOutError(null);
    setState({ status: "signed_in", identity });
  }, []);

  const signOut = useCallback(async () => {
    if (leaving.current) return;
    leaving.current = true;
    setSigningOut(true);
    setSignOutError(null);
    try {
      await postLogout();
      if (mounted.current) setState({ status: "signed_out", reason: "signed_out" });
    } catch (error) {
      if (mounted.current) setSignOutError(errorMessage(error));
    } finally {
      leaving.current = false;
      if (mounted.current) setSigningOut(false);
    }
  }, []);

  const retry = useCallback(() => setAttempt((n) => n + 1), []);

  return useMemo(
    () => ({ state, signIn, signOut, signingOut, signOutError, retry }),
    [state, signIn, signOut, signingOut, signOutError, retry],
  );
}
