import { Link } from "react-router-dom";

export function NotFoundPage() {
  return (
    <section className="panel">
      <h1>Page not found</h1>
      <p>
        <Link to="/">Back to the console</Link>
      </p>
    </section>
  );
}
