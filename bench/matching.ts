/**
 * Matching at district scale: loads volunteers into DynamoDB Local (1,000, then 100,000)
 * and runs the candidate search a request's match performs, counting the index items
 * read and the read capacity consumed per match, and the time taken.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTable } from '../local/resources.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../local/servers.ts';
import type { District } from '../shared/district.ts';

export interface MatchFigures {
  volunteers: number;
  scope: string;
  skills: string;
  matches: number;
  candidatesPerMatch: number;
  itemsReadPerMatch: number;
  readUnitsPerMatch: number;
  queriesPerMatch: number;
  p50Ms: number;
  p95Ms: number;
}

const TOWNS = 10;
const COMMUNITIES_PER_TOWN = 10;
const SKILLS = ['driver', 'medic', 'counselor', 'barber', 'cook'];

function syntheticDistrict(): District {
  return {
    id: 'bench',
    name: 'bench',
    // Required by the district schema; nothing here is deployed or alerted.
    region: 'ap-east-1',
    alarms: { email: 'ops@example.org' },
    towns: Array.from({ length: TOWNS }, (_, t) => ({
      townId: `t${t}`,
      name: `town ${t}`,
      communities: Array.from({ length: COMMUNITIES_PER_TOWN }, (_, c) => ({
        communityId: `t${t}-c${c}`,
        name: `community ${t}-${c}`,
      })),
    })),
  } as District;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/**
 * A seeded generator (mulberry32), so every run loads the same district. The LCG used
 * before multiplied beyond 2^53 in floating point and lost its low bits: its draws were
 * correlated, so in some communities the volunteers read first held `medic` but never
 * `driver`, against the 20 % each skill should have independently.
 */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function benchMatching(log: (s: string) => void): Promise<MatchFigures[]> {
  const server = await startDynamoDbLocal();
  const district = syntheticDistrict();
  process.env.AWS_REGION = LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = server.endpoint;
  process.env.TABLE_NAME = 'bench-main';
  process.env.DISTRICT_CONFIG = JSON.stringify({ ...district, demo: true });
  try {
    const admin = new DynamoDBClient({
      endpoint: server.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    await createTable(admin, 'bench-main');
    // Imported after the environment is set: the modules read it.
    const { documents } = await import('../shared/clients/dynamodb.ts');
    const { BatchWriteCommand } = await import('@aws-sdk/lib-dynamodb');
    const { volunteerItems } = await import('../shared/adapters/volunteers.ts');
    const { findCandidates } = await import('../shared/services/matcher.ts');

    const counter = { items: 0, units: 0, queries: 0 };
    documents.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        const o = (out.output ?? {}) as {
          ScannedCount?: number;
          ConsumedCapacity?: { CapacityUnits?: number };
        };
        if (o.ScannedCount !== undefined) {
          counter.items += o.ScannedCount;
          counter.units += o.ConsumedCapacity?.CapacityUnits ?? 0;
          counter.queries++;
        }
        return out;
      },
      { step: 'initialize', name: 'benchCounter' },
    );

    const communities = district.towns.flatMap((t) =>
      t.communities.map((c) => ({ communityId: c.communityId, townId: t.townId })),
    );
    const random = rng(42);
    let loaded = 0;
    const load = async (target: number) => {
      const now = new Date().toISOString();
      // Each volunteer with the per-skill availability entries the app writes with it.
      const items: Record<string, unknown>[] = [];
      for (; loaded < target; loaded++) {
        const home = communities[Math.floor(random() * communities.length)];
        const skills = SKILLS.filter(() => random() < 0.2);
        const active = Math.floor(random() * 4);
        items.push(
          ...volunteerItems({
            volunteerId: `vol_${String(loaded).padStart(16, '0')}`,
            name: 'v',
            phone: `+861380000${String(loaded).padStart(6, '0')}`,
            communityId: home.communityId,
            townId: home.townId,
            skills,
            categories: [],
            capacity: 3,
            onDuty: random() < 0.8,
            active,
            tasksDay: '2026-11-01',
            tasksToday: Math.floor(random() * 5),
            serviceMinutes: 0,
            points: 0,
            version: 1,
            createdAt: now,
            updatedAt: now,
          }),
        );
      }
      const batches: Record<string, unknown>[][] = [];
      for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
      const started = Date.now();
      const workers = Array.from({ length: 8 }, async () => {
        for (let b = batches.shift(); b; b = batches.shift()) {
          let pending = b.map((Item) => ({ PutRequest: { Item } }));
          while (pending.length) {
            const out = await documents.send(
              new BatchWriteCommand({ RequestItems: { 'bench-main': pending } }),
            );
            pending = (out.UnprocessedItems?.['bench-main'] ?? []) as typeof pending;
          }
        }
      });
      await Promise.all(workers);
      log(
        `  loaded ${loaded} volunteers, ${items.length} items (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
    };

    const measure = async (scope: 'community' | 'district', skills: string[]) => {
      const matches = 200;
      const times: number[] = [];
      let found = 0;
      counter.items = 0;
      counter.units = 0;
      counter.queries = 0;
      const now = new Date();
      for (let i = 0; i < matches; i++) {
        const home = communities[i % communities.length];
        const state = {
          request: {
            requestId: `req_${String(i).padStart(16, '0')}`,
            communityId: home.communityId,
            townId: home.townId,
            kind: 'groceries',
            skills,
          },
          offers: [],
          tasks: [],
        } as unknown as Parameters<typeof findCandidates>[0];
        const t0 = performance.now();
        const chosen = await findCandidates(state, scope, 3, now);
        times.push(performance.now() - t0);
        found += chosen.length;
      }
      return {
        volunteers: loaded,
        scope,
        skills: skills.join(',') || '(none)',
        matches,
        candidatesPerMatch: found / matches,
        itemsReadPerMatch: counter.items / matches,
        readUnitsPerMatch: counter.units / matches,
        queriesPerMatch: counter.queries / matches,
        p50Ms: pct(times, 50),
        p95Ms: pct(times, 95),
      };
    };

    const figures: MatchFigures[] = [];
    for (const size of [1_000, 10_000, 100_000]) {
      await load(size);
      for (const [scope, skills] of [
        ['community', []],
        ['community', ['medic']],
        ['district', ['medic', 'driver']],
      ] as const) {
        const f = await measure(scope, [...skills]);
        log(
          `  ${size} volunteers, ${scope} scope, skills ${f.skills}: ${f.itemsReadPerMatch.toFixed(1)} items, ${f.readUnitsPerMatch.toFixed(1)} RCU, p50 ${f.p50Ms.toFixed(1)} ms`,
        );
        figures.push(f);
      }
    }
    return figures;
  } finally {
    await server.stop();
  }
}
