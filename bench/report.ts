/**
 * docs/benchmarks.md from bench/results.json: the tables, the cost model, budgets
 * pass/fail, and the measured breakdowns that say what dominates. Text between
 * `<!-- hand-written:start -->` and `<!-- hand-written:end -->` in the existing doc is
 * kept as it is.
 */
import type { BundleFigures, BundleVariant } from './bundles.ts';
import type { IntakeFigures } from './intake.ts';
import type { LifecycleFigures, Scenario } from './lifecycle.ts';
import type { MatchFigures } from './matching.ts';

type Load = { loadavg: number[]; busiest: string[] };
export interface Results {
  at: string;
  command: string;
  machine: string;
  loadAtStart: Load;
  loadAtEnd?: Load;
  code?: { head: string; uncommittedFilesInCode: number };
  totalSeconds?: number;
  parts: Record<string, { seconds: number; load: Load }>;
  prices: Prices;
  bundles?: BundleFigures[];
  bundleVariants?: BundleVariant[];
  lifecycle?: LifecycleFigures;
  intake?: IntakeFigures;
  intakeAlone?: IntakeFigures;
  matching?: MatchFigures[];
  cost?: Record<string, Cost>;
}

interface Prices {
  region: string;
  date: string;
  lambda: { perMillionRequests: number; perGbSecond: number };
  apiGatewayHttpApi: { perMillionRequests: number };
  dynamodb: { perMillionWriteRequestUnits: number; perMillionReadRequestUnits: number };
  sqs: { perMillionRequests: number };
  sns: { perMillionPublishes: number; perMillionMobilePush: number };
  sms: { perMessage: number };
}

/** Dollars per 1,000 confirmed requests, by line. */
export interface Cost {
  lambdaRequests: number;
  lambdaCompute: number;
  apiGateway: number;
  dynamodbWrites: number;
  dynamodbReads: number;
  sqs: number;
  snsPublish: number;
  push: number;
  sms: number;
  /** AWS excluding SMS and push (the budget's figure). */
  awsExcludingSmsAndPush: number;
  withoutSms: number;
  withSms: number;
  /** Inputs per request. */
  inputs: {
    invocations: number;
    gbSeconds: number;
    httpCalls: number;
    wcu: number;
    rcu: number;
    sqsRequests: number;
    publishes: number;
    push: number;
    sms: number;
  };
}

/** Lambda memory of every function (infra/constructs/dispatch-function.ts default). */
export const LAMBDA_MEMORY_GB = 512 / 1024;

export function costOf(s: Scenario, p: Prices): Cost {
  const invocations = Object.values(s.functions).reduce((a, f) => a + f.invocations, 0);
  const gbSeconds = Object.values(s.functions).reduce(
    (a, f) => a + f.invocations * (Math.ceil(f.meanMs) / 1000) * LAMBDA_MEMORY_GB,
    0,
  );
  // Notification events go to the notifications topic: one publish request per Publish or
  // PublishBatch (up to ten small events, under one 64 KB chunk), then SNS delivers each to
  // the notify queue for free. (Results measured before the topic have neither figure.)
  const notifyRequests = s.snsNotifyRequests ?? 0;
  const notifyEvents = s.snsNotifyEvents ?? 0;
  // The functions' own SQS calls, plus the event source mapping's receive and delete:
  // at worst one of each per message (a batch of one), sent by a function or by SNS.
  const sqsRequests = s.sqsRequests + 2 * (s.sqsMessages + notifyEvents);
  const publishes = s.snsSms + s.snsPush + s.snsTopic + notifyRequests;
  const k = 1000 / 1e6;
  const c = {
    lambdaRequests: invocations * p.lambda.perMillionRequests * k,
    lambdaCompute: gbSeconds * p.lambda.perGbSecond * 1000,
    apiGateway: s.httpCalls * p.apiGatewayHttpApi.perMillionRequests * k,
    dynamodbWrites: s.writeUnits.aws * p.dynamodb.perMillionWriteRequestUnits * k,
    dynamodbReads: s.readUnits.aws * p.dynamodb.perMillionReadRequestUnits * k,
    sqs: sqsRequests * p.sqs.perMillionRequests * k,
    snsPublish: (s.snsTopic + s.snsSms + notifyRequests) * p.sns.perMillionPublishes * k,
    push: s.snsPush * (p.sns.perMillionPublishes + p.sns.perMillionMobilePush) * k,
    sms: s.snsSms * p.sms.perMessage * 1000,
  };
  const aws =
    c.lambdaRequests +
    c.lambdaCompute +
    c.apiGateway +
    c.dynamodbWrites +
    c.dynamodbReads +
    c.sqs +
    c.snsPublish;
  return {
    ...c,
    awsExcludingSmsAndPush: aws,
    withoutSms: aws + c.push,
    withSms: aws + c.push + c.sms,
    inputs: {
      invocations,
      gbSeconds,
      httpCalls: s.httpCalls,
      wcu: s.writeUnits.aws,
      rcu: s.readUnits.aws,
      sqsRequests,
      publishes,
      push: s.snsPush,
      sms: s.snsSms,
    },
  };
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');
const usd = (x: number) => `$${x < 0.01 ? x.toFixed(5) : x.toFixed(4)}`;
const kb = (b: number) => `${(b / 1024).toFixed(0)} KB`;

export function renderMarkdown(
  r: Results,
  oldDoc: string,
): { markdown: string; failures: string[] } {
  const failures: string[] = [];
  const verdict = (name: string, ok: boolean, detail = '') => {
    if (!ok) failures.push(`${name}${detail ? ` (${detail})` : ''}`);
    return ok ? `pass${detail ? ` (${detail})` : ''}` : `**FAIL**${detail ? ` (${detail})` : ''}`;
  };
  const cmd = (part: string) => `\`BENCH_ONLY=${part} ${r.command}\` (part of \`${r.command}\`)`;
  const loadOf = (part: string) => {
    const p = r.parts[part];
    return p
      ? `load average ${p.load.loadavg.join(' / ')} when it started, ${p.seconds.toFixed(0)} s`
      : 'not run';
  };
  const out: string[] = [];
  out.push(`# Benchmarks

Produced by \`${r.command}\` on ${r.at} (${r.machine}), against the local stack
(DynamoDB Local + fauxqs, handlers and pollers in-process). Whole run: ${f1(r.totalSeconds ?? Number.NaN)} s.
Code measured: commit ${r.code ? `\`${r.code.head}\`${r.code.uncommittedFilesInCode ? ` plus ${r.code.uncommittedFilesInCode} uncommitted files in shared/, functions/, local/, infra/ (other engineers' work in progress in the shared working tree)` : ''}` : 'unknown'}.
Raw figures: \`bench/results.json\`; prices: \`bench/prices.json\` (${r.prices.region}, ${r.prices.date}).
Each section names the command that produced it; \`BENCH_ONLY=<part>\` reruns one part and keeps
the others' figures from the last run.

**What the machine was doing.** Load average (1/5/15 min) at the start: ${r.loadAtStart.loadavg.join(' / ')}${r.loadAtEnd ? `, at the end: ${r.loadAtEnd.loadavg.join(' / ')}` : ''}.
Busiest processes at the start (other engineers' test runs share these 2 cores):
${r.loadAtStart.busiest.map((b) => `\`${b.replace(/`/g, "'")}\``).join('; ') || '(none)'}.
Latency and throughput figures move with that load; counts (calls, units, messages) do not.
`);

  // Budgets summary is filled in at the end.
  const summaryAt = out.length;
  out.push('');

  const NOT_BUDGETED = 'not budgeted (consumers share this process)';
  if (r.intake || r.intakeAlone) {
    out.push(`## Intake: \`POST /v1/requests\`

${cmd('intake-alone,intake')}. The load generator (\`bench/load.ts\`, Node fetch/undici) runs
in its own process; the stack process runs the HTTP gateway, every handler **and the SQS
pollers**, on one event loop, beside DynamoDB Local's JVM. Open loop: requests sent at a fixed
rate whatever the answers, latency from the scheduled send time. Saturation: 32 clients in a
closed loop. "Pipeline running": matching, notifications and events for the accepted requests
run in the same process while intake is measured (10 volunteers with push endpoints in the
community). "Consumers stubbed": the queue consumers take each message and do nothing, so the
figure is the HTTP path alone. **The budgets apply to the stubbed run**: intake is what
\`POST /v1/requests\` accepts; the work behind it is queued (that is what the queue is for),
and on AWS it runs in the consumers' own Lambda containers, where here it takes the same
event loop and cores as the gateway. The pipeline-running rows show how much the shared
machine costs intake; they are not budgeted.

| run | load | accepted/s | p50 ms | p95 ms | p99 ms | errors / non-202 | post-request handler p50 / p95 ms | stack event-loop delay p95 ms | budget |
| --- | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | --- |`);
    for (const [label, f] of [
      ['consumers stubbed', r.intakeAlone],
      ['pipeline running', r.intake],
    ] as const) {
      if (!f) continue;
      const non202 = Object.entries(f.fixed.statuses).filter(([s]) => s !== '202');
      out.push(
        `| ${label} | open, ${f.fixed.offeredRps} rps × 10 s | ${f1(f.fixed.acceptedPerSecond)} | ${f1(f.fixed.p50Ms)} | ${f1(f.fixed.p95Ms)} | ${f1(f.fixed.p99Ms)} | ${f.fixed.errors} / ${non202.map(([s, n]) => `${s}: ${n}`).join(', ') || '0'} | ${f1(f.handler.p50Ms)} / ${f1(f.handler.p95Ms)} | ${f1(f.eventLoopDelay.p95Ms)} | ${f.pipeline ? NOT_BUDGETED : `p95 < 50 ms: ${verdict('intake p95 at 100 rps', f.fixed.p95Ms < 50, `${f1(f.fixed.p95Ms)} ms`)}`} |`,
      );
      const satNon202 = Object.entries(f.saturation.statuses).filter(([s]) => s !== '202');
      out.push(
        `| ${label} | closed, 32 clients × 10 s | ${f1(f.saturation.acceptedPerSecond)} | ${f1(f.saturation.p50Ms)} | ${f1(f.saturation.p95Ms)} | ${f1(f.saturation.p99Ms)} | ${f.saturation.errors} / ${satNon202.map(([s, n]) => `${s}: ${n}`).join(', ') || '0'} | | | ${f.pipeline ? NOT_BUDGETED : `≥ 200 rps: ${verdict('intake saturation', f.saturation.acceptedPerSecond >= 200, `${f1(f.saturation.acceptedPerSecond)} rps`)}`} |`,
      );
    }
    out.push('');
    for (const [label, f] of [
      ['consumers stubbed', r.intakeAlone],
      ['pipeline running', r.intake],
    ] as const) {
      if (!f) continue;
      out.push(
        `SDK calls during the 100 rps run (${label}), mean wall ms per call: ${Object.entries(
          f.sdkMeanMs,
        )
          .map(([k, v]) => `${k} ${f1(v.meanMs)} (${v.calls} calls)`)
          .join(
            ', ',
          )}.${f.pipeline ? ` The ${f.fixedDrain.requests} requests' pipeline work drained ${f1(f.fixedDrain.ms / 1000)} s after the load ended${f.fixedDrain.leftover ? ` (${f.fixedDrain.leftover} messages still queued at the limit)` : ''}.` : ''}`,
      );
      out.push('');
    }
    const probe = r.intakeAlone?.ddbProbe;
    if (probe?.length)
      out.push(`DynamoDB Local by itself (the stack's own client, 32 concurrent callers, 3 s each, after the
stubbed run):

| call | per second | mean ms |
| --- | ---: | ---: |
${probe.map((p) => `| ${p.write} | ${p.perSecond.toFixed(0)} | ${f1(p.meanMs)} |`).join('\n')}
`);
    out.push(`Runs: ${loadOf('intake-alone')} (stubbed); ${loadOf('intake')} (pipeline).\n`);
  }

  const lc = r.lifecycle;
  if (lc) {
    out.push(`## Pipeline latency

${cmd('lifecycle')}. ${lc.pipeline.samples} groceries requests posted one at a time (each
cancelled after its first notification), 6 volunteers with push endpoints in the community. First
offer: the offer item seen in DynamoDB (polled every 5 ms with the stack's own client). First
notification: the outbox entry's \`at\`. Both from the client's receipt of the 202.

| from the 202 to | p50 ms | p95 ms |
| --- | ---: | ---: |
| first offer recorded | ${f1(lc.pipeline.toFirstOffer.p50Ms)} | ${f1(lc.pipeline.toFirstOffer.p95Ms)} |
| first notification recorded | ${f1(lc.pipeline.toFirstNotification.p50Ms)} | ${f1(lc.pipeline.toFirstNotification.p95Ms)} |

Run: ${loadOf('lifecycle')}. The pollers long-poll (1 s) and receive a message as soon as it
is sent; in Lambda the event source mapping adds its own polling delay (typically tens of ms,
more after idle).

## AWS work per request

${cmd('lifecycle')}. An SDK middleware on the functions' shared clients
(\`shared/clients/dynamodb.ts\` \`dynamodb\`, which \`documents\` wraps; \`sqs.ts\`; \`sns.ts\`),
the same module instances the handlers use, counts every call and sets
\`ReturnConsumedCapacity\` on every DynamoDB call (\`INDEXES\`: the TOTAL plus its table / index
split). **Correction for transactions:** DynamoDB Local reports 1 unit per item-KB in a
transaction, AWS charges 2: the table units of TransactWriteItems are doubled; index writes a
transaction causes are counted once (they are ordinary index writes). A write whose condition
fails reports no capacity locally but costs 1 WCU on AWS: added. Offers expire after
${lc.offerTimeoutSeconds} s in this run so that every expiry timer fires inside the measurement;
the bench waits until every queue (delayed messages included) is empty before reading the
counters. Volunteers have push endpoints. Averages per request over the runs; one warm-up run
first, not counted. HTTP calls per request: post, the accepting volunteers' inbox read and
accept, delivered, confirm. **Key lookups:** a warm function remembers a key for 30 s; this
process shares one cache between all functions, where AWS gives each function its own
containers, so the read units count one key read (0.5 RCU) per volunteer token and function
it called in a run, and none for the partner's key (a partner posting many requests a
minute keeps it cached); the "By function" table shows what this process read.

| scenario | runs | HTTP calls | Lambda invocations | DynamoDB calls | WCU (AWS) | RCU (AWS) | WCU / RCU as Local reports | of the WCU: index writes | SQS messages sent | SQS requests by functions | SNS notification events (publish requests) | SNS SMS | SNS push | SNS topic (ops alert) | duplicate SMS | budgets |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |`);
    for (const s of lc.scenarios) {
      const inv = Object.values(s.functions).reduce((a, f) => a + f.invocations, 0);
      const ddb = Object.entries(s.calls)
        .filter(([k]) => k.startsWith('dynamodb.'))
        .reduce((a, [, v]) => a + v, 0);
      const single = s.slots === 1;
      const budgets = single
        ? [
            `WCU ≤ 25: ${verdict('write units per single-slot lifecycle', s.writeUnits.aws <= 25, f1(s.writeUnits.aws))}`,
            `RCU ≤ 10: ${verdict('read units per single-slot lifecycle', s.readUnits.aws <= 10, f1(s.readUnits.aws))}`,
            `SMS ≤ 3: ${verdict('SMS per single-slot request', s.snsSms <= 3, f1(s.snsSms))}`,
            `no SMS twice: ${verdict('no SMS sent twice', s.duplicateSms === 0 && s.noteDuplicates === 0, `${s.duplicateSms} repeated SMS, ${f1(s.noteMarkers)} markers for ${f1(s.snsSms)} SMS; push has none`)}`,
          ].join('; ')
        : '';
      out.push(
        `| ${s.name} | ${s.runs} | ${f1(s.httpCalls)} | ${f1(inv)} | ${f1(ddb)} | ${f1(s.writeUnits.aws)} | ${f1(s.readUnits.aws)} | ${f1(s.writeUnits.local)} / ${f1(s.readUnits.local)} | ${f1(s.indexWriteUnits)} | ${f1(s.sqsMessages)} | ${f1(s.sqsRequests)} | ${f1(s.snsNotifyEvents ?? 0)} (${f1(s.snsNotifyRequests ?? 0)}) | ${f1(s.snsSms)} | ${f1(s.snsPush)} | ${f1(s.snsTopic)} | ${s.duplicateSms} | ${budgets} |`,
      );
    }
    for (const s of lc.scenarios) {
      out.push(`
### ${s.name}: calls and units per request

| call | per request | WCU (AWS) | RCU (AWS) | mean ms (this machine) |
| --- | ---: | ---: | ---: | ---: |`);
      for (const [k, v] of Object.entries(s.calls).sort((a, b) => b[1] - a[1])) {
        const cmdName = `${k.replace(/^dynamodb\./, '')}Command`;
        const w = s.writeByCommand[cmdName];
        const rd = s.readByCommand[cmdName];
        const failed = s.writeByCommand[`${cmdName} (failed)`];
        out.push(
          `| ${k} | ${f2(v)}${failed ? ` (${f2(failed.calls)} failed a condition)` : ''} | ${w || failed ? f1((w?.aws ?? 0) + (failed?.aws ?? 0)) : ''} | ${rd ? f1(rd.aws) : ''} | |`,
        );
      }
      out.push(`
Write units by item type (a transaction's units per item: 2 per started KB on the table,
and its index writes from the item's images before and after; a single-item write's index
units to the item types that carry the index's keys: gsi1 = request sweeper entry
\`OPEN#<status>\`, offer inbox \`VOLOFFER#\`, task inbox \`VOLTASK#\`; avail = volunteer
availability \`AVAIL#\`):

| item type | WCU (AWS) per request | share |
| --- | ---: | ---: |`);
      const total = s.writeUnits.aws || 1;
      for (const [k, u] of Object.entries(s.writeByItem).sort((a, b) => b[1].aws - a[1].aws))
        out.push(`| ${k} | ${f1(u.aws)} | ${((100 * u.aws) / total).toFixed(0)} % |`);
      out.push(`
Read units by item type:

| item type | RCU per request |
| --- | ---: |`);
      for (const [k, u] of Object.entries(s.readByItem).sort((a, b) => b[1].aws - a[1].aws))
        out.push(`| ${k} | ${f1(u.aws)} |`);
      out.push(`
By function (per request; units as AWS would charge; handler ms on this machine, against DynamoDB Local):

| function | invocations | mean ms | WCU | RCU | SDK calls | WCU by item type (command) |
| --- | ---: | ---: | ---: | ---: | --- | --- |`);
      const fns = new Set([...Object.keys(s.functions), ...Object.keys(s.byFunction ?? {})]);
      for (const f of [...fns].sort(
        (a, b) => (s.byFunction?.[b]?.wcu ?? 0) - (s.byFunction?.[a]?.wcu ?? 0),
      )) {
        const inv = s.functions[f];
        const by = s.byFunction?.[f];
        out.push(
          `| ${f} | ${inv ? f2(inv.invocations) : ''} | ${inv ? f1(inv.meanMs) : ''} | ${by ? f1(by.wcu) : ''} | ${by ? f1(by.rcu) : ''} | ${
            by
              ? Object.entries(by.calls)
                  .map(([k, n]) => `${k.replace(/^dynamodb\./, '')} ${f1(n)}`)
                  .join(', ')
              : ''
          } | ${
            by?.writes
              ? Object.entries(by.writes)
                  .sort((a, b) => b[1] - a[1])
                  .map(([k, n]) => `${k} ${f1(n)}`)
                  .join(', ')
              : ''
          } |`,
        );
      }
    }
    out.push(`
Item sizes at the end of the runs (DynamoDB's size rule, approximated: each started KB of
an item costs one more write unit, and one more per index it is projected into):

| item type | items | mean bytes | largest bytes |
| --- | ---: | ---: | ---: |
${Object.entries(lc.itemSizes)
  .sort((a, b) => b[1].maxBytes - a[1].maxBytes)
  .map(([k, v]) => `| ${k} | ${v.count} | ${v.meanBytes.toFixed(0)} | ${v.maxBytes} |`)
  .join('\n')}
`);

    if (lc.calibration?.length)
      out.push(`DynamoDB Local's reports, calibrated on a scratch table (items of a few bytes; on AWS each
would cost 1 unit plain, 2 per item in a transaction, +1 per index write, +2 for an index key
move). Local's transaction figure is not per item (STACK-NOTES' "1 per item" does not hold for
this version), so the bench computes transactional table units itself: 2 per item per started
KB (all items here are under 1 KB); it halves Local's index units in transactions:

| write | DynamoDB Local reports |
| --- | --- |
${lc.calibration.map((c) => `| ${c.write} | \`${c.reported}\` |`).join('\n')}
`);

    // Cost
    r.cost = Object.fromEntries(lc.scenarios.map((s) => [s.name, costOf(s, r.prices)]));
    out.push(`## Cost per 1,000 confirmed requests

From the AWS work above at \`bench/prices.json\` (${r.prices.region} on-demand list prices,
${r.prices.date}; free tiers ignored; China Regions are not priced there and have no SNS SMS or
mobile push). Lambda: arm64, ${LAMBDA_MEMORY_GB * 1024} MB (the construct's default for every
function), duration = the mean handler time measured here per invocation, rounded up to the
ms (against DynamoDB Local on a loaded machine: an upper bound). Lambda invocations count one per
queue message (batches of one, the sequential runs' case: an upper bound under load, where
batches hold up to 10). SQS: the functions' requests plus a receive and a delete per message by
the event source mapping (its empty long polls are a fixed cost per queue, not per request).
API Gateway: HTTP API. SMS at ${usd(r.prices.sms.perMessage)} a message (a US figure; a
district's SMS contract sets the real one).

| line | ${lc.scenarios.map((s) => s.name).join(' | ')} |
| --- | ${lc.scenarios.map(() => '---:').join(' | ')} |`);
    const lines: [string, keyof Cost][] = [
      ['Lambda requests', 'lambdaRequests'],
      ['Lambda GB-s', 'lambdaCompute'],
      ['API Gateway HTTP API', 'apiGateway'],
      ['DynamoDB writes', 'dynamodbWrites'],
      ['DynamoDB reads', 'dynamodbReads'],
      ['SQS', 'sqs'],
      ['SNS publish (notification events, SMS requests, ops alerts)', 'snsPublish'],
      ['**AWS excluding SMS and push**', 'awsExcludingSmsAndPush'],
      ['SNS mobile push', 'push'],
      ['**total without SMS**', 'withoutSms'],
      ['SMS', 'sms'],
      ['**total with SMS**', 'withSms'],
    ];
    for (const [label, key] of lines)
      out.push(
        `| ${label} | ${lc.scenarios.map((s) => usd(r.cost![s.name][key] as number)).join(' | ')} |`,
      );
    const single = lc.scenarios.find((s) => s.slots === 1);
    if (single) {
      const c = r.cost[single.name];
      out.push(`
Per single-slot request: ${f1(c.inputs.invocations)} invocations, ${c.inputs.gbSeconds.toFixed(3)} GB-s,
${f1(c.inputs.httpCalls)} API requests, ${f1(c.inputs.wcu)} WCU, ${f1(c.inputs.rcu)} RCU,
${f1(c.inputs.sqsRequests)} SQS requests, ${f1(c.inputs.publishes)} SNS publishes.

Budget ≤ $0.05 of AWS (excluding SMS and push) per 1,000 confirmed single-slot requests:
${verdict('AWS cost per 1,000 single-slot requests', c.awsExcludingSmsAndPush <= 0.05, usd(c.awsExcludingSmsAndPush))}.
`);
    }
  }

  if (r.bundles) {
    const sdkCell = (b: BundleFigures) =>
      b.sdk
        ? [...b.sdk.static, ...b.sdk.dynamic.map((d) => `${d} (on use)`)].join(', ') || 'none'
        : '';
    out.push(`## Bundles and cold import

${cmd('bundles')}. esbuild with the settings of \`infra/constructs/dispatch-function.ts\`:
bundle, ESM, platform node, target node22, minified, main fields module/main, the
\`createRequire\` banner and the district config banner/define (demo district), the AWS SDK
external (\`bundleAwsSDK: false\`: the runtime provides it; the column "AWS SDK" lists the
packages each bundle imports, "on use" those it imports by \`import()\` when first needed),
\`#shared/*\` through package.json "imports". Sizes are the
\`.mjs\` without its source map. Cold import: a fresh \`node\` (${r.machine.split('Node ')[1] ?? ''}, the one on
npm scripts' PATH; Lambda runs Node 22) per function imports the bundle and reports the
time; the median of 5 processes. Run: ${loadOf('bundles')}.

| function | bytes | size | largest parts (minified bytes in the bundle) | AWS SDK | cold import ms | budgets |
| --- | ---: | ---: | --- | --- | ---: | --- |`);
    for (const b of r.bundles) {
      out.push(
        `| ${b.name} | ${b.bytes} | ${kb(b.bytes)} | ${b.top.map((t) => `${t.path} ${kb(t.bytes)}`).join(', ')} | ${sdkCell(b)} | ${b.error ? `error: ${b.error}` : f1(b.coldImportMs)} | ≤ 400 KB: ${verdict(`bundle size ${b.name}`, b.bytes <= 400 * 1024, kb(b.bytes))}; ≤ 150 ms: ${verdict(`cold import ${b.name}`, !b.error && b.coldImportMs <= 150, `${f1(b.coldImportMs)} ms`)} |`,
      );
    }
    if (r.bundleVariants?.length) {
      out.push(`
What-if builds of the largest function (${r.bundleVariants[0].name}), to size the fixes:

| build | size |
| --- | ---: |
${r.bundleVariants.map((v) => `| ${v.variant} | ${kb(v.bytes)} |`).join('\n')}
`);
    }
  }

  if (r.matching) {
    const matching = r.matching;
    const small = (f: MatchFigures) =>
      matching.find((g) => g.volunteers === 1_000 && g.scope === f.scope && g.skills === f.skills);
    const rows = matching
      .map((f) => {
        const base = small(f);
        const ratio = base ? f.itemsReadPerMatch / base.itemsReadPerMatch : 1;
        // The budget compares 100,000 with 1,000; the 10,000 row shows where reads level off.
        const budget =
          f.volunteers !== 100_000
            ? ''
            : verdict(
                `matching items ratio ${f.scope} ${f.skills}`,
                ratio <= 1.5,
                `${ratio.toFixed(2)}×`,
              );
        return `| ${f.volunteers.toLocaleString('en')} | ${f.scope} | ${f.skills} | ${f.candidatesPerMatch.toFixed(1)} | ${f.itemsReadPerMatch.toFixed(1)} | ${f.readUnitsPerMatch.toFixed(1)} | ${f.queriesPerMatch.toFixed(1)} | ${f.p50Ms.toFixed(1)} | ${f.p95Ms.toFixed(1)} | ${budget} |`;
      })
      .join('\n');
    out.push(`## Matching at district scale

${cmd('matching')}. The candidate search one match performs (\`findCandidates\` in
\`shared/services/matcher.ts\`), 200 matches per row, three offers wanted, over a synthetic
district of 10 towns × 10 communities; 80 % of volunteers on duty, random load and skills
(each skill held by 20 %). Items read are DynamoDB's ScannedCount (what is billed);
read units are ConsumedCapacity as DynamoDB Local reports it (eventually consistent
index reads: 0.5 per 4 KB). Run: ${loadOf('matching')}.

| volunteers | scope | skills | candidates found | items read / match | RCU / match | queries / match | p50 ms | p95 ms | budget: items ≤ 1.5 × at 1,000 |
| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${rows}

A match reads the page it asks for, twice the offers wanted (six items), whether or not
skills are asked for, once the district is large enough to fill it. At 1,000 volunteers
a community holds about one available medic, so a \`medic\` match reads the one or two
entries there are and finds fewer candidates than it wants; the 1.5× budget on that row
compares the full page with that, and no match finding three candidates can read fewer
than three items (1.5 × 1.2 is 1.8). From 10,000 to 100,000 that row is flat.

Why it stays flat: matching reads the sparse availability index (\`avail\`), where a
volunteer appears only while on duty with free capacity, partitioned by community and
sorted least busy first; it reads a page per community nearest first and stops once it
has twice the candidates it needs. A request needing skills reads the per-skill entries
of its first skill (\`AVAIL#<community>#<skill>\`, one small item per skill of each
available volunteer, written in the same transaction as the volunteer), so volunteers
without that skill are never read; DynamoDB filters any further skill, which still
costs the items filtered out (here about five per candidate found for \`medic,driver\`, as
each skill is held by 20 %). Items read depend on the offers wanted, the further skills'
rarity and the communities in scope, not on the district's size. The entries' write
cost (a skilled volunteer's entries move with each accept) is in
[data-model.md](data-model.md#per-skill-availability-entries).
`);
  }

  const hand = oldDoc.match(/<!-- hand-written:start -->[\s\S]*?<!-- hand-written:end -->/);
  out.push(
    hand?.[0] ??
      `<!-- hand-written:start -->
## What dominates, and what to change

(Written by hand from the figures above; \`npm run bench\` keeps this section.)
<!-- hand-written:end -->`,
  );
  out.push('');

  out[summaryAt] = `## Budgets

${failures.length ? `**${failures.length} missed:**\n\n${failures.map((f) => `- ${f}`).join('\n')}` : 'Every budget met.'}
(Pass/fail also beside each figure below.)
`;
  return { markdown: out.join('\n'), failures };
}
