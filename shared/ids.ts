import { createHash, randomBytes } from 'node:crypto';
import { badRequest } from './errors.ts';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** A random id: a type prefix and 16 base32 characters (80 bits). No `_` inside the body. */
export function newId(prefix: 'req' | 'vol' | 'ptn' | 'evt'): string {
  const bytes = randomBytes(16);
  let body = '';
  for (const b of bytes) body += ALPHABET[b & 31];
  return `${prefix}_${body}`;
}

/**
 * The id of the request a partner posts with an Idempotency-Key: derived from the pair,
 * so a repeated post finds the first request by its key and the request item's own
 * conditional put is the idempotency check (no separate record to write). 80 bits of
 * SHA-256, in the same form as a random id.
 */
export function requestIdOf(partnerId: string, idempotencyKey: string): string {
  return `req_${derivedBody(`${partnerId}\n${idempotencyKey}`)}`;
}

/** 80 bits of the SHA-256 of `text`, in the form of a random id's body. */
function derivedBody(text: string): string {
  const bytes = createHash('sha256').update(text).digest();
  let body = '';
  for (const b of bytes.subarray(0, 16)) body += ALPHABET[b & 31];
  return body;
}

/**
 * The id of a volunteer registered with an Idempotency-Key (ops only): derived from the
 * key, as `requestIdOf`, so the volunteer item's own conditional put finds a repeated
 * registration.
 */
export function volunteerIdOf(idempotencyKey: string): string {
  return `vol_${derivedBody(`volunteer\n${idempotencyKey}`)}`;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

/** Throws a 400 naming the header unless `key` is an Idempotency-Key this API takes. */
export function checkIdempotencyKey(key: string): void {
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw badRequest('Idempotency-Key', 'must be 1 to 128 visible ASCII characters');
  }
}

/** Same JSON, same hash, whatever the key order or spacing. */
export function canonicalHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v as Record<string, unknown>)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, x]) => [k, canonical(x)]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex');
}

/** A secret for a partner key or volunteer token: 32 random bytes, base64url. */
export function newSecret(prefix: 'pk' | 'vt'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/**
 * Keys are 256-bit random secrets, so a plain SHA-256 is enough to store them
 * (a slow salted hash defends low-entropy passwords, which these are not).
 */
export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** Offers and tasks are addressed by their request and volunteer: one each per pair. */
export const offerIdOf = (requestId: string, volunteerId: string) =>
  `off_${requestId.slice(4)}_${volunteerId.slice(4)}`;
export const taskIdOf = (requestId: string, volunteerId: string) =>
  `tsk_${requestId.slice(4)}_${volunteerId.slice(4)}`;

/** Splits an offer or task id back into its request and volunteer ids, or undefined. */
export function parsePairId(
  id: string,
  prefix: 'off' | 'tsk',
): { requestId: string; volunteerId: string } | undefined {
  const m = new RegExp(`^${prefix}_([0-9a-z]{16})_([0-9a-z]{16})$`).exec(id);
  return m ? { requestId: `req_${m[1]}`, volunteerId: `vol_${m[2]}` } : undefined;
}
