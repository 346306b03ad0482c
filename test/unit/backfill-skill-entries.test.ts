import '../fixtures/env.ts';
import { GetCommand, ScanCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { backfill, main, scanVolunteers } from '../../scripts/backfill-skill-entries.ts';
import { volunteers } from '../../shared/adapters/volunteers.ts';
import { skillEntries } from '../../shared/domain/volunteer.ts';
import { ddb, resetAws, transactionCancelled } from '../fixtures/aws.ts';
import { TABLE } from '../fixtures/env.ts';
import { aVolunteer, VOL, VOL2, volunteerItem } from '../fixtures/items.ts';

beforeEach(() => resetAws());

const transactItems = () =>
  ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems ?? []);

describe('volunteers.restoreSkillEntries', () => {
  it('writes the volunteer, version-checked, and one Put per skill entry, in one transaction', async () => {
    const v = aVolunteer({ skills: ['driver', 'medic'], version: 7, tasksToday: 2 });

    expect(await volunteers.restoreSkillEntries(v)).toBe(2);

    const [items] = transactItems();
    expect(items).toHaveLength(3);
    const update = items[0].Update;
    expect(update).toMatchObject({
      TableName: TABLE,
      Key: { pk: `VOL#${VOL}`, sk: 'VOL' },
      ConditionExpression: 'version = :prev',
    });
    expect(update?.ExpressionAttributeValues).toMatchObject({ ':prev': 7, ':next': 8 });
    // The volunteer's own fields are written back as read.
    expect(update?.ExpressionAttributeValues).toMatchObject({
      ':skills': ['driver', 'medic'],
      ':onDuty': true,
      ':capacity': 3,
    });
    const puts = items.slice(1).map((i) => i.Put);
    expect(puts).toEqual(
      skillEntries(v).map((e) => ({
        TableName: TABLE,
        Item: {
          pk: `VOL#${VOL}`,
          sk: `AVAIL#${e.skill}`,
          type: 'availability',
          ...e.entry,
          gsi2pk: `AVAIL#east-garden#${e.skill}`,
          gsi2sk: `0000-00-00#0002#${VOL}`,
        },
      })),
    );
    // Unconditional: the volunteer's version check decides for them, and they overwrite.
    expect(puts.every((p) => p?.ConditionExpression === undefined)).toBe(true);
  });

  it('writes nothing for a volunteer without skills, off duty or full', async () => {
    expect(await volunteers.restoreSkillEntries(aVolunteer())).toBe(0);
    expect(
      await volunteers.restoreSkillEntries(aVolunteer({ skills: ['driver'], onDuty: false })),
    ).toBe(0);
    expect(
      await volunteers.restoreSkillEntries(aVolunteer({ skills: ['driver'], active: 3 })),
    ).toBe(0);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('reports a volunteer changed since it was read, and throws other cancellations', async () => {
    const v = aVolunteer({ skills: ['driver'] });
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(transactionCancelled('ConditionalCheckFailed', 'None'))
      .rejectsOnce(transactionCancelled('None', 'TransactionConflict'))
      .rejectsOnce(transactionCancelled('ValidationError', 'None'));
    expect(await volunteers.restoreSkillEntries(v)).toBe('changed');
    expect(await volunteers.restoreSkillEntries(v)).toBe('changed');
    await expect(volunteers.restoreSkillEntries(v)).rejects.toThrow('Transaction cancelled');
  });
});

describe('scanVolunteers', () => {
  it('scans every page, keeping volunteer items only', async () => {
    const a = aVolunteer();
    const b = aVolunteer({ volunteerId: VOL2, phone: '+8613900139001' });
    ddb
      .on(ScanCommand)
      .resolvesOnce({ Items: [volunteerItem(a)], LastEvaluatedKey: { pk: 'x', sk: 'y' } })
      .resolvesOnce({ Items: [volunteerItem(b)] });

    const pages = [];
    for await (const page of scanVolunteers(100)) pages.push(page);

    expect(pages).toEqual([[a], [b]]);
    const inputs = ddb.commandCalls(ScanCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toMatchObject({
      TableName: TABLE,
      FilterExpression: '#type = :volunteer AND sk = :vol',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':volunteer': 'volunteer', ':vol': 'VOL' },
      Limit: 100,
    });
    expect(inputs[0].ExclusiveStartKey).toBeUndefined();
    expect(inputs[1].ExclusiveStartKey).toEqual({ pk: 'x', sk: 'y' });
  });
});

describe('backfill', () => {
  it('re-reads and retries a volunteer changed meanwhile, and counts what it did', async () => {
    const skilled = aVolunteer({ skills: ['driver', 'medic'], version: 1 });
    const newer = { ...skilled, version: 2, skills: ['driver'] };
    const plain = aVolunteer({ volunteerId: VOL2, phone: '+8613900139001' });
    ddb.on(ScanCommand).resolves({ Items: [volunteerItem(skilled), volunteerItem(plain)] });
    ddb.on(TransactWriteCommand).rejectsOnce(transactionCancelled('ConditionalCheckFailed'));
    ddb.on(GetCommand).resolves({ Item: volunteerItem(newer) });

    const summary = await backfill();

    expect(summary).toEqual({
      read: 2,
      withSkills: 1,
      restored: 1,
      entriesWritten: 1,
      retried: 1,
      failed: 0,
    });
    const [first, second] = transactItems();
    expect(first[0].Update?.ExpressionAttributeValues?.[':prev']).toBe(1);
    expect(second[0].Update?.ExpressionAttributeValues?.[':prev']).toBe(2);
    expect(second.slice(1).map((i) => i.Put?.Item?.sk)).toEqual(['AVAIL#driver']);
  });

  it('counts a volunteer that fails as failed, prints it masked, and exits 1', async () => {
    const v = aVolunteer({ skills: ['driver'] });
    ddb.on(ScanCommand).resolves({ Items: [volunteerItem(v)] });
    ddb.on(TransactWriteCommand).rejects(new Error(`item ${v.phone} too large`));
    const out: string[] = [];
    const err: string[] = [];

    const code = await main(
      [],
      (l) => out.push(l),
      (l) => err.push(l),
    );

    expect(code).toBe(1);
    expect(out.join('\n')).toContain(
      '1 volunteers read, 1 with skills, 0 restored, 0 entries written, 0 retried, 1 failed',
    );
    const printed = [...out, ...err].join('\n');
    expect(printed).toContain(`failed ${VOL} (+86139****9000)`);
    expect(printed).not.toContain(v.phone);
  });

  it('gives up on a volunteer that keeps changing', async () => {
    const v = aVolunteer({ skills: ['driver'] });
    ddb.on(ScanCommand).resolves({ Items: [volunteerItem(v)] });
    ddb.on(GetCommand).resolves({ Item: volunteerItem(v) });
    ddb.on(TransactWriteCommand).rejects(transactionCancelled('ConditionalCheckFailed'));
    const failures: string[] = [];

    const summary = await backfill({ maxAttempts: 3, failure: (l) => failures.push(l) });

    expect(summary).toMatchObject({ retried: 2, failed: 1, restored: 0 });
    expect(failures[0]).toContain('still changing after 3 attempts');
  });

  it('refuses to run without TABLE_NAME or with a bad flag', async () => {
    const err: string[] = [];
    expect(
      await main(
        ['--concurrency', '0'],
        () => {},
        (l) => err.push(l),
      ),
    ).toBe(2);
    const table = process.env.TABLE_NAME;
    delete process.env.TABLE_NAME;
    try {
      expect(
        await main(
          [],
          () => {},
          (l) => err.push(l),
        ),
      ).toBe(2);
    } finally {
      process.env.TABLE_NAME = table;
    }
    expect(err[0]).toContain('usage:');
    expect(ddb.calls()).toHaveLength(0);
  });
});
