import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import { epochSeconds, isConditionFailure, table } from './table.ts';

export interface LeasedCounterOptions {
  /** The counter item of a scope (a partner's minute, the district's hour). */
  key: (scope: string) => { pk: string; sk: string };
  /** How long the item outlives its first write. */
  ttlSeconds: number;
  /** The item's count attribute (default `n`). */
  field?: string;
}

/** Units a container takes at once for a cap: a fiftieth of it, 1 to 10. */
export const leaseSize = (cap: number) => Math.max(1, Math.min(10, Math.floor(cap / 50)));

/**
 * A capped count kept in one item per scope, taken by each warm container a lease at a
 * time and spent in memory, so a busy scope costs one write per lease instead of one per
 * unit. The item never passes the cap: a lease is taken only while it fits, then single
 * units until the cap. The price is precision the other way: units leased by a container
 * that then goes quiet are lost for the scope, so the cap may refuse up to 9 units early
 * per warm container.
 */
export class LeasedCounter {
  readonly #left = new Map<string, number>();

  constructor(private readonly options: LeasedCounterOptions) {}

  /** Takes one unit of `scope` unless the cap is reached; false when it is. */
  async take(scope: string, cap: number, now: Date): Promise<boolean> {
    const left = this.#left.get(scope) ?? 0;
    if (left > 0) {
      this.#left.set(scope, left - 1);
      return true;
    }
    const size = leaseSize(cap);
    if (await this.#reserve(scope, size, cap, now)) {
      this.#keep(scope, size - 1);
      return true;
    }
    return size > 1 && this.#reserve(scope, 1, cap, now);
  }

  /** Returns a unit taken and not used to this container's lease (e.g. a failed send). */
  giveBack(scope: string): void {
    this.#keep(scope, 1);
  }

  /** Forgets every lease (tests: each starts from the counter item). */
  forget(): void {
    this.#left.clear();
  }

  #keep(scope: string, n: number) {
    if (n <= 0) return;
    // Scopes are time windows: the oldest are dead weight once many have passed.
    if (!this.#left.has(scope) && this.#left.size >= 1000) {
      const oldest = this.#left.keys().next().value;
      if (oldest !== undefined) this.#left.delete(oldest);
    }
    this.#left.set(scope, (this.#left.get(scope) ?? 0) + n);
  }

  #reserve(scope: string, n: number, cap: number, now: Date): Promise<boolean> {
    const { key, field = 'n', ttlSeconds } = this.options;
    return addWithinCap(key(scope), field, n, cap, ttlSeconds, now);
  }
}

/**
 * Adds `n` to a counter item's `field` if the sum stays within `cap`; false when it would
 * not. The item expires `ttlSeconds` after its first write.
 */
async function addWithinCap(
  key: { pk: string; sk: string },
  field: string,
  n: number,
  cap: number,
  ttlSeconds: number,
  now: Date,
): Promise<boolean> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: table(),
        Key: key,
        UpdateExpression: 'ADD #n :n SET expiresAtEpoch = if_not_exists(expiresAtEpoch, :ttl)',
        ConditionExpression: 'attribute_not_exists(#n) OR #n <= :room',
        ExpressionAttributeNames: { '#n': field },
        ExpressionAttributeValues: {
          ':n': n,
          ':room': cap - n,
          ':ttl': epochSeconds(now) + ttlSeconds,
        },
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}
