import { LANGUAGES } from '../../district.ts';
import * as z from '../../zod.ts';

export const notifyTarget = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('volunteer'), volunteerId: z.string() }),
  z.object({ kind: z.literal('requester'), requestId: z.string() }),
  /** An answer to an SMS from a number the district does not know. */
  z.object({ kind: z.literal('phone'), phone: z.string() }),
]);

export const notifyMessage = z.object({
  /** Deterministic per event: the same event never produces a second message. */
  notificationId: z.string(),
  to: notifyTarget,
  template: z.string(),
  params: z._default(z.record(z.string(), z.union([z.string(), z.number()])), {}),
  /**
   * `auto`: push when the volunteer has an endpoint, SMS otherwise (or when the endpoint
   * is disabled); `push-only`: never SMS (withdrawn offers); `sms`: SMS even to a
   * volunteer with push (an urgent offer still open after push).
   */
  channel: z._default(z.enum(['auto', 'push-only', 'sms']), 'auto'),
  /**
   * The SMS marker's id when it differs from the notification's: notifications that share
   * it (an offer and its urgent SMS reminder) send at most one SMS between them.
   */
  smsKey: z.optional(z.string()),
  /**
   * A volunteer's push endpoint and language as the producer read them (the matcher, from
   * the availability entry it makes the offer from), so a push goes out without reading
   * the volunteer. Only for push: an SMS decision always reads the volunteer strongly, and
   * a carried endpoint that SNS says is disabled is replaced by a read.
   */
  push: z.optional(z.object({ endpoint: z.string(), language: z.optional(z.enum(LANGUAGES)) })),
  requestId: z.optional(z.string()),
  /** An answer to the person's own SMS: sent by SMS whatever their quiet hours. */
  reply: z._default(z.boolean(), false),
});

export type NotifyMessage = z.input<typeof notifyMessage>;
