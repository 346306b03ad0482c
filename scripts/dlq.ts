/**
 * Dead-letter queues, for district ops:
 *
 *   npm run dlq -- list [<queue>]             each queue's DLQ depth, and its work queue's
 *                                             (waiting, in flight, delayed): drained when all are 0
 *   npm run dlq -- inspect <queue> [--max n]  show DLQ messages (personal data masked), leave them
 *   npm run dlq -- redrive <queue> [--max n]  move messages back to the work queue
 *
 * <queue> is match, notify, events or timers (shared/resources.ts).
 *
 * Redrive receives from the DLQ, sends each body (and attributes) to the work queue, and
 * deletes it from the DLQ only after the send succeeded: a crash in between leaves a copy
 * in both, which is safe because every consumer is idempotent (a message already applied
 * is a no-op). SQS's own redrive task is not offered in AWS's China Regions, hence this.
 *
 * Where the queues are:
 *   local stack  --prefix local-<district> (default local-$DISTRICT or local-demo) and
 *                --endpoint http://127.0.0.1:<fauxqs port> (or AWS_ENDPOINT_URL_SQS); the
 *                names are <prefix>-<queue> and <prefix>-<queue>-dlq (local/resources.ts).
 *   AWS          --queue-url <work queue URL> --dlq-url <its DLQ URL> (CDK names the queues;
 *                see the console or `aws sqs list-queues --queue-name-prefix <stack name>`),
 *                or --prefix <name prefix> when the queues are named <prefix>-<queue>[-dlq].
 *                Region and credentials from the usual AWS environment / profile.
 */
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { queueDepth } from '../shared/adapters/queue-depth.ts';
import { maskAddress, maskLength, maskPhone, maskPhones } from '../shared/masking.ts';
import { QUEUES, type QueueName } from '../shared/resources.ts';
import { clientConfig, parseArgs, queueUrlOf, runAsScript } from './cli.ts';

export interface QueuePair {
  queue: QueueName;
  url: string;
  dlqUrl: string;
}

export interface Locator {
  prefix?: string;
  queueUrl?: string;
  dlqUrl?: string;
}

const QUEUE_NAMES = QUEUES.map((q) => q.name);

export function isQueueName(name: string): name is QueueName {
  return (QUEUE_NAMES as string[]).includes(name);
}

export async function locate(sqs: SQSClient, queue: QueueName, where: Locator): Promise<QueuePair> {
  if (where.queueUrl && where.dlqUrl) return { queue, url: where.queueUrl, dlqUrl: where.dlqUrl };
  if (!where.prefix) throw new Error('give --prefix, or --queue-url and --dlq-url');
  const name = `${where.prefix}-${queue}`;
  return {
    queue,
    url: await queueUrlOf(sqs, name),
    dlqUrl: await queueUrlOf(sqs, `${name}-dlq`),
  };
}

export interface Depth {
  queue: QueueName;
  /** The DLQ's name, and its messages waiting and being received (inspect, redrive). */
  dlq: string;
  visible: number;
  inFlight: number;
  /** The work queue: its name and its messages waiting, being processed, and delayed (timers, retries). */
  work: { name: string; visible: number; inFlight: number; delayed: number };
}

/** A queue this deployment does not have (yet): listed as missing, not an error. */
const isMissing = (e: unknown) =>
  e instanceof Error &&
  /QueueDoesNotExist|NonExistentQueue|does not exist/i.test(`${e.name} ${e.message}`);

/**
 * The depth of each queue's DLQ and of the work queue itself: one queue's with `only` (or
 * `--queue-url`/`--dlq-url`, which name one pair), every queue's otherwise.
 */
export async function list(
  sqs: SQSClient,
  where: Locator,
  only?: QueueName,
): Promise<(Depth | { queue: QueueName; missing: true })[]> {
  if (where.queueUrl) return [await depth(sqs, await locate(sqs, only ?? 'match', where))];
  return Promise.all(
    (only ? [only] : QUEUE_NAMES).map(async (q) => {
      try {
        return await depth(sqs, await locate(sqs, q, where));
      } catch (e) {
        if (isMissing(e)) return { queue: q, missing: true as const };
        throw e;
      }
    }),
  );
}

const nameOf = (url: string) => url.split('/').pop() ?? url;

async function depth(sqs: SQSClient, p: QueuePair): Promise<Depth> {
  const [dlq, work] = await Promise.all([queueDepth(sqs, p.dlqUrl), queueDepth(sqs, p.url)]);
  return {
    queue: p.queue,
    dlq: nameOf(p.dlqUrl),
    visible: dlq.visible,
    inFlight: dlq.inFlight,
    work: { name: nameOf(p.url), ...work },
  };
}

/** A `list` line: the DLQ's depth and name, then the work queue's (`waiting` is said of DLQs only). */
export function formatDepth(d: Depth): string {
  const w = d.work;
  return (
    `${d.queue.padEnd(9)} ${String(d.visible).padStart(6)} waiting ${String(d.inFlight).padStart(4)} in flight   ${d.dlq}` +
    `   | work queue ${w.visible} visible, ${w.inFlight} in flight, ${w.delayed} delayed   ${w.name}`
  );
}

/** Whether a queue and its DLQ hold nothing at all: drained. */
export const isDrained = (d: Depth) =>
  d.visible + d.inFlight + d.work.visible + d.work.inFlight + d.work.delayed === 0;

async function receive(sqs: SQSClient, url: string, max: number, visibility: number) {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: Math.min(10, max),
      WaitTimeSeconds: 1,
      VisibilityTimeout: visibility,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return out.Messages ?? [];
}

/**
 * The fields of queue messages that hold personal data, and how `inspect` shows them: a
 * notification's params (`reply_accepted` carries the address, the requester's name and
 * phone) and recipient, an event's volunteer name, an inbound SMS's sender and text.
 */
const PERSONAL: Record<string, (value: string) => string> = {
  address: maskAddress,
  name: maskLength('name'),
  volunteerName: maskLength('name'),
  phone: maskPhone,
  contact: maskPhones,
  originationNumber: maskPhone,
  messageBody: maskLength('text'),
  text: maskLength('text'),
  note: maskLength('text'),
};

function maskValue(value: unknown, key?: string): unknown {
  if (typeof value === 'string') {
    const mask = key === undefined ? undefined : PERSONAL[key];
    if (mask) return mask(value);
    if (key === 'Message') {
      // An SNS envelope (an inbound SMS not delivered raw): the message is JSON in a string.
      try {
        return JSON.stringify(maskValue(JSON.parse(value)));
      } catch {
        // not JSON: masked as any other text
      }
    }
    return maskPhones(value);
  }
  if (Array.isArray(value)) return value.map((v) => maskValue(v));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(v, k)]));
  }
  return value;
}

/**
 * A message body as `inspect` prints it: ids, types, templates and statuses as they are;
 * addresses, names and SMS texts replaced by their length; phone numbers masked, in the
 * known fields and wherever a digit run looks like one. A body that is not JSON: its
 * phone-like digit runs masked.
 */
export function maskBody(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return maskPhones(body);
  }
  return JSON.stringify(maskValue(parsed));
}

export interface Shown {
  messageId: string;
  receiveCount: number;
  sentAt: string;
  body: string;
}

/** Reads up to `max` DLQ messages and lets them go again at once (they stay in the DLQ). */
export async function inspect(sqs: SQSClient, pair: QueuePair, max = 10): Promise<Shown[]> {
  const seen = new Map<string, Shown>();
  // A short visibility timeout: the messages are back in the DLQ a few seconds later.
  for (let empty = 0; seen.size < max && empty < 2; ) {
    const batch = await receive(sqs, pair.dlqUrl, max - seen.size, 5);
    if (batch.length === 0) empty++;
    for (const m of batch) {
      if (seen.has(m.MessageId ?? '')) continue;
      seen.set(m.MessageId ?? '', {
        messageId: m.MessageId ?? '',
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
        sentAt: new Date(Number(m.Attributes?.SentTimestamp ?? 0)).toISOString(),
        body: maskBody(m.Body ?? ''),
      });
    }
    if (batch.every((m) => seen.has(m.MessageId ?? '')) && batch.length > 0 && empty > 0) break;
  }
  return [...seen.values()];
}

/** Moves up to `max` messages from the DLQ back to the work queue: send, then delete. */
export async function redrive(sqs: SQSClient, pair: QueuePair, max = Number.POSITIVE_INFINITY) {
  let moved = 0;
  for (let empty = 0; moved < max && empty < 2; ) {
    const batch: Message[] = await receive(sqs, pair.dlqUrl, Math.min(10, max - moved), 60);
    if (batch.length === 0) {
      empty++;
      continue;
    }
    for (const m of batch) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: pair.url,
          MessageBody: m.Body ?? '',
          MessageAttributes: m.MessageAttributes,
        }),
      );
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: pair.dlqUrl, ReceiptHandle: m.ReceiptHandle }),
      );
      moved++;
    }
  }
  return { moved };
}

const USAGE = `usage: npm run dlq -- list [<queue>]|inspect <queue>|redrive <queue> [--max n]
  [--prefix local-demo] [--endpoint http://127.0.0.1:4566] [--region r]
  [--queue-url URL --dlq-url URL]      queues: ${QUEUE_NAMES.join(', ')}`;

export async function main(argv: string[], out: (line: string) => void = console.log) {
  const { positional, flags } = parseArgs(argv);
  const [command, queue] = positional;
  const endpoint = flags.endpoint || process.env.AWS_ENDPOINT_URL_SQS || undefined;
  const sqs = new SQSClient(clientConfig(endpoint, flags.region || process.env.AWS_REGION));
  const where: Locator = {
    prefix:
      flags.prefix || (flags['queue-url'] ? undefined : `local-${process.env.DISTRICT ?? 'demo'}`),
    queueUrl: flags['queue-url'],
    dlqUrl: flags['dlq-url'],
  };
  const max = flags.max ? Number(flags.max) : undefined;
  try {
    if (command === 'list' && (queue === undefined || isQueueName(queue))) {
      const depths = await list(sqs, where, queue);
      const busy: string[] = [];
      for (const d of depths) {
        if ('missing' in d) {
          out(`${d.queue.padEnd(9)}  no such queue`);
          continue;
        }
        out(formatDepth(d));
        if (!isDrained(d)) busy.push(d.queue);
      }
      out(
        busy.length === 0
          ? 'drained: every queue listed and its DLQ are empty'
          : `not drained: ${busy.join(', ')}`,
      );
      return 0;
    }
    if ((command === 'inspect' || command === 'redrive') && queue && isQueueName(queue)) {
      const pair = await locate(sqs, queue, where);
      if (command === 'inspect') {
        const shown = await inspect(sqs, pair, max ?? 10);
        for (const m of shown) out(JSON.stringify(m));
        out(`${shown.length} message(s) in ${pair.dlqUrl.split('/').pop()}`);
      } else {
        const { moved } = await redrive(sqs, pair, max);
        out(`redrove ${moved} message(s) to ${pair.url.split('/').pop()}`);
      }
      return 0;
    }
    out(USAGE);
    return 2;
  } finally {
    sqs.destroy();
  }
}

runAsScript(import.meta.url, 'dlq', main);
