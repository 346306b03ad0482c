import { LeasedCounter } from '../adapters/leased-counter.ts';
import { keys } from '../adapters/table.ts';
import { AppError } from '../errors.ts';
import { districtView } from './context.ts';

/**
 * Per-partner limit on posted requests: a fixed window per minute, counted in one item
 * per partner and minute and taken by each warm container a lease at a time (see
 * LeasedCounter: never past the limit, possibly a few requests early). The HTTP API
 * cannot throttle per client, so the application does.
 */
export const partnerMinutes = new LeasedCounter({
  key: (scope) => {
    const [partnerId, minute] = scope.split(' ');
    return keys.rate(partnerId, minute);
  },
  ttlSeconds: 120,
});

export async function checkRateLimit(partnerId: string, now: Date): Promise<void> {
  const limit = districtView().district.rateLimits.partnerRequestsPerMinute;
  const minute = now.toISOString().slice(0, 16);
  if (!(await partnerMinutes.take(`${partnerId} ${minute}`, limit, now))) {
    throw new AppError(
      429,
      'rate_limited',
      `more than ${limit} requests a minute from this partner`,
    );
  }
}
