// Raw-byte uploads through XMLHttpRequest rather than fetch, because only
// XHR reports upload progress in every browser. The answer follows the API's
// envelope, as `apiRequest`'s does (`./http.ts`).

import { ApiError, BAD_RESPONSE, NETWORK_ERROR, parseRetryAfter } from './errors.ts';

export interface SendOptions {
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

/** Thrown when the upload was cancelled by the person (not a failure to report). */
export class UploadCancelled extends Error {
  constructor() {
    super('Upload cancelled.');
  }
}

/**
 * Sends `body` as `application/octet-stream` and resolves with the JSON
 * answer of a success; a refusal rejects with `ApiError` (the server's code
 * and message), a cancellation through `signal` with `UploadCancelled`.
 */
export function sendBytes(method: 'POST' | 'PUT', url: string, body: Blob, options: SendOptions = {}): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.withCredentials = true;
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => options.onProgress?.(e.loaded, e.lengthComputable ? e.total : body.size);
    xhr.onerror = () => reject(new ApiError(0, NETWORK_ERROR, 'The server could not be reached.'));
    xhr.onabort = () => reject(new UploadCancelled());
    xhr.onload = () => {
      let payload: unknown;
      try {
        payload = JSON.parse(xhr.responseText);
      } catch {
        payload = undefined;
      }
      const record = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : null;
      if (xhr.status >= 200 && xhr.status < 300 && record !== null && record['success'] === true) {
        resolve(record);
        return;
      }
      const retryAfter = parseRetryAfter(xhr.getResponseHeader('Retry-After'));
      if (record !== null && typeof record['message'] === 'string') {
        const code = typeof record['code'] === 'string' ? record['code'] : `http_${xhr.status}`;
        reject(new ApiError(xhr.status, code, record['message'], retryAfter));
      } else {
        reject(new ApiError(xhr.status >= 400 ? xhr.status : 502, BAD_RESPONSE, '', retryAfter));
      }
    };
    if (options.signal?.aborted === true) {
      reject(new UploadCancelled());
      return;
    }
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}
