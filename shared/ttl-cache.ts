/**
 * What a warm container remembers of the keys it has looked up, so a partner posting
 * hundreds of requests a minute costs one key read per container per `ttlMs`, not one
 * per request: the same trade API Gateway's authorizer cache makes. The price is that a
 * revocation or a rotation's end reaches other containers only when their entry expires
 * (the container that revoked forgets at once); `revokedAt` is cached with the entry, so
 * a rotation's grace period still ends on time. Unknown keys are not remembered: a key
 * issued a moment ago must work at once, and a guessed key is read every time.
 */
export class TtlCache<T> {
  readonly #entries = new Map<string, { value: T; until: number }>();

  constructor(
    readonly ttlMs: number,
    readonly maxEntries = 10_000,
    private readonly clock: () => number = () => Date.now(),
  ) {}

  get(hash: string): T | undefined {
    const entry = this.#entries.get(hash);
    if (!entry) return undefined;
    if (entry.until <= this.clock()) {
      this.#entries.delete(hash);
      return undefined;
    }
    return entry.value;
  }

  set(hash: string, value: T): void {
    if (this.ttlMs <= 0) return;
    // Oldest first out: a Map iterates in insertion order.
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.delete(hash);
    this.#entries.set(hash, { value, until: this.clock() + this.ttlMs });
  }

  forget(hash: string): void {
    this.#entries.delete(hash);
  }

  clear(): void {
    this.#entries.clear();
  }
}
