import { useAuth } from "../hooks/use-auth";

/** "Signed in as ana (operator)" and **Sign out**, in the header; nothing with auth off. */
export function SignedInAs() {
  const { state, signOut, signingOut, signOutError } = useAuth();
  if (state.status !== "signed_in" || state.identity.user === null) return null;
  const { user, role } = state.identity;
  return (
    <div className="identity">
      <span>
        Signed in as {user} ({role})
      </span>
      <button type="button" onClick={() => void signOut()} disabled={signingOut}>
        Sign out
      </button>
      {signOutError && (
        <p role="alert" className="error">
          Could not sign out: {signOutError}
        </p>
      )}
    </div>
  );
}
