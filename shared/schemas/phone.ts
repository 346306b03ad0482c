import * as z from '../zod.ts';

// Apart from api.ts, so the SMS provider's webhook (schemas/sms-reply.ts) builds this one
// schema and not every route's.

/** E.164: a plus, a country code, up to 15 digits in all. */
export const phone = z
  .string()
  .check(z.regex(/^\+[1-9]\d{7,14}$/, 'must be an E.164 phone number like +8613800138000'));
