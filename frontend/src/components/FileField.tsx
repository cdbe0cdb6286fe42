import { useEffect, useRef, useState } from "react";

import { errorMessage } from "../lib/api-client";
import { formatSize, uploadFile, type UploadCreated } from "../lib/uploads";
import { ProgressBar } from "./ProgressBar";

export interface FileFieldProps {
  /** Spread onto the <input type="file"> (id, name, aria-* from SchemaFields). */
  common: Record<string, unknown>;
  /** Suffixes the server takes; the picker offers those files first. */
  accept?: string[];
  /** The upload id once the file is stored, "" while there is none. */
  onChange: (uploadId: string) => void;
}

type State =
  | { step: "idle" }
  | { step: "uploading"; name: string; percent: number }
  | { step: "done"; upload: UploadCreated }
  | { step: "failed"; name: string; message: string };

/**
 * A file picker for a task input file: the chosen file is uploaded at once (POST /uploads),
 * with its progress shown, and the field's value becomes the upload id. A refusal (too
 * large, not a file the server takes) is shown under the picker and leaves no value.
 */
export function FileField({ common, accept, onChange }: FileFieldProps) {
  const [state, setState] = useState<State>({ step: "idle" });
  const inFlight = useRef<AbortController | null>(null);
  const label = typeof common.id === "string" ? common.id : "file";

  useEffect(() => () => inFlight.current?.abort(), []);

  async function choose(file: File | undefined) {
    inFlight.current?.abort();
    onChange("");
    if (!file) {
      setState({ step: "idle" });
      return;
    }
    const controller = new AbortController();
    inFlight.current = controller;
    setState({ step: "uploading", name: file.name, percent: 0 });
    try {
      const upload = await uploadFile(
        file,
        (fraction) => setState({ step: "uploading", name: file.name, percent: fraction * 100 }),
        controller.signal,
      );
      if (controller.signal.aborted) return;
      setState({ step: "done", upload });
      onChange(upload.upload_id);
    } catch (error) {
      if (controller.signal.aborted) return;
      setState({ step: "failed", name: file.name, message: errorMessage(error) });
    }
  }

  return (
    <div className="file-field">
      <input {...common} type="file" accept={accept?.length ? accept.join(",") : undefined} onChange={(e) => void choose(e.target.files?.[0])} />
      {state.step === "uploading" && (
        <ProgressBar value={state.percent} label={`Uploading ${state.name}`} />
      )}
      <p className="file-status" role="status" aria-live="polite" id={`${label}-status`}>
        {state.step === "uploading" && `Uploading ${state.name}…`}
        {state.step === "done" && `Uploaded ${state.upload.filename} (${formatSize(state.upload.size)})`}
      </p>
      {state.step === "failed" && (
        <p className="field-error" role="alert">
          Could not upload {state.name}: {state.message}
        </p>
      )}
    </div>
  );
}
