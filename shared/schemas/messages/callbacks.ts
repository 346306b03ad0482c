import * as z from '../../zod.ts';

/** A request's status to tell its partner: one per status change, retried with backoff. */
export const callbackMessage = z.object({
  requestId: z.string(),
  /** The request's partner (it never changes), so the sender need not read the request. */
  partnerId: z.optional(z.string()),
  status: z.string(),
  at: z.string(),
  attempt: z._default(z.number().check(z.int(), z.gte(1)), 1),
});

export type CallbackMessage = z.input<typeof callbackMessage>;
