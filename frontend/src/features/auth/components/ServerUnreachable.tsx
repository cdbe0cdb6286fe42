/** The server could not say who this browser is: say so, and offer to ask again. */
export function ServerUnreachable({ error, onRetry }: { error: string; onRetry: () => void }) {
  return (
    <section className="panel narrow" aria-labelledby="unreachable-heading">
      <h1 id="unreachable-heading">Cannot reach the server</h1>
      <p role="alert" className="error">
        Could not check who is signed in: {error}
      </p>
      <div className="actions">
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      </div>
    </section>
  );
}
