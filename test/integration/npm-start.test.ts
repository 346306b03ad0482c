/**
 * `npm start` as a user runs it (`tsx local/start.ts`): it boots DynamoDB Local and fauxqs,
 * serves the API, prints how to use it without echoing secrets the user chose, and stops
 * everything on Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/servers.ts';

const children: ReturnType<typeof spawn>[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('npm start', () => {
  it('serves the API, does not print an ops key or provider secret set in the environment, and stops on Ctrl-C', async () => {
    const port = await freePort();
    const opsKey = `ops-chosen-${Date.now()}`;
    const secret = `provider-chosen-${Date.now()}`;
    const child = spawn('node_modules/.bin/tsx', ['local/start.ts'], {
      env: {
        ...process.env,
        PORT: String(port),
        OPS_API_KEY: opsKey,
        SMS_PROVIDER_SECRET: secret,
        LOCAL_QUIET: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (d) => {
      output += d;
    });
    child.stderr?.on('data', (d) => {
      output += d;
    });
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    const deadline = Date.now() + 90_000;
    while (!output.includes('Ctrl-C stops everything') && Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(output).toContain('Ctrl-C stops everything');

    const res = await fetch(`http://127.0.0.1:${port}/v1/communities`, {
      headers: { authorization: `Bearer ${opsKey}` },
    });
    expect(res.status).toBe(200);
    expect(output).toContain('$OPS_API_KEY (yours: not printed)');
    expect(output).not.toContain(opsKey);
    expect(output).not.toContain(secret);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped.');
    await expect(fetch(`http://127.0.0.1:${port}/v1/health`)).rejects.toThrow();
  }, 120_000);
});
