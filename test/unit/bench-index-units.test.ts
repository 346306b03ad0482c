import { describe, expect, it } from 'vitest';
import { indexUnits } from '../../bench/aws-counter.ts';

// The bench computes a transaction's index write units itself: DynamoDB Local reports
// them as if the transaction wrote one item.
const S = (s: string) => ({ S: s });
const item = (extra: Record<string, { S: string }> = {}) => ({
  pk: S('REQ#r'),
  sk: S('TASK#v'),
  status: S('open'),
  ...extra,
});
const inInbox = (pk: string, sk = '2022-04-01') => ({ gsi1pk: S(pk), gsi1sk: S(sk) });

describe('bench index units from an item’s images', () => {
  it('an entry added or removed is one write, a key moved two (delete and put)', () => {
    expect(indexUnits(undefined, item(inInbox('VOLOFFER#v')))).toEqual({ gsi1: 1 });
    expect(indexUnits(item(inInbox('VOLOFFER#v')), item())).toEqual({ gsi1: 1 });
    expect(indexUnits(item(inInbox('VOLOFFER#v')), item(inInbox('VOLTASK#v')))).toEqual({
      gsi1: 2,
    });
  });

  it('an indexed item changed without moving its key rewrites its entry (ALL projection); unchanged, nothing', () => {
    const before = item(inInbox('VOLTASK#v'));
    expect(indexUnits(before, { ...before, status: S('delivered') })).toEqual({ gsi1: 1 });
    expect(indexUnits(before, { ...before })).toEqual({});
  });

  it('an item with no index key, and a half key (a sparse index needs both), write no entry', () => {
    expect(indexUnits(item(), { ...item(), status: S('x') })).toEqual({});
    expect(indexUnits(undefined, item({ gsi2pk: S('AVAIL#c') }))).toEqual({});
  });

  it('each index counts on its own, per started KB of the item', () => {
    const big = S('x'.repeat(1500));
    const both = item({ ...inInbox('A'), gsi2pk: S('B'), gsi2sk: S('1'), note: big });
    expect(indexUnits(undefined, both)).toEqual({ gsi1: 2, avail: 2 });
  });

  it('the availability index (INCLUDE) rewrites an entry only when what it holds changes', () => {
    const volunteer = {
      pk: S('VOL#v'),
      sk: S('VOL'),
      gsi2pk: S('AVAIL#east'),
      gsi2sk: S('2022-04-01#0001#v'),
      phone: S('+8613900000000'),
      active: { N: '1' },
      version: { N: '3' },
    };
    const delivered = { ...volunteer, active: { N: '0' }, version: { N: '4' } };
    expect(indexUnits(volunteer, delivered)).toEqual({});
    expect(indexUnits(volunteer, { ...volunteer, phone: S('+8613900000001') })).toEqual({
      avail: 1,
    });
  });
});
