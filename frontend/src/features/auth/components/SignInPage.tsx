import { useRef, useState, type FormEvent } from "react";
import { Navigate, useSearchParams } from "react-router-dom";

import { ApiError, errorMessage } from "../../../lib/api-client";
import { useAuth, type SignedOutReason } from "../hooks/use-auth";
import { safeNext } from "../utils/next-path";
import { ServerUnreachable } from "./ServerUnreachable";

const REASON_TEXT: Partial<Record<SignedOutReason, string>> = {
  expired: "Your sign-in has ended (signed out elsewhere, expired or revoked). Sign in again to continue.",
  signed_out: "You have signed out.",
};

const FIELD_LABELS: Record<string, string> = { username: "User name", password: "Password" };

/** "4 min 30 s", "45 s", "1 min". */
export function formatWait(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  const rest = s % 60;
  return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
}

/** What went wrong with a sign-in, in words: the server's, and how long to wait after a 429. */
export function signInError(error: unknown): string {
  if (!(error instanceof ApiError)) return `Could not reach the server: ${errorMessage(error)}`;
  if (error.status === 429) {
    const wait = error.retryAfter === null ? "later" : `in ${formatWait(error.retryAfter)}`;
    return `Too many failed sign-ins for this name: try again ${wait}.`;
  }
  if (error.status === 422 && error.issues.length) {
    return error.issues.map((issue) => `${FIELD_LABELS[String(issue.loc.at(-1))] ?? issue.loc.join(".")}: ${issue.msg}`).join("; ");
  }
  return error.message;
}

/**
 * The sign-in page (`/sign-in?next=<page>`): user name and password, the server's refusal in
 * words, then back to the page the person wanted. A person already signed in (or anyone,
 * with auth off) goes straight there.
 */
export function SignInPage() {
  const { state, signIn, retry } = useAuth();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const passwordRef = useRef<HTMLInputElement>(null);

  if (state.status === "signed_in") return <Navigate to={next} replace />;
  if (state.status === "unreachable") return <ServerUnreachable error={state.error} onRetry={retry} />;
  if (state.status === "checking") {
    return (
      <p className="muted page-message" role="status">
        Checking sign-in…
      </p>
    );
  }
  const reason = REASON_TEXT[state.reason];

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitting(true);
    setError(null);
    try {
      await signIn(username, password);
    } catch (err) {
      setError(signInError(err));
      setPassword("");
      passwordRef.current?.focus();
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <section className="panel narrow sign-in" aria-labelledby="sign-in-heading">
      <h1 id="sign-in-heading">Sign in</h1>
      {reason && (
        <p role="status" className="notice">
          {reason}
        </p>
      )}
      <form onSubmit={submit} noValidate aria-label="Sign in">
        <div className="field">
          <label htmlFor="sign-in-username">User name</label>
          <input
            id="sign-in-username"
            name="username"
            type="text"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            autoFocus
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            readOnly={submitting}
          />
        </div>
        <div className="field">
          <label htmlFor="sign-in-password">Password</label>
          <input
            id="sign-in-password"
            ref={passwordRef}
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            readOnly={submitting}
          />
        </div>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={submitting}>
            Sign in
          </button>
        </div>
      </form>
    </section>
  );
}
