import * as z from 'zod';

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

export type RequestEvent = z.infer<typeof requestEvent>;
