import type { Artifact } from "../../../lib/api-types";

export function Artifacts({ artifacts }: { artifacts: Artifact[] }) {
  if (artifacts.length === 0) return null;
  return (
    <section className="panel" aria-labelledby="artifacts-heading">
      <h2 id="artifacts-heading">Artifacts</h2>
      <ul className="artifacts">
        {artifacts.map((artifact) => (
          <li key={artifact.name}>
            <a href={artifact.url} download={artifact.name}>
              {artifact.name}
            </a>{" "}
            <span className="muted">{artifact.content_type}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
