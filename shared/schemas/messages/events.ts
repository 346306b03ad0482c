import * as z from '../../zod.ts';

export const requestEvent = z.object({
  type: z.enum([
    'task_taken',
    'task_delivered',
    'request_confirmed',
    'request_closed',
    'offer_declined',
    'volunteer_off_duty',
  ]),
  requestId: z.optional(z.string()),
  volunteerId: z.optional(z.string()),
  /** task_taken: the volunteer's name for the requester's SMS (older events: read it). */
  volunteerName: z.optional(z.string()),
  at: z.string(),
});

export type RequestEvent = z.infer<typeof requestEvent>;
