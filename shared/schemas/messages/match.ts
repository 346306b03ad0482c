import * as z from '../../zod.ts';

export const matchMessage = z.object({
  requestId: z.string(),
  /**
   * Queued by the request's post: before this match nobody can have made an offer for it,
   * so a first delivery reads it eventually consistent (see `matchRequest`).
   */
  first: z.optional(z.literal(true)),
});

export type MatchMessage = z.infer<typeof matchMessage>;
