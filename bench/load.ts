/**
 * Load generator for the intake benchmark, run as its own process (so the client does
 * not share an event loop with the gateway, handlers and pollers it measures).
 * `tsx bench/load.ts '<json options>'` prints one JSON line with the figures.
 *
 * open: sends at a fixed rate whatever the answers (latency from the scheduled send time,
 * so a stall is not hidden); closed: `concurrency` clients, each sending its next
 * request when the previous one is answered.
 */
export interface LoadOptions {
  url: string;
  key: string;
  mode: 'open' | 'closed';
  rps?: number;
  concurrency?: number;
  seconds: number;
  body: Record<string, unknown>;
  tag: string;
}

export interface LoadFigures {
  mode: 'open' | 'closed';
  offeredRps?: number;
  concurrency?: number;
  seconds: number;
  sent: number;
  accepted: number;
  errors: number;
  statuses: Record<string, number>;
  acceptedPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function run(o: LoadOptions): Promise<LoadFigures> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let seq = 0;
  let accepted = 0;
  let errors = 0;
  const body = JSON.stringify(o.body);
  const one = async (scheduled: number) => {
    const n = seq++;
    try {
      const res = await fetch(`${o.url}/v1/requests`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${o.key}`,
          'content-type': 'application/json',
          'idempotency-key': `${o.tag}-${n}`,
        },
        body,
      });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status === 202) accepted++;
    } catch (e) {
      errors++;
      statuses[(e as Error).name] = (statuses[(e as Error).name] ?? 0) + 1;
    }
    latencies.push(performance.now() - scheduled);
  };

  const start = performance.now();
  const end = start + o.seconds * 1000;
  if (o.mode === 'open') {
    const rps = o.rps ?? 100;
    const inflight: Promise<void>[] = [];
    for (let i = 0; ; i++) {
      const at = start + (i * 1000) / rps;
      if (at >= end) break;
      const wait = at - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inflight.push(one(at));
    }
    await Promise.all(inflight);
  } else {
    await Promise.all(
      Array.from({ length: o.concurrency ?? 32 }, async () => {
        while (performance.now() < end) await one(performance.now());
      }),
    );
  }
  const elapsed = (performance.now() - start) / 1000;
  return {
    mode: o.mode,
    offeredRps: o.mode === 'open' ? o.rps : undefined,
    concurrency: o.mode === 'closed' ? o.concurrency : undefined,
    seconds: elapsed,
    sent: seq,
    accepted,
    errors,
    statuses,
    acceptedPerSecond: accepted / elapsed,
    p50Ms: pct(latencies, 50),
    p95Ms: pct(latencies, 95),
    p99Ms: pct(latencies, 99),
    maxMs: Math.max(...latencies),
  };
}

if (process.argv[2]?.startsWith('{')) {
  const figures = await run(JSON.parse(process.argv[2] ?? '{}') as LoadOptions);
  console.log(JSON.stringify(figures));
}
