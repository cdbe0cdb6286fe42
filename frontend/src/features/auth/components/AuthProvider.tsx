import type { ReactNode } from "react";

import { AuthContext, useAuthState } from "../hooks/use-auth";

/**
 * Holds the console's sign-in state (asked of `GET /auth/me` at load) for the sign-in page,
 * the header and `RequireSignIn`; listens for 401s and 4401 closes from anywhere.
 */
export function AuthProvider({ children }: { children: ReactNode }) {
  const control = useAuthState();
  return <AuthContext.Provider value={control}>{children}</AuthContext.Provider>;
}
