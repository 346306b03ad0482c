import { enqueue } from '../adapters/queues.ts';

/** SQS holds a message back for at most 15 minutes; longer timers hop. */
export const MAX_DELAY = 900;

/**
 * Queues the timer that expires a request whose time window passes with open slots. Apart
 * from the timer handling (timers.ts) so that intake loads only the queue client, not the
 * notification path's (a function's cold start imports all it reaches).
 */
export async function scheduleWindowEnd(requestId: string, end: string, now: Date) {
  const seconds = (Date.parse(end) - now.getTime()) / 1000;
  await enqueue('timers', { type: 'window_end', requestId, at: end }, Math.min(MAX_DELAY, seconds));
}
