/**
 * A local stack in its own process, for the kill -9 test (faults-restart.test.ts): queues
 * kept in $DATA_DIR, the table in the DynamoDB at $DYNAMODB_ENDPOINT (which outlives this
 * process, as DynamoDB outlives a crashed Lambda), HTTP on $PORT, failed or abandoned queue
 * records back after a few seconds. Prints one `READY {json}` line when it serves.
 */
import { startLocalStack } from '../../../local/stack.ts';

const stack = await startLocalStack({
  district: 'demo',
  port: Number(process.env.PORT),
  opsKey: process.env.OPS_API_KEY,
  dataDir: process.env.DATA_DIR,
  dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT,
  prefix: process.env.STACK_PREFIX ?? 'crash',
  retryDelaySeconds: 1,
  receiveVisibilityTimeoutSeconds: 5,
  scheduleEverySeconds: 0,
  // Counts written every 2 s (as the other tests' stacks), not at AWS's 60 s.
  streamTumblingWindowSeconds: 2,
  log: false,
});
const stop = async () => {
  await stack.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
console.log(
  `READY ${JSON.stringify({ url: stack.url, dynamodb: stack.endpoints.dynamodb, table: stack.tableName })}`,
);
