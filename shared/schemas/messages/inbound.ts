import * as z from '../../zod.ts';

/**
 * An SMS a person sent to the district's number, as AWS End User Messaging SMS publishes
 * it to the inbound topic (raw delivery); an SNS envelope around it is unwrapped.
 */
export const inboundSms = z.pipe(
  // zod/mini has no z.preprocess: it is this pipe (the same schema classic zod builds).
  z.transform((v: unknown) => {
    const e = v as { Type?: string; Message?: unknown };
    return e && e.Type === 'Notification' && typeof e.Message === 'string'
      ? JSON.parse(e.Message)
      : v;
  }),
  z.object({
    originationNumber: z.string(),
    messageBody: z.string(),
    inboundMessageId: z.string(),
    destinationNumber: z.optional(z.string()),
  }),
);

export type InboundSms = z.output<typeof inboundSms>;
