import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** `list q --max 5 --prefix=x` → positional `[list, q]`, flags `{max: '5', prefix: 'x'}`. */
export function parseArgs(argv: string[]) {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2);
      flags[k] = v ?? argv[++i] ?? '';
    } else positional.push(a);
  }
  return { positional, flags };
}

/**
 * An SDK client's settings: AWS's own (region and credentials from the environment), or a
 * local emulator's at `endpoint`, which takes any credentials.
 */
export const clientConfig = (endpoint: string | undefined, region: string | undefined) => ({
  endpoint,
  region: region || (endpoint ? 'us-east-1' : undefined),
  ...(endpoint && !process.env.AWS_ACCESS_KEY_ID
    ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
    : {}),
});

export async function queueUrlOf(sqs: SQSClient, name: string): Promise<string> {
  const out = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!out.QueueUrl) throw new Error(`queue ${name} not found`);
  return out.QueueUrl;
}

/** Runs `main` with the command line when `moduleUrl` is the script node was started with. */
export function runAsScript(
  moduleUrl: string,
  name: string,
  main: (argv: string[]) => Promise<number>,
) {
  if (!process.argv[1] || moduleUrl !== new URL(`file://${process.argv[1]}`).href) return;
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`${name}: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
