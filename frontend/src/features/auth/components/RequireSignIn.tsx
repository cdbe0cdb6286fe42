import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router-dom";

import { IdentityContext } from "../../../lib/auth";
import { useAuth } from "../hooks/use-auth";
import { signInPath } from "../utils/next-path";
import { ServerUnreachable } from "./ServerUnreachable";

/**
 * Shows `children` to a signed-in person (everyone, with auth off), who they are provided to
 * every feature through lib/auth's `IdentityContext`. Anyone else goes to the sign-in page,
 * which brings them back here afterwards (not after they chose to sign out).
 */
export function RequireSignIn({ children }: { children: ReactNode }) {
  const { state, retry } = useAuth();
  const location = useLocation();
  switch (state.status) {
    case "checking":
      return (
        <p className="muted page-message" role="status">
          Checking sign-in…
        </p>
      );
    case "unreachable":
      return <ServerUnreachable error={state.error} onRetry={retry} />;
    case "signed_out":
      return <Navigate to={signInPath(state.reason === "signed_out" ? null : location)} replace />;
    case "signed_in":
      return <IdentityContext.Provider value={state.identity}>{children}</IdentityContext.Provider>;
  }
}
