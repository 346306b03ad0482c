/**
 * `npm start`: the whole backend on this machine. Environment:
 *   PORT (3000), HOST (127.0.0.1), DISTRICT (demo), OPS_API_KEY (a printed dev default),
 *   SMS_PROVIDER_SECRET (signs POST /v1/sms/replies; a printed dev default),
 *   LOCAL_DATA_DIR (keep data between runs, e.g. `.local`; default in memory),
 *   LOCAL_QUIET=1 (do not print each request and batch),
 *   STREAM_WINDOW_SECONDS (the stats consumer's tumbling window; default AWS's, so stats
 *   lag as they will deployed: set e.g. 2 to read them sooner).
 * Ctrl-C stops everything it started, DynamoDB Local's Java process included.
 */
import { communitiesOf } from '../shared/district.ts';
import { JavaMissingError } from './servers.ts';
import { type LocalStack, routeList, startLocalStack } from './stack.ts';

const started = Date.now();
let stack: LocalStack | undefined;
let stopping = 0;

async function shutdown(signal: string) {
  if (stopping) {
    // One Ctrl-C can arrive twice (from the terminal and relayed by npm/tsx): only a
    // second press, a moment later, forces the exit (the exit hook still kills Java).
    if (Date.now() - stopping < 1000) return;
    console.log(`\n${signal} again: exiting now`);
    process.exit(1);
  }
  stopping = Date.now();
  console.log(`\n${signal}: stopping the local stack…`);
  try {
    await stack?.stop();
    console.log('stopped.');
    process.exit(0);
  } catch (error) {
    console.error('stopping failed:', error);
    process.exit(1);
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

try {
  stack = await startLocalStack({
    port: Number(process.env.PORT ?? 3000),
    host: process.env.HOST,
    dataDir: process.env.LOCAL_DATA_DIR || undefined,
    log: !process.env.LOCAL_QUIET,
    streamTumblingWindowSeconds: process.env.STREAM_WINDOW_SECONDS
      ? Number(process.env.STREAM_WINDOW_SECONDS)
      : undefined,
  });
} catch (error) {
  if (error instanceof JavaMissingError) {
    console.error(`\n${error.message}\n`);
  } else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(`\nPort ${process.env.PORT ?? 3000} is in use: set PORT to another one.\n`);
  } else {
    console.error('\nThe local stack did not start:', error);
  }
  process.exit(1);
}

if (stopping) await new Promise(() => {});
const s = stack;
const base = `http://localhost:${s.port}`;
const towns = s.district.towns
  .map(
    (t) =>
      `    ${t.name} (${t.townId}): ${t.communities.map((c) => `${c.name} ${c.communityId}`).join(', ')}`,
  )
  .join('\n');

console.log(`
Volunteer dispatch, local stack — up in ${((Date.now() - started) / 1000).toFixed(1)} s

  API        ${base}   (try: curl ${base}/v1/health)
  District   ${s.district.name} [${s.district.id}], ${communitiesOf(s.district).length} communities:
${towns}
  Ops key    ${s.opsKeyIsDefault ? `${s.opsKey}   (development default: set OPS_API_KEY to choose one)` : '$OPS_API_KEY (yours: not printed)'}
             curl -H "Authorization: Bearer ${s.opsKeyIsDefault ? s.opsKey : '$OPS_API_KEY'}" ${base}/v1/communities
  SMS replies POST ${base}/v1/sms/replies, signed with the SMS provider secret
             ${s.smsProviderSecretIsDefault ? `${s.smsProviderSecret}   (development default: set SMS_PROVIDER_SECRET to choose one)` : '$SMS_PROVIDER_SECRET (yours: not printed)'}
             (X-Timestamp: Unix seconds, X-Signature: sha256=<hex HMAC of "<timestamp>.<body>">;
             or unsigned: curl -d '{"from":"+86…","text":"1 CODE"}' ${base}/local/sms)
  SMS/push   not sent: printed here (numbers masked) and listed by
             curl ${base}/local/outbox            (?to=+86… to filter)
  Ops alerts curl ${base}/local/alerts
  Queues     curl ${base}/local/queues            (depths, DLQs included)
  Servers    DynamoDB Local ${s.endpoints.dynamodb}, fauxqs (SQS+SNS) ${s.endpoints.sqs}
  Data       ${process.env.LOCAL_DATA_DIR ? `kept in ${process.env.LOCAL_DATA_DIR}` : 'in memory: gone when you stop (LOCAL_DATA_DIR=.local keeps it)'}

Routes:
${routeList()
  .map((r) => `  ${r}`)
  .join('\n')}

Ctrl-C stops everything.
`);
