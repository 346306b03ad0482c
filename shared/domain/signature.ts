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

/** Header names of a signed SMS provider webhook (replies to SMS). */
export const PROVIDER_SIGNATURE_HEADER = 'x-signature';
export const PROVIDER_TIMESTAMP_HEADER = 'x-timestamp';

/**
 * What the district's SMS provider sends with a reply webhook: HMAC-SHA256 with the
 * provider secret over `<timestamp>.<body>` (Unix seconds, body bytes exactly as sent),
 * hex, as `sha256=<hex>`. The timestamp is signed so a captured call cannot be replayed
 * later than the tolerance.
 */
export function signProviderBody(
  secret: string,
  timestamp: number | string,
  body: string | Buffer,
) {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body);
  return `sha256=${mac.digest('hex')}`;
}

/** Whether `signature` is `sha256=<hex>` of the body with one of `secrets`, in constant time. */
export function providerSignatureMatches(
  secrets: readonly string[],
  timestamp: string,
  body: Buffer,
  signature: string,
): boolean {
  const given = Buffer.from(signature);
  let ok = false;
  // Every secret is compared (no early exit), so the time does not tell which one matched.
  for (const secret of secrets) {
    const expected = Buffer.from(signProviderBody(secret, timestamp, body));
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}
