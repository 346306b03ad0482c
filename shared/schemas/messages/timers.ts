import * as z from '../../zod.ts';

/**
 * The offers of one batch (made together, so they share their expiry): one timer for the
 * batch, not one per offer. `volunteerId` is the one offer of a timer queued before
 * batching (still in flight, up to 15 minutes, across a deploy).
 */
const offerBatch = {
  requestId: z.string(),
  volunteerIds: z.optional(z.array(z.string()).check(z.minLength(1))),
  volunteerId: z.optional(z.string()),
};

export const timerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('offer_expiry'), ...offerBatch }),
  /** An urgent batch sent by push: SMS each offer still open. */
  z.object({ type: z.literal('offer_sms'), ...offerBatch }),
  z.object({ type: z.literal('window_end'), requestId: z.string(), at: z.string() }),
]);

export type TimerMessage = z.infer<typeof timerMessage>;
