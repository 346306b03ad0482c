import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../scripts/ops/cli.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/** The ops command line against the local stack: in process (main) and as `tsx scripts/ops.ts`. */
let stack: TestStack;
let dir: string;

beforeAll(async () => {
  stack = await startTestStack();
  dir = await mkdtemp(join(tmpdir(), 'ops-cli-'));
});
afterAll(() => stack?.stop());

async function ops(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await main([...argv, '--endpoint', stack.url, '--key', stack.opsKey], {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    env: {},
  });
  return { code, out, err };
}

const CSV = `name,phone,community,skills,categories
张伟,+8613912340001,east-garden,driving;first-aid,youth|party
李娜,139 1234 0002,东园社区,,women
王芳,not-a-phone,east-garden,,
,+8613912340004,east-garden,,
刘洋,+8613912340005,nowhere,,
陈静,+8613912340006,west-hill,Driving Licence,
张伟（重复）,13912340001,east-river,,
赵磊,+8613912340008,west-lake,counseling,veteran
`;

describe('npm run ops -- volunteers import', () => {
  it('imports the good rows, reports each bad row with its line, and imports nothing new the second time', async () => {
    const file = join(dir, 'volunteers.csv');
    await writeFile(file, CSV);

    const first = await ops('volunteers', 'import', file);
    expect(first.code).toBe(1); // some rows were rejected
    expect(first.out).toContain('line 4: rejected: phone: "not-a-phone" is not a phone number');
    expect(first.out).toContain('line 5: rejected: name: is required');
    expect(first.out).toContain(
      'line 6: rejected: community: "nowhere" is not a community of this district',
    );
    expect(first.out).toContain('line 7: rejected: skills: "driving licence" must be lowercase');
    expect(first.out).toContain('line 8: rejected: phone: +86139****0001 is already on line 2');
    expect(first.out).not.toContain('13912340001');
    expect(first.out).toContain('8 rows: 3 imported, 0 already registered, 5 rejected');
    expect(first.err).toContain('registered 3/3');

    const stats = await stack.api('GET', '/v1/stats', { key: stack.opsKey });
    expect(stats.body.volunteers.registered).toBe(3);

    const second = await ops('volunteers', 'import', file);
    expect(second.out).toContain('line 2: already registered (+86139****0001)');
    expect(second.out).toContain('line 3: already registered (+86139****0002)');
    expect(second.out).toContain('line 9: already registered (+86139****0008)');
    expect(second.out).toContain('8 rows: 0 imported, 3 already registered, 5 rejected');
    expect(
      (await stack.api('GET', '/v1/stats', { key: stack.opsKey })).body.volunteers,
    ).toMatchObject({ registered: 3, onDuty: 3 });
  });

  it('registers what the file says: community by name, numbers in E.164, skills and categories split', async () => {
    const file = join(dir, 'one.csv');
    const tokens = join(dir, 'tokens.csv');
    await writeFile(
      file,
      '\uFEFFName,Phone,Community,Skills,Categories\n孙丽,13912349999,西湖社区,a|b;c,youth\n',
    );
    const res = await ops('volunteers', 'import', file, '--tokens-out', tokens);
    expect(res.code).toBe(0);
    expect(res.out).toContain('1 rows: 1 imported');
    const [, row] = (await readFile(tokens, 'utf8')).trim().split('\n');
    const [, phone, volunteerId, token] = row.split(',');
    expect(phone).toBe('+8613912349999');
    const me = await stack.api('PATCH', `/v1/volunteers/${volunteerId}`, {
      key: token,
      body: { onDuty: true },
    });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      name: '孙丽',
      communityId: 'west-lake',
      townId: 'west-town',
      skills: ['a', 'b', 'c'],
      categories: ['youth'],
    });
  });

  it('refuses a file without the required columns, naming them', async () => {
    const file = join(dir, 'bad.csv');
    await writeFile(file, 'fullname,mobile\nx,y\n');
    const res = await ops('volunteers', 'import', file);
    expect(res.code).toBe(1);
    expect(res.err).toContain('missing column(s): name, phone, community');
  });
});

describe('npm run ops -- partner', () => {
  it('creates a partner, rotates its key and revokes it; a revoked key gets 401', async () => {
    const created = await ops('partner', 'create', '东园', '社区通');
    expect(created.code).toBe(0);
    const partnerId = /partner (ptn_\w+) \(东园 社区通\)/.exec(created.out)?.[1];
    const key1 = /apiKey (\S+)/.exec(created.out)?.[1];
    expect(partnerId).toBeTruthy();
    const comm = (key: string) => stack.api('GET', '/v1/communities', { key });
    expect((await comm(key1!)).status).toBe(200);

    const rotated = await ops('partner', 'rotate', partnerId!, '--grace-minutes', '0');
    expect(rotated.code).toBe(0);
    const key2 = /apiKey (\S+)/.exec(rotated.out)?.[1];
    expect(key2).not.toBe(key1);
    expect((await comm(key1!)).status).toBe(401);
    expect((await comm(key2!)).status).toBe(200);

    const revoked = await ops('partner', 'revoke', partnerId!);
    expect(revoked.code).toBe(0);
    expect(revoked.out).toContain('1 key(s) revoked');
    expect((await comm(key2!)).status).toBe(401);

    const unknown = await ops('partner', 'revoke', 'ptn_0000000000000000');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('404 not_found');
  });

  it('says so when the ops key is wrong', async () => {
    let err = '';
    const code = await main(['partner', 'create', 'x', '--endpoint', stack.url, '--key', 'nope'], {
      out: () => {},
      err: (t) => {
        err += t;
      },
      env: {},
    });
    expect(code).toBe(1);
    expect(err).toContain('401');
    expect(err).toContain('OPS_API_KEY');
  });
});

describe('npm run ops -- records export and stats', () => {
  it('exports records to a file and prints the daily report', async () => {
    const partner = await stack.api('POST', '/v1/partners', {
      key: stack.opsKey,
      body: { name: 'p' },
    });
    const v = await stack.api('POST', '/v1/volunteers', {
      key: stack.opsKey,
      body: { name: '周杰', phone: '+8613912347777', communityId: 'east-river', onDuty: false },
    });
    const posted = await stack.api('POST', '/v1/requests', {
      key: partner.body.apiKey,
      headers: { 'idempotency-key': 'cli-1' },
      body: {
        kind: 'medicine',
        communityId: 'east-river',
        address: '河边路2号',
        requester: { name: '钱奶奶', phone: '+8613800138003' },
      },
    });
    const task = await stack.api('POST', `/v1/requests/${posted.body.requestId}/assign`, {
      key: stack.opsKey,
      body: { volunteerId: v.body.volunteerId },
    });
    await stack.api('POST', `/v1/tasks/${task.body.taskId}/delivered`, { key: v.body.token });
    await stack.api('POST', `/v1/requests/${posted.body.requestId}/confirm`, {
      key: stack.opsKey,
    });
    await stack.waitFor(
      async () =>
        (
          await stack.api('GET', `/v1/volunteers/${v.body.volunteerId}/record`, {
            key: stack.opsKey,
          })
        ).body.points === 10,
    );

    const out = join(dir, 'records.csv');
    const today = new Date().toISOString().slice(0, 10);
    const exported = await ops('records', 'export', '--from', today, '--to', today, '--out', out);
    expect(exported.code).toBe(0);
    expect(exported.err).toContain(`1 volunteer(s) written to ${out}`);
    const csv = await readFile(out, 'utf8');
    expect(csv.startsWith('\uFEFF')).toBe(true);
    expect(csv).toContain(`${v.body.volunteerId},周杰,+86139****7777,东城街道,东河社区,1,1,0.0,10`);

    // Requests are counted from the table's stream: wait until it is read up to now.
    await stack.countersCaughtUp();
    const report = await ops('stats');
    expect(report.code).toBe(0);
    expect(report.out).toContain('Daily report — 示范区 (demo)');
    expect(report.out).toContain('registered 5 · on duty now 4');
    expect(report.out).toContain('Requests 求助: 1');
    expect(report.out).toContain('by status: confirmed 1');
    expect(report.out).toContain('by kind:   medicine 1');
    expect(report.out).toContain('east-town 1: 东河社区 1');
    expect(report.out).toContain('person-times 服务人次 (tasks delivered): 1');
    expect(report.out).toContain('points 积分 credited: 10');
    expect(report.out).toMatch(/received → matched: {3}≤ \d+ s \/ ≤ \d+ s \(n=1\)/);
    expect(report.out).toContain('waiting for manual dispatch now 待人工派单: 0');

    const json = await ops('stats', '--json', '--from', `${today}T00:00:00Z`);
    expect(JSON.parse(json.out)).toMatchObject({ personTimes: 1, serviceMinutes: 1 });
  });

  it('runs as `tsx scripts/ops.ts` with the endpoint and key from the environment', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/ops.ts', 'stats'],
      {
        env: { ...process.env, DISPATCH_ENDPOINT: stack.url, OPS_API_KEY: stack.opsKey },
        cwd: new URL('../..', import.meta.url).pathname,
      },
    );
    expect(stdout).toContain('Daily report — 示范区 (demo)');
  });

  it('prints usage for an unknown command', async () => {
    const res = await ops('frobnicate');
    expect(res.code).toBe(2);
    expect(res.err).toContain('unknown command: frobnicate');
    expect(res.err).toContain('volunteers import <file.csv>');
  });
});
