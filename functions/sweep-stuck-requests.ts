import { sweep } from '#shared/services/sweeper.ts';

/** Runs on a schedule; every step it takes is idempotent, so overlapping runs are safe. */
export const handler = async () => sweep(new Date());
