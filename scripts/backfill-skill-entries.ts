/**
 * Upgrade step, once per district deployed before per-skill availability entries
 * (docs/deploy.md, "Upgrading a deployed district"):
 *
 *   TABLE_NAME=<stack output TableName> npm run backfill-skills [-- --concurrency 8]
 *
 * Volunteers stored before that version have no `VOL#<id>` / `AVAIL#<skill>` entries, and
 * the writes that keep entries in step write only entries whose content changes, so
 * without this a skilled request would never find them. For each volunteer it writes the
 * entries `skillEntries` says they should have, in one transaction with the volunteer's
 * version-checked update to itself: a volunteer changed meanwhile (by the running
 * district) cancels it, and is re-read and written again. Volunteers without skills, off
 * duty or full have no entries due and are not written. Safe to run twice (Puts overwrite
 * with the same entries; each volunteer's version goes up by one per run).
 *
 * Reads the table with a Scan (volunteers only kept): an ops migration's price, once.
 * Region and credentials from the usual AWS environment / profile. Local stack:
 * TABLE_NAME=local-demo-main AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:<port> (the
 * DynamoDB Local endpoint `npm start` prints); dummy credentials are used if none are set.
 *
 * Prints progress on stderr and a summary on stdout; exits 1 if any volunteer failed
 * (run it again: what was written stays right), 2 on a usage error. No phone number is
 * printed unmasked.
 */
import { pathToFileURL } from 'node:url';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { fromItem, table } from '../shared/adapters/table.ts';
import { volunteers } from '../shared/adapters/volunteers.ts';
import { documents } from '../shared/clients/dynamodb.ts';
import { skillEntries, type Volunteer } from '../shared/domain/volunteer.ts';
import { maskPhone, maskPhones } from '../shared/masking.ts';

export interface BackfillSummary {
  /** Volunteer items scanned. */
  read: number;
  /** Of them, with at least one skill. */
  withSkills: number;
  /** Volunteers whose entries were written (those with entries due). */
  restored: number;
  /** Per-skill entries put. */
  entriesWritten: number;
  /** Writes cancelled because the volunteer changed meanwhile, then re-read and retried. */
  retried: number;
  /** Volunteers not restored: an error, or still changing after every attempt. */
  failed: number;
}

export interface BackfillOptions {
  /** Volunteers restored at once. */
  concurrency?: number;
  /** Items per Scan page (DynamoDB's 1 MB page when unset). */
  pageSize?: number;
  /** Attempts per volunteer before it counts as failed. */
  maxAttempts?: number;
  progress?: (line: string) => void;
  /** One line per failed volunteer (id, masked phone, reason). */
  failure?: (line: string) => void;
}

/**
 * Every volunteer of the district, a page at a time. A Scan reads the whole table (every
 * request, offer and counter too) and bills for all of it: for this one-off migration
 * only, with the operator's credentials. It lives here, not in shared/adapters, so no
 * function bundle holds a Scan (and no function role is allowed one: test/infra).
 */
export async function* scanVolunteers(pageSize?: number): AsyncGenerator<Volunteer[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new ScanCommand({
        TableName: table(),
        FilterExpression: '#type = :volunteer AND sk = :vol',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':volunteer': 'volunteer', ':vol': 'VOL' },
        Limit: pageSize,
        ExclusiveStartKey: startKey,
      }),
    );
    yield (page.Items ?? []).map((i) => fromItem<Volunteer>(i));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Restores every volunteer's per-skill entries; never throws for one volunteer's failure. */
export async function backfill(options: BackfillOptions = {}): Promise<BackfillSummary> {
  const { concurrency = 8, pageSize, maxAttempts = 5 } = options;
  const progress = options.progress ?? (() => {});
  const failure = options.failure ?? (() => {});
  const s: BackfillSummary = {
    read: 0,
    withSkills: 0,
    restored: 0,
    entriesWritten: 0,
    retried: 0,
    failed: 0,
  };

  async function restore(first: Volunteer) {
    let v: Volunteer | undefined = first;
    for (let attempt = 1; v; attempt++) {
      const written = await volunteers.restoreSkillEntries(v);
      if (written !== 'changed') {
        if (written > 0) {
          s.restored++;
          s.entriesWritten += written;
        }
        return;
      }
      if (attempt >= maxAttempts) throw new Error(`still changing after ${attempt} attempts`);
      s.retried++;
      await sleep(50 * 2 ** attempt * Math.random());
      v = await volunteers.get(v.volunteerId, { consistent: true });
      // Gone meanwhile: nothing to restore.
    }
  }

  for await (const page of scanVolunteers(pageSize)) {
    s.read += page.length;
    const skilled = page.filter((v) => (v.skills ?? []).length > 0);
    s.withSkills += skilled.length;
    // Only volunteers with entries due are written; the others need nothing.
    const queue = skilled.filter((v) => skillEntries(v).length > 0);
    const worker = async () => {
      for (let v = queue.shift(); v; v = queue.shift()) {
        try {
          await restore(v);
        } catch (e) {
          s.failed++;
          const reason = maskPhones(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
          failure(`failed ${v.volunteerId} (${maskPhone(v.phone ?? '')}): ${reason}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    progress(line('so far:', s));
  }
  return s;
}

const line = (head: string, s: BackfillSummary) =>
  `${head} ${s.read} volunteers read, ${s.withSkills} with skills, ${s.restored} restored, ` +
  `${s.entriesWritten} entries written, ${s.retried} retried, ${s.failed} failed`;

const USAGE = `usage: TABLE_NAME=<table> npm run backfill-skills [-- --concurrency n] [--page-size n]
  local stack: also AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:<DynamoDB Local port>`;

function flag(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return argv[i].includes('=') ? argv[i].split('=', 2)[1] : argv[i + 1];
}

export async function main(
  argv: string[],
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  const positiveInt = (name: string) => {
    const raw = flag(argv, name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    return Number.isInteger(n) && n > 0 ? n : Number.NaN;
  };
  const concurrency = positiveInt('concurrency');
  const pageSize = positiveInt('page-size');
  if (
    argv.includes('--help') ||
    Number.isNaN(concurrency) ||
    Number.isNaN(pageSize) ||
    !process.env.TABLE_NAME
  ) {
    err(USAGE);
    return 2;
  }
  if (process.env.AWS_ENDPOINT_URL_DYNAMODB) {
    // The local stack: DynamoDB Local takes any credentials (it runs with -sharedDb). The
    // client reads region and credentials at its first call, so setting them here works.
    process.env.AWS_REGION ??= 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  }
  err(`backfilling per-skill availability entries in ${process.env.TABLE_NAME}`);
  const summary = await backfill({ concurrency, pageSize, progress: err, failure: err });
  out(line('done:', summary));
  return summary.failed > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      documents.destroy();
      process.exit(code);
    },
    (error) => {
      console.error(`backfill-skills: ${maskPhones((error as Error).message)}`);
      process.exit(1);
    },
  );
}
