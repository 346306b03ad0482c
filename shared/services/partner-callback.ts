// Setting a partner's callback: apart from callbacks.ts, whose delivery retries through the
// callbacks queue, so set-partner-callback does not load the SQS client.
import { callbacks } from '../adapters/callbacks.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../domain/signature.ts';
import { AppError } from '../errors.ts';
import { newSecret } from '../ids.ts';

/**
 * A partner sets where its request status changes go. A new secret each time, returned
 * only in this answer: the partner verifies every callback's signature with it.
 */
export async function setPartnerCallback(partnerId: string, url: string, now: Date) {
  const secret = newSecret('pk').replace(/^pk_/, 'whsec_');
  if (!(await callbacks.set(partnerId, { url, secret, updatedAt: now.toISOString() }))) {
    throw new AppError(404, 'not_found', 'partner not found');
  }
  return {
    url,
    secret,
    signature: { header: SIGNATURE_HEADER, timestampHeader: TIMESTAMP_HEADER },
  };
}
