/**
 * POST /uploads: one file as multipart/form-data, with upload progress (fetch cannot report
 * it, XMLHttpRequest can). Resolves with the stored upload; rejects with an ApiError carrying
 * the server's status and message (413 too large, 422 …), or an Error when the network fails.
 * A 401 or 403 is reported to lib/auth, as the REST client does.
 */
import { apiError, reportStatus, retryAfterSeconds } from "./api-client";
import type { UploadCreated } from "./api-types";

export type { UploadCreated } from "./api-types";

/** `fraction` of the file sent so far, 0 to 1. */
export type UploadProgress = (fraction: number) => void;

export function uploadFile(file: File, onProgress?: UploadProgress, signal?: AbortSignal): Promise<UploadCreated> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/uploads");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress?.(event.loaded / event.total);
    };
    xhr.onload = () => {
      let payload: unknown = xhr.responseText;
      try {
        payload = JSON.parse(xhr.responseText);
      } catch {
        // not JSON (a proxy's error page): keep the text as the message
      }
      if (xhr.status === 201) {
        resolve(payload as UploadCreated);
        return;
      }
      reportStatus(xhr.status);
      reject(apiError(xhr.status, payload, retryAfterSeconds(xhr.getResponseHeader("Retry-After"))));
    };
    xhr.onerror = () => reject(new Error("The upload failed: the server could not be reached"));
    xhr.onabort = () => reject(new DOMException("The upload was cancelled", "AbortError"));
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    const body = new FormData();
    body.append("file", file, file.name);
    xhr.send(body);
  });
}

/** "1.2 MB", "340 kB", "12 bytes". */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(bytes < 10_000 ? 1 : 0)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
