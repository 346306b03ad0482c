import { principals } from '../adapters/principals.ts';
import { notFound } from '../errors.ts';
import { newSecret } from '../ids.ts';

/** Default grace of a rotation: the old key keeps working this long, so the partner can switch without downtime. */
export const DEFAULT_GRACE_MINUTES = 60;

/**
 * A new key for a partner; its earlier keys stop working after `graceMinutes` (default
 * 60; 0: at once). Only the new key's hash is stored.
 */
export async function rotatePartnerKey(
  partnerId: string,
  graceMinutes: number | undefined,
  now: Date,
) {
  const apiKey = newSecret('pk');
  const grace = graceMinutes ?? DEFAULT_GRACE_MINUTES;
  const rotated = await principals.rotatePartnerKey(partnerId, apiKey, grace * 60, now);
  if (!rotated) throw notFound('partner');
  return { partnerId, apiKey, oldKeysValidUntil: rotated.oldKeysValidUntil };
}

/** Revokes every key of a partner at once (a leaked key, a partner leaving). */
export async function revokePartnerKeys(partnerId: string, now: Date) {
  const revoked = await principals.revokePartnerKeys(partnerId, now);
  if (revoked === undefined) throw notFound('partner');
  return { partnerId, revokedKeys: revoked, revokedAt: now.toISOString() };
}
