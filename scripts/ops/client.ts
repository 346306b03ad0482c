/** The ops command line's HTTP client: the public API only, with the ops key. */
export interface ApiClient {
  endpoint: string;
  /** `headers`: sent with every attempt (an Idempotency-Key stays the same across retries). */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResult>;
}

export interface ApiResult {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of several routes
  body: any;
  text: string;
  headers: Headers;
  /**
   * An earlier attempt of this call got a 5xx or no answer, so it may have been applied
   * (the API may have written, then failed or lost the answer).
   */
  maybeAppliedBefore: boolean;
}

/** The API could not be reached, after the retries. The call may still have been applied. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

/** Retries 429 and 5xx a few times with back-off; other answers are returned as they are. */
export function apiClient(endpoint: string, key: string, fetchFn: typeof fetch = fetch): ApiClient {
  const base = endpoint.replace(/\/+$/, '');
  return {
    endpoint: base,
    async call(method, path, body, extraHeaders = {}) {
      let maybeAppliedBefore = false;
      for (let attempt = 0; ; attempt++) {
        const headers: Record<string, string> = { ...extraHeaders, authorization: `Bearer ${key}` };
        if (body !== undefined) headers['content-type'] = 'application/json';
        let res: Response;
        try {
          res = await fetchFn(`${base}${path}`, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
          });
        } catch (e) {
          maybeAppliedBefore = true;
          if (attempt < 3) {
            await sleep(200 * 2 ** attempt);
            continue;
          }
          throw new UnreachableError(`cannot reach ${base}: ${(e as Error).message}`);
        }
        if ((res.status === 429 || res.status >= 500) && attempt < 4) {
          if (res.status >= 500) maybeAppliedBefore = true;
          await sleep(250 * 2 ** attempt);
          continue;
        }
        const text = await res.text();
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        return { status: res.status, body: parsed, text, headers: res.headers, maybeAppliedBefore };
      }
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The API's error as one line: `401 unauthorized: …`. */
export function describeError(r: ApiResult): string {
  const e = r.body?.error;
  return e ? `${r.status} ${e.code}: ${e.message}` : `HTTP ${r.status}: ${r.text.slice(0, 200)}`;
}
