import * as z from 'zod';

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
