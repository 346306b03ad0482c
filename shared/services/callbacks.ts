import { callbacks } from '../adapters/callbacks.ts';
import { enqueue } from '../adapters/queues.ts';
import { requests } from '../adapters/requests.ts';
import {
  EVENT_ID_HEADER,
  SIGNATURE_HEADER,
  signCallback,
  TIMESTAMP_HEADER,
} from '../domain/signature.ts';
import { logger } from '../observability.ts';
import type { CallbackMessage } from '../schemas/messages.ts';
import { districtView } from './context.ts';

/** Statuses a partner is told about: every change after `received` (answered by the 202). */
const TOLD = new Set(['matched', 'delivered', 'confirmed', 'cancelled', 'expired']);

/** The callback message of a request that reached `status` at `at`, or none. */
export function callbackFor(
  requestId: string,
  status: string,
  at: string,
  partnerId?: string,
): CallbackMessage[] {
  if (!TOLD.has(status)) return [];
  return [{ requestId, ...(partnerId ? { partnerId } : {}), status, at, attempt: 1 }];
}

/** Delay before attempt `attempt + 1`: base, 2×base, 4×base…, at most SQS's 900 s. */
export const backoffSeconds = (attempt: number, base: number) =>
  Math.min(900, base * 2 ** (attempt - 1));

export type CallbackOutcome = 'sent' | 'duplicate' | 'no-callback' | 'retry' | 'gone';

/**
 * POSTs one status change to the partner that owns the request, and only to it: the URL
 * and secret are read from the request's own partner at send time. Signed (see
 * shared/domain/signature.ts). A non-2xx answer or a network error is retried with
 * exponential backoff (a new message with a delay); after `callbacks.maxAttempts` the
 * message fails until SQS moves it to the DLQ. At least once: a partner dedupes by
 * the event id (also a header), which is the same on every attempt.
 */
export async function deliverCallback(
  m: CallbackMessage,
  now: Date,
  post: typeof fetch = fetch,
): Promise<CallbackOutcome> {
  const eventId = `${m.requestId}:${m.status}`;
  // Messages carry the partner (the request's, which never changes); older ones did not.
  const partnerId = m.partnerId ?? (await requests.get(m.requestId))?.partnerId;
  if (!partnerId) return 'gone';
  const callback = await callbacks.of(partnerId);
  if (!callback) return 'no-callback';
  if (await callbacks.wasSent(eventId)) return 'duplicate';
  const attempt = m.attempt ?? 1;
  const body = JSON.stringify({
    eventId,
    type: 'request.status_changed',
    requestId: m.requestId,
    status: m.status,
    at: m.at,
    attempt,
  });
  const timestamp = Math.floor(now.getTime() / 1000);
  let problem: string;
  try {
    const res = await post(callback.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'volunteer-dispatch-callbacks/1',
        [EVENT_ID_HEADER]: eventId,
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signCallback(callback.secret, timestamp, body),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(5000),
    });
    await res.body?.cancel();
    if (res.ok) {
      await callbacks.markSent(eventId, now);
      logger.info('callback sent', { eventId, partnerId, attempt });
      return 'sent';
    }
    problem = `HTTP ${res.status}`;
  } catch (e) {
    problem = (e as Error).name;
  }
  const { retryBaseSeconds, maxAttempts } = districtView().district.callbacks;
  if (attempt >= maxAttempts) {
    throw new Error(`callback ${eventId} failed ${attempt} times (last: ${problem})`);
  }
  const delay = backoffSeconds(attempt, retryBaseSeconds);
  logger.warn('callback failed; retrying later', { eventId, attempt, problem, delay });
  await enqueue('callbacks', { ...m, attempt: attempt + 1 }, delay);
  return 'retry';
}
