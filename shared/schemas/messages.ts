import * as z from 'zod';
import { LANGUAGES } from '../district.ts';

/** Queue message bodies. Each carries what its consumer needs to act idempotently. */

export const matchMessage = z.object({ requestId: z.string() });

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
  params: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
  /**
   * `auto`: push when the volunteer has an endpoint, SMS otherwise (or when the endpoint
   * is disabled); `push-only`: never SMS (withdrawn offers); `sms`: SMS even to a
   * volunteer with push (an urgent offer still open after push).
   */
  channel: z.enum(['auto', 'push-only', 'sms']).default('auto'),
  /**
   * The SMS marker's id when it differs from the notification's: notifications that share
   * it (an offer and its urgent SMS reminder) send at most one SMS between them.
   */
  smsKey: z.string().optional(),
  /**
   * A volunteer's push endpoint and language as the producer read them (the matcher, from
   * the availability entry it makes the offer from), so a push goes out without reading
   * the volunteer. Only for push: an SMS decision always reads the volunteer strongly, and
   * a carried endpoint that SNS says is disabled is replaced by a read.
   */
  push: z.object({ endpoint: z.string(), language: z.enum(LANGUAGES).optional() }).optional(),
  requestId: z.string().optional(),
  /** An answer to the person's own SMS: sent by SMS whatever their quiet hours. */
  reply: z.boolean().default(false),
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
  /** task_taken: the volunteer's name for the requester's SMS (older events: read it). */
  volunteerName: z.string().optional(),
  at: z.string(),
});

/**
 * The offers of one batch (made together, so they share their expiry): one timer for the
 * batch, not one per offer. `volunteerId` is the one offer of a timer queued before
 * batching (still in flight, up to 15 minutes, across a deploy).
 */
const offerBatch = {
  requestId: z.string(),
  volunteerIds: z.array(z.string()).min(1).optional(),
  volunteerId: z.string().optional(),
};

export const timerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('offer_expiry'), ...offerBatch }),
  /** An urgent batch sent by push: SMS each offer still open. */
  z.object({ type: z.literal('offer_sms'), ...offerBatch }),
  z.object({ type: z.literal('window_end'), requestId: z.string(), at: z.string() }),
]);

/** A request's status to tell its partner: one per status change, retried with backoff. */
export const callbackMessage = z.object({
  requestId: z.string(),
  /** The request's partner (it never changes), so the sender need not read the request. */
  partnerId: z.string().optional(),
  status: z.string(),
  at: z.string(),
  attempt: z.number().int().min(1).default(1),
});

/**
 * An SMS a person sent to the district's number, as AWS End User Messaging SMS publishes
 * it to the inbound topic (raw delivery); an SNS envelope around it is unwrapped.
 */
export const inboundSms = z.preprocess(
  (v) => {
    const e = v as { Type?: string; Message?: unknown };
    return e && e.Type === 'Notification' && typeof e.Message === 'string'
      ? JSON.parse(e.Message)
      : v;
  },
  z.object({
    originationNumber: z.string(),
    messageBody: z.string(),
    inboundMessageId: z.string(),
    destinationNumber: z.string().optional(),
  }),
);

export type InboundSms = z.output<typeof inboundSms>;
export type CallbackMessage = z.input<typeof callbackMessage>;
export type MatchMessage = z.infer<typeof matchMessage>;
export type NotifyMessage = z.input<typeof notifyMessage>;
export type RequestEvent = z.infer<typeof requestEvent>;
export type TimerMessage = z.infer<typeof timerMessage>;
