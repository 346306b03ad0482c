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
  return opsWith(fetch, ...argv);
}

/** The command line with its HTTP calls going through `fetchFn` (to lose answers, cut the line). */
async function opsWith(fetchFn: typeof fetch, ...argv: string[]) {
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
    fetch: fetchFn,
  });
  return { code, out, err };
}

/** The phone a registration POST is for, or undefined for any other call. */
const phoneOf = (init?: RequestInit) =>
  init?.method === 'POST' && typeof init.body === 'string' && init.body.includes('"phone"')
    ? (JSON.parse(init.body).phone as string)
    : undefined;

/** Rows of a tokens file: line → {phone, volunteerId, token}. */
async function tokensIn(file: string) {
  const [header, ...rows] = (await readFile(file, 'utf8')).trim().split('\n');
  expect(header).toBe('line,phone,volunteerId,token');
  return new Map(
    rows.map((r) => {
      const [line, phone, volunteerId, token] = r.split(',');
      return [Number(line), { phone, volunteerId, token }];
    }),
  );
}

const works = async (token: string, volunteerId: string) =>
  (
    await stack.api('PATCH', `/v1/volunteers/${volunteerId}`, {
      key: token,
      body: { onDuty: true },
    })
  ).status;

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

// Last: they register volunteers the daily report above does not expect.
describe('npm run ops -- volunteers import loses no token', () => {
  it('a registration whose answer is lost after it was written: the retry (same Idempotency-Key) gets the volunteer and a new token; the lost one is revoked', async () => {
    const file = join(dir, 'lost.csv');
    const tokens = join(dir, 'lost-tokens.csv');
    await writeFile(
      file,
      'name,phone,community\n吴敏,13912341001,east-garden\n郑浩,13912341002,west-lake\n',
    );
    const before = (await stack.api('GET', '/v1/stats', { key: stack.opsKey })).body.volunteers
      .registered;
    let lost: { volunteerId: string; token: string } | undefined;
    const losing: typeof fetch = async (url, init) => {
      const res = await fetch(url, init);
      if (phoneOf(init) === '+8613912341001' && res.status === 201 && !lost) {
        lost = (await res.json()) as typeof lost; // written and answered; the answer never reaches the CLI
        return new Response('{"message":"Internal Server Error"}', { status: 502 });
      }
      return res;
    };

    const res = await opsWith(losing, 'volunteers', 'import', file, '--tokens-out', tokens);

    expect(res.code).toBe(0);
    expect(res.out).toContain('2 rows: 2 imported, 0 already registered, 0 rejected');
    const saved = await tokensIn(tokens);
    expect(saved.get(2)?.volunteerId).toBe(lost?.volunteerId);
    expect(saved.get(2)?.token).not.toBe(lost?.token);
    expect(await works(saved.get(2)!.token, lost!.volunteerId)).toBe(200);
    expect(await works(lost!.token, lost!.volunteerId)).toBe(401);
    expect(await works(saved.get(3)!.token, saved.get(3)!.volunteerId)).toBe(200);
    // Two volunteers, not three.
    expect(
      (await stack.api('GET', '/v1/stats', { key: stack.opsKey })).body.volunteers.registered,
    ).toBe(before + 2);
  });

  it('the API unreachable mid-run: the rows registered keep their tokens, every other row is listed to run again, exit 3; the re-run finishes', async () => {
    const file = join(dir, 'cut.csv');
    const tokens = join(dir, 'cut-tokens.csv');
    const phones = Array.from(
      { length: 20 },
      (_, i) => `+86139123420${String(i).padStart(2, '0')}`,
    );
    await writeFile(
      file,
      `name,phone,community\n${phones.map((p, i) => `志愿者${i},${p},east-river`).join('\n')}\n`,
    );
    const sent = new Set<string>();
    let down = false;
    const cut: typeof fetch = async (url, init) => {
      const phone = phoneOf(init);
      if (phone) sent.add(phone);
      // The line goes down at the fourth registration (the API never sees it), for good.
      if (phone === phones[3]) down = true;
      if (down) throw new TypeError('fetch failed');
      return fetch(url, init);
    };
    const lineOf = (phone: string) => phones.indexOf(phone) + 2;

    const first = await opsWith(cut, 'volunteers', 'import', file, '--tokens-out', tokens);

    expect(first.code).toBe(3);
    // The three rows sent before the line went down are registered, their tokens kept.
    const registered = await tokensIn(tokens);
    expect([...registered.keys()].sort((a, b) => a - b)).toEqual([2, 3, 4]);
    for (const { token, volunteerId } of registered.values()) {
      expect(await works(token, volunteerId)).toBe(200);
    }
    // Every other row has an outcome: sent and unanswered, or never sent.
    const unknown = [...first.out.matchAll(/^line (\d+): outcome unknown: cannot reach/gm)].map(
      (m) => Number(m[1]),
    );
    const notAttempted = [
      ...first.out.matchAll(/^line (\d+): not attempted \(the run stopped\)$/gm),
    ].map((m) => Number(m[1]));
    expect(unknown).toContain(5);
    expect(notAttempted.length).toBeGreaterThan(0);
    expect([...registered.keys(), ...unknown, ...notAttempted].sort((a, b) => a - b)).toEqual(
      phones.map((p) => lineOf(p)),
    );
    // The workers took no new row once the run stopped: a row not attempted was never sent.
    expect([...sent].map(lineOf).sort((a, b) => a - b)).toEqual(
      [...registered.keys(), ...unknown].sort((a, b) => a - b),
    );
    expect(first.out).toContain(
      `20 rows: 3 imported, 0 already registered, 0 rejected, ${unknown.length} failed, ${notAttempted.length} not attempted`,
    );
    expect(first.err).toMatch(/import incomplete: stopped after line \d+: cannot reach/);
    expect(first.err).toContain('rows not registered: line(s) 5-21');

    const second = await ops('volunteers', 'import', file, '--tokens-out', tokens);
    expect(second.code).toBe(0);
    expect(second.out).toContain('20 rows: 17 imported, 3 already registered, 0 rejected\n');
    expect(second.out).toMatch(/line 2: already registered \(\+86139\*\*\*\*2000\) as vol_\w+/);
    const all = await tokensIn(tokens);
    expect(all.size).toBe(20);
    expect(all.get(2)).toEqual(registered.get(2)); // the first run's tokens are kept
    for (const { token, volunteerId } of all.values()) {
      expect(await works(token, volunteerId)).toBe(200);
    }
  });

  it('volunteers token: a new token for a volunteer; the old one stops at once', async () => {
    const v = await stack.api('POST', '/v1/volunteers', {
      key: stack.opsKey,
      body: { name: '冯军', phone: '+8613912343000', communityId: 'east-garden' },
    });
    const res = await ops('volunteers', 'token', v.body.volunteerId);
    expect(res.code).toBe(0);
    const token = /^token (\S+)$/m.exec(res.out)?.[1];
    expect(token).toMatch(/^vt_/);
    expect(await works(token!, v.body.volunteerId)).toBe(200);
    expect(await works(v.body.token, v.body.volunteerId)).toBe(401);
    expect(res.err).not.toContain('warning');

    const unknown = await ops('volunteers', 'token', 'vol_0000000000000000');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('404 not_found');
  });
});
