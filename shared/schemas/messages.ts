import { z } from 'zod';

/** Queue message bodies. Each carries what its consumer needs to act idempotently. */

export const matchMessage = z.object({ requestId: z.string() });

export const notifyTarget = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('volunteer'), volunteerId: z.string() }),
  z.object({ kind: z.literal('requester'), requestId: z.string() }),
]);

export const notifyMessage = z.object({
  /** Deterministic per event: the same event never produces a second message. */
  notificationId: z.string(),
  to: notifyTarget,
  template: z.string(),
  params: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
  /** `push-only`: never fall back to SMS (withdrawn offers). */
  channel: z.enum(['auto', 'push-only', 'sms']).default('auto'),
  requestId: z.string().optional(),
});

export const requestEvent = z.object({
  type: z.enum([
    'task_taken',
    'task_delivered',
    'request_confirmed',
    'request_closed',
    'offer_declined',
    'volunteer_off_duty',
  ]),
  requestId: z.string().optional(),
  volunteerId: z.string().optional(),
  at: z.string(),
});

export const timerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('offer_expiry'), requestId: z.string(), volunteerId: z.string() }),
  z.object({ type: z.literal('window_end'), requestId: z.string(), at: z.string() }),
]);

export type MatchMessage = z.infer<typeof matchMessage>;
export type NotifyMessage = z.input<typeof notifyMessage>;
export type RequestEvent = z.infer<typeof requestEvent>;
export type TimerMessage = z.infer<typeof timerMessage>;
