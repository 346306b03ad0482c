import * as z from 'zod';

/** A request's status to tell its partner: one per status change, retried with backoff. */
export const callbackMessage = z.object({
  requestId: z.string(),
  /** The request's partner (it never changes), so the sender need not read the request. */
  partnerId: z.string().optional(),
  status: z.string(),
  at: z.string(),
  attempt: z.number().int().min(1).default(1),
});

export type CallbackMessage = z.input<typeof callbackMessage>;
