import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header names of a signed partner callback. */
export const SIGNATURE_HEADER = 'x-dispatch-signature';
export const TIMESTAMP_HEADER = 'x-dispatch-timestamp';
export const EVENT_ID_HEADER = 'x-dispatch-event-id';

/**
 * The signature of a callback: HMAC-SHA256 with the partner's callback secret over
 * `<timestamp>.<body>` (timestamp in Unix seconds, body exactly as sent), hex, as
 * `v1=<hex>`. Signing the timestamp lets a partner reject replays older than a few minutes.
 */
export function signCallback(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a partner does: recompute and compare in constant time, and check the time. */
export function verifyCallback(
  secret: string,
  timestamp: string,
  body: string,
  signature: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = 300,
): boolean {
  const t = Number(timestamp);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signCallback(secret, t, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
