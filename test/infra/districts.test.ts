import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/bin/app.ts';
import { loadDistricts, selectDistricts } from '../../infra/config/load-districts.ts';

const valid = {
  id: 'sample',
  name: '样例区',
  towns: [
    { townId: 'town-a', name: '甲街道', communities: [{ communityId: 'comm-a', name: '甲社区' }] },
  ],
};

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

  it('narrows to one district with -c district=<id>, and rejects an unknown id', () => {
    const all = loadDistricts();
    expect(selectDistricts(all, 'demo').map((d) => d.district.id)).toEqual(['demo']);
    expect(() => selectDistricts(all, 'nowhere')).toThrow(/unknown district "nowhere".*demo/);
  });
});
