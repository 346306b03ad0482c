import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/bin/app.ts';
import { loadDistricts, selectDistricts } from '../../infra/config/load-districts.ts';
import { isPlaceholderHost, placeholdersIn } from '../../infra/config/placeholders.ts';

const valid = {
  id: 'sample',
  name: '样例区',
  region: 'ap-east-1',
  towns: [
    { townId: 'town-a', name: '甲街道', communities: [{ communityId: 'comm-a', name: '甲社区' }] },
  ],
  alarms: { email: 'ops@district-sample.org.hk' },
};
/** A real China district as ops fill it in: its own SMS provider and alarm address. */
const china = {
  ...valid,
  region: 'cn-north-1',
  sms: { provider: 'https', httpsEndpoint: 'https://sms.district-sample.gov.cn/send' },
  alarms: { email: 'ops@district-sample.gov.cn' },
};
const noBundling = { 'aws:cdk:bundling-stacks': [] };

describe('district configs', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'districts-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, body: unknown) =>
    writeFileSync(join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));

  it('ships the demo district and at least two real ones, all valid', () => {
    const all = loadDistricts();
    expect(all.map((d) => d.district.id)).toContain('demo');
    expect(all.filter((d) => !d.district.demo).length).toBeGreaterThanOrEqual(2);
  });

  it('fails with a message naming the file and the field', () => {
    write('sample.json', { ...valid, retentionDays: 0 });
    expect(() => loadDistricts(dir)).toThrow(/sample\.json.*retentionDays/);
  });

  it('names a nested field by its path', () => {
    const towns = [{ ...valid.towns[0], communities: [{ communityId: 'Bad Id', name: 'x' }] }];
    write('sample.json', { ...valid, towns });
    expect(() => loadDistricts(dir)).toThrow(/sample\.json.*towns\.0\.communities\.0\.communityId/);
  });

  it('rejects a file that is not JSON, naming the file', () => {
    write('broken.json', '{ "id": ');
    expect(() => loadDistricts(dir)).toThrow(/broken\.json.*not valid JSON/);
  });

  it('rejects an id that does not match the file name', () => {
    write('other.json', valid);
    expect(() => loadDistricts(dir)).toThrow(/other\.json.*id/);
  });

  it('fails synth of the whole app on a bad config', () => {
    write('sample.json', { ...valid, sms: { provider: 'fax' } });
    expect(() => buildApp(new App(), { districtsDir: dir, nag: false })).toThrow(
      /sample\.json.*sms\.provider/,
    );
  });

  it('adds a district by adding one file', () => {
    write('sample.json', valid);
    write('second.json', { ...valid, id: 'second' });
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stacks = buildApp(app, { districtsDir: dir, nag: false });
    expect(stacks.map((s) => s.stackName)).toEqual(['Dispatch-sample', 'Dispatch-second']);
  });

  it('requires the region: a file without one names region (no default region for residents’ data)', () => {
    const { region: _, ...noRegion } = valid;
    write('sample.json', noRegion);
    expect(() => loadDistricts(dir)).toThrow(/sample\.json: region: is required/);
    write('sample.json', { ...valid, region: 'Beijing' });
    expect(() => loadDistricts(dir)).toThrow(/sample\.json: region: must be an AWS region code/);
  });

  it('a China region needs the HTTPS SMS provider: a file without sms names sms.provider', () => {
    write('sample.json', { ...valid, region: 'cn-northwest-1' });
    expect(() => loadDistricts(dir)).toThrow(
      /sample\.json: sms\.provider: must be "https" in cn-northwest-1/,
    );
    write('sample.json', { ...china, sms: { provider: 'sns' } });
    expect(() => loadDistricts(dir)).toThrow(/sample\.json: sms\.provider: must be "https"/);
    write('sample.json', china);
    expect(loadDistricts(dir)[0].district.sms.provider).toBe('https');
  });

  it('the HTTPS provider needs an https:// endpoint, named in the error', () => {
    write('sample.json', { ...china, sms: { provider: 'https' } });
    expect(() => loadDistricts(dir)).toThrow(/sample\.json: sms\.httpsEndpoint: is required/);
    write('sample.json', {
      ...china,
      sms: { provider: 'https', httpsEndpoint: 'http://sms.district-sample.gov.cn/send' },
    });
    expect(() => loadDistricts(dir)).toThrow(
      /sample\.json: sms\.httpsEndpoint: must be an https:\/\/ URL/,
    );
    write('sample.json', {
      ...valid,
      sms: { provider: 'sns', httpsEndpoint: 'https://sms.district-sample.gov.cn/send' },
    });
    expect(() => loadDistricts(dir)).toThrow(
      /sample\.json: sms\.httpsEndpoint: is only used with sms\.provider "https"/,
    );
  });

  it('alarms must name an email or a topicArn in the district’s region, not both', () => {
    const { alarms: _, ...noAlarms } = valid;
    write('sample.json', noAlarms);
    expect(() => loadDistricts(dir)).toThrow(/sample\.json: alarms: is required/);
    write('sample.json', { ...valid, alarms: {} });
    expect(() => loadDistricts(dir)).toThrow(/sample\.json: alarms: name an "email".*"topicArn"/);
    const topicArn = 'arn:aws:sns:ap-east-1:210987654321:district-ops';
    write('sample.json', { ...valid, alarms: { email: valid.alarms.email, topicArn } });
    expect(() => loadDistricts(dir)).toThrow(/sample\.json: alarms: give "email" or "topicArn"/);
    write('sample.json', {
      ...valid,
      alarms: { topicArn: topicArn.replace('ap-east-1', 'us-east-1') },
    });
    expect(() => loadDistricts(dir)).toThrow(
      /sample\.json: alarms\.topicArn: must be a topic in the district's region ap-east-1/,
    );
    write('sample.json', { ...valid, alarms: { topicArn: 'ops-topic' } });
    expect(() => loadDistricts(dir)).toThrow(
      /sample\.json: alarms\.topicArn: must be an SNS topic ARN/,
    );
    write('sample.json', { ...valid, alarms: { topicArn } });
    expect(loadDistricts(dir)[0].district.alarms).toEqual({ topicArn });
  });

  it('narrows to one district with -c district=<id>, and rejects an unknown id', () => {
    const all = loadDistricts();
    expect(selectDistricts(all, 'demo').map((d) => d.district.id)).toEqual(['demo']);
    expect(() => selectDistricts(all, 'nowhere')).toThrow(/unknown district "nowhere".*demo/);
  });
});

describe('placeholders in real districts', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'districts-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, body: unknown) =>
    writeFileSync(join(dir, name), JSON.stringify(body));

  it('tells reserved and example hosts from real ones', () => {
    for (const host of [
      'sms.example.cn', // example.cn is not reserved: someone else may own it
      'example.com',
      'ops.example.org',
      'sms-provider.replace-me.invalid',
      'sms.test',
      'localhost',
      '127.0.0.1',
    ]) {
      expect(isPlaceholderHost(host), host).toBe(true);
    }
    for (const host of ['dysmsapi.aliyuncs.com', 'sms.tencentcloudapi.com', 'myexample.cn']) {
      expect(isPlaceholderHost(host), host).toBe(false);
    }
  });

  it('the shipped real districts hold only reserved placeholders (.invalid), never a host someone could own', () => {
    const real = loadDistricts().filter((d) => !d.district.demo);
    expect(real.length).toBeGreaterThanOrEqual(2);
    for (const { file, district } of real) {
      for (const p of placeholdersIn(district)) {
        const host = p.field === 'alarms.email' ? p.value.split('@')[1] : new URL(p.value).hostname;
        expect(host, `${file} ${p.field}`).toMatch(/\.invalid$/);
      }
    }
  });

  it('stop synth (and so deploy) of a real district, naming the file and each field', () => {
    write('sample.json', {
      ...china,
      sms: { provider: 'https', httpsEndpoint: 'https://sms.example.cn/send' },
      alarms: { email: 'ops@example.cn' },
    });
    const build = () =>
      buildApp(new App({ context: noBundling }), { districtsDir: dir, nag: false });
    expect(build).toThrow(
      /sample\.json: sms\.httpsEndpoint: "https:\/\/sms\.example\.cn\/send" is a placeholder/,
    );
    expect(build).toThrow(/sample\.json: alarms\.email: "ops@example\.cn" is a placeholder/);
    expect(build).toThrow(/-c allowPlaceholders=true/);
  });

  it('so does an example account in alarms.topicArn', () => {
    write('sample.json', {
      ...valid,
      alarms: { topicArn: 'arn:aws:sns:ap-east-1:123456789012:ops' },
    });
    expect(() =>
      buildApp(new App({ context: noBundling }), { districtsDir: dir, nag: false }),
    ).toThrow(/sample\.json: alarms\.topicArn: .* is a placeholder/);
  });

  it('-c allowPlaceholders=true lets synth through, with a warning on the stack', () => {
    write('sample.json', { ...china, alarms: { email: 'ops@replace-me.invalid' } });
    const app = new App({ context: { ...noBundling, allowPlaceholders: 'true' } });
    const [stack] = buildApp(app, { districtsDir: dir, nag: false });
    Annotations.fromStack(stack).hasWarning(
      '*',
      Match.stringLikeRegexp(
        'sample\\.json holds placeholders \\(alarms\\.email\\).*do not deploy',
      ),
    );
  });

  it('a demo district may keep them; a real one with its own values passes', () => {
    write('sample.json', { ...valid, demo: true, alarms: { email: 'ops@example.org' } });
    write('second.json', { ...china, id: 'second' });
    const stacks = buildApp(new App({ context: noBundling }), { districtsDir: dir, nag: false });
    expect(stacks.map((s) => s.stackName)).toEqual(['Dispatch-sample', 'Dispatch-second']);
  });

  it('only the district selected with -c district=<id> is checked', () => {
    write('sample.json', { ...valid, demo: true });
    write('second.json', { ...china, id: 'second', alarms: { email: 'ops@replace-me.invalid' } });
    const build = (district: string) =>
      buildApp(new App({ context: { ...noBundling, district } }), {
        districtsDir: dir,
        nag: false,
      });
    expect(build('sample').map((s) => s.stackName)).toEqual(['Dispatch-sample']);
    expect(() => build('second')).toThrow(/second\.json: alarms\.email: .* is a placeholder/);
    // The repository's demo deploys as it is, whatever the other files hold.
    const demo = buildApp(new App({ context: { ...noBundling, district: 'demo' } }), {
      nag: false,
    });
    expect(demo.map((s) => s.stackName)).toEqual(['Dispatch-demo']);
  });
});
