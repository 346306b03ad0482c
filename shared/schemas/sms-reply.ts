import * as z from '../zod.ts';
import { phone } from './phone.ts';

/**
 * POST /v1/sms/replies: one reply SMS (上行短信) as the district's HTTPS SMS provider
 * delivers it. Strict: an unknown field is a 400 naming it, so a provider that changed
 * its payload is noticed at once instead of replies being misread.
 */
export const smsReplyBody = z.strictObject({
  /** The phone the reply came from. */
  from: phone,
  /** The reply as the person typed it (`1 K7PQ`); receive-sms parses it. */
  text: z.string().check(z.maxLength(1000)),
  /** When the provider received it; with `from` and `text` it identifies the reply. */
  receivedAt: z.iso.datetime({ offset: true }),
});

export type SmsReply = z.infer<typeof smsReplyBody>;
