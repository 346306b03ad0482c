/**
 * Queue message bodies. Each carries what its consumer needs to act idempotently.
 *
 * One module per queue: a consumer imports its own schema from it (zod builds a schema when
 * its module loads, so importing this index would build all of them); types and tests may
 * import from here.
 */
export * from './messages/callbacks.ts';
export * from './messages/events.ts';
export * from './messages/inbound.ts';
export * from './messages/match.ts';
export * from './messages/notify.ts';
export * from './messages/timers.ts';
