import '../fixtures/env.ts';
import { EndpointDisabledException, PublishCommand } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as applyRequestEvent } from '../../functions/apply-request-event.ts';
import { handler as handleTimer } from '../../functions/handle-timer.ts';
import { handler as matchRequest } from '../../functions/match-request.ts';
import { handler as sendNotification } from '../../functions/send-notification.ts';
import type { Offer } from '../../shared/domain/request.ts';
import {
  conditionFailed,
  ddb,
  givenRequest,
  givenRequestsByKey,
  givenVolunteer,
  published,
  requestUpdates,
  resetAws,
  sentTo,
  sns,
  sqs,
  transactionCancelled,
} from '../fixtures/aws.ts';
import { ALERT_TOPIC, QUEUE_URLS } from '../fixtures/env.ts';
import { lambdaContext, sqsEvent, sqsRecord } from '../fixtures/events.ts';
import {
  anOffer,
  aRequest,
  aTask,
  aVolunteer,
  offerItem,
  PTN,
  REQ,
  requestItem,
  T0,
  TASK,
  taskItem,
  VOL,
  VOL2,
  volunteerItem,
} from '../fixtures/items.ts';

beforeEach(resetAws);

const ctx = lambdaContext();

describe('match-request', () => {
  /** A page of the home community's availability entries (the index matching reads). */
  const givenAvailable = (page: { Items: Record<string, unknown>[] }, index = 'avail') =>
    ddb
      .on(QueryCommand, {
        IndexName: index,
        ExpressionAttributeValues: { ':pk': 'AVAIL#east-garden' },
      })
      .resolves(page);

  const partitionReads = () =>
    ddb
      .commandCalls(QueryCommand)
      .filter((c) => c.args[0].input.ExpressionAttributeValues?.[':pk'] === `REQ#${REQ}`)
      .map((c) => c.args[0].input.ConsistentRead);

  it('the post’s own match reads the request eventually consistent on its first delivery, any other match strongly', async () => {
    givenRequest(aRequest());
    await matchRequest(sqsEvent(sqsRecord({ requestId: REQ, first: true })), ctx);
    expect(partitionReads()).toEqual([false]);

    resetAws();
    givenRequest(aRequest());
    await matchRequest(
      sqsEvent(sqsRecord({ requestId: REQ, first: true }, { receiveCount: 2 })),
      ctx,
    );
    await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);
    // A redelivery may follow offers its first delivery made; a later match, anyone's.
    expect(partitionReads()).toEqual([true, true]);
  });

  it('a first match whose eventually consistent read does not show the request yet reads it strongly', async () => {
    ddb
      .on(QueryCommand, {
        ExpressionAttributeValues: { ':pk': `REQ#${REQ}` },
        ConsistentRead: false,
      })
      .resolves({ Items: [] });
    ddb
      .on(QueryCommand, {
        ExpressionAttributeValues: { ':pk': `REQ#${REQ}` },
        ConsistentRead: true,
      })
      .resolves({ Items: [requestItem(aRequest())] });
    givenAvailable({ Items: [volunteerItem(aVolunteer())] });

    const out = await matchRequest(sqsEvent(sqsRecord({ requestId: REQ, first: true })), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(partitionReads()).toEqual([false, true]);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ sk: `TASK#${VOL}`, type: 'offer' }),
    });
  });

  it('offers an available volunteer with a conditional put and queues the notice and the expiry timer', async () => {
    givenRequest(aRequest());
    givenAvailable({ Items: [volunteerItem(aVolunteer())] });

    const out = await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: expect.objectContaining({
        pk: `REQ#${REQ}`,
        sk: `TASK#${VOL}`,
        status: 'open',
        gsi1pk: `VOLOFFER#${VOL}`,
      }),
    });
    expect(published()).toEqual([
      expect.objectContaining({
        notificationId: `offer:off_${REQ.slice(4)}_${VOL.slice(4)}`,
        to: { kind: 'volunteer', volunteerId: VOL },
        template: 'offer',
        params: {
          community: '东园社区',
          kind: 'groceries',
          kindLabel: '代购生活物资',
          minutes: 2,
          code: expect.stringMatching(/^[A-Z2-9]{4}$/),
        },
      }),
    ]);
    // The offer's reply code is claimed conditionally, for the volunteer's phone only.
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        pk: expect.stringMatching(/^REPLY#[A-Z2-9]{4}$/),
        phone: '+8613900139000',
        target: { kind: 'offer', requestId: REQ, volunteerId: VOL },
      }),
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAtEpoch < :now',
    });
    expect(sentTo('timers')).toEqual([
      { type: 'offer_expiry', requestId: REQ, volunteerIds: [VOL] },
    ]);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: QUEUE_URLS.timers,
      DelaySeconds: 120,
    });
  });

  it('while DynamoDB still fills the availability index (the upgrade’s first deploy), matching reads the one it replaces', async () => {
    givenRequest(aRequest());
    const backfilling = Object.assign(
      new Error('Cannot read from backfilling global secondary index: avail'),
      { name: 'ValidationException' },
    );
    ddb.on(QueryCommand, { IndexName: 'avail' }).rejects(backfilling);
    givenAvailable({ Items: [volunteerItem(aVolunteer())] }, 'gsi2');

    const out = await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ sk: `TASK#${VOL}`, status: 'open' }),
    });
  });

  it('any other refusal of the availability query fails the match (retried), with no fallback', async () => {
    givenRequest(aRequest());
    const other = Object.assign(new Error('Query condition missed key schema element'), {
      name: 'ValidationException',
    });
    ddb.on(QueryCommand, { IndexName: 'avail' }).rejects(other);

    const out = await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);

    expect(out.batchItemFailures).toHaveLength(1);
    expect(ddb).not.toHaveReceivedCommandWith(QueryCommand, { IndexName: 'gsi2' });
  });

  it('an offer to a volunteer with push carries the entry’s endpoint and language, in the offer and its notice', async () => {
    const endpoint = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/abc';
    givenRequest(aRequest());
    givenAvailable({
      Items: [volunteerItem(aVolunteer({ pushEndpoint: endpoint, language: 'en' }))],
    });

    await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);

    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        sk: `TASK#${VOL}`,
        push: { endpoint, language: 'en' },
      }),
    });
    expect(published()).toEqual([
      expect.objectContaining({ channel: 'auto', push: { endpoint, language: 'en' } }),
    ]);
  });

  it('queues one expiry timer for a batch of three offers, and for an urgent request one SMS timer', async () => {
    const VOL3 = 'vol_cccccccccccccccc';
    givenRequest(aRequest({ urgency: 'urgent' }));
    givenAvailable({
      Items: [VOL, VOL2, VOL3].map((volunteerId) =>
        volunteerItem(
          aVolunteer({ volunteerId, pushEndpoint: `arn:aws:sns:endpoint/${volunteerId}` }),
        ),
      ),
    });

    await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);

    expect(published()).toHaveLength(3);
    const batch = expect.arrayContaining([VOL, VOL2, VOL3]);
    expect(sentTo('timers')).toEqual([
      { type: 'offer_expiry', requestId: REQ, volunteerIds: batch },
      { type: 'offer_sms', requestId: REQ, volunteerIds: batch },
    ]);
    expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input.DelaySeconds)).toEqual([
      120, 60,
    ]);
  });

  it('claims no reply code for a volunteer reached by push (unless the request is urgent)', async () => {
    givenRequest(aRequest());
    givenAvailable({
      Items: [volunteerItem(aVolunteer({ pushEndpoint: 'arn:aws:sns:endpoint/x' }))],
    });

    await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);

    const puts = ddb.commandCalls(PutCommand).map((c) => String(c.args[0].input.Item?.pk));
    expect(puts).toEqual([`REQ#${REQ}`]);
    expect((published()[0] as { params: object }).params).not.toHaveProperty('code');
  });

  it('a skilled request reads the per-skill entries of its first skill and filters the others', async () => {
    givenRequest(aRequest({ skills: ['medic', 'driver'] }));
    const entry = (volunteerId: string, skills: string[]) => ({
      pk: `VOL#${volunteerId}`,
      sk: 'AVAIL#medic',
      type: 'availability',
      gsi2pk: 'AVAIL#east-garden#medic',
      gsi2sk: `0000-00-00#0000#${volunteerId}`,
      volunteerId,
      phone: '+8613900139000',
      communityId: 'east-garden',
      townId: 'east-town',
      skills,
      categories: [],
      tasksDay: '0000-00-00',
      tasksToday: 0,
    });
    ddb
      .on(QueryCommand, {
        IndexName: 'avail',
        ExpressionAttributeValues: { ':pk': 'AVAIL#east-garden#medic', ':s0': 'driver' },
      })
      .resolves({ Items: [entry(VOL, ['medic', 'driver'])], ScannedCount: 1 });

    const out = await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'avail',
      KeyConditionExpression: 'gsi2pk = :pk',
      FilterExpression: 'contains(skills, :s0)',
    });
    expect(ddb).not.toHaveReceivedCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':pk': 'AVAIL#east-garden' },
    });
    // The entry carries what the offer needs: the reply code is claimed for its phone.
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        phone: '+8613900139000',
        target: { kind: 'offer', requestId: REQ, volunteerId: VOL },
      }),
    });
    expect(sentTo('timers')).toEqual([
      { type: 'offer_expiry', requestId: REQ, volunteerIds: [VOL] },
    ]);
  });

  it('a skilled volunteer reached by push gets no reply code: the skill entry says how to reach them', async () => {
    givenRequest(aRequest({ skills: ['medic'] }));
    ddb
      .on(QueryCommand, {
        IndexName: 'avail',
        ExpressionAttributeValues: { ':pk': 'AVAIL#east-garden#medic' },
      })
      .resolves({
        Items: [
          {
            pk: `VOL#${VOL}`,
            sk: 'AVAIL#medic',
            type: 'availability',
            gsi2pk: 'AVAIL#east-garden#medic',
            gsi2sk: `0000-00-00#0000#${VOL}`,
            volunteerId: VOL,
            phone: '+8613900139000',
            communityId: 'east-garden',
            townId: 'east-town',
            skills: ['medic'],
            categories: [],
            pushEndpoint: 'arn:aws:sns:endpoint/x',
          },
        ],
        ScannedCount: 1,
      });

    await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);

    const puts = ddb.commandCalls(PutCommand).map((c) => String(c.args[0].input.Item?.pk));
    expect(puts).toEqual([`REQ#${REQ}`]);
    expect((published()[0] as { params: object }).params).not.toHaveProperty('code');
  });

  it('reports only the record whose processing throws; the others succeed', async () => {
    const BAD = 'req_badbadbadbadbadb';
    givenRequest(aRequest());
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: { ':pk': `REQ#${BAD}` } })
      .rejects(new Error('throttled'));
    givenAvailable({ Items: [volunteerItem(aVolunteer())] });

    const out = await matchRequest(
      sqsEvent(
        sqsRecord({ requestId: REQ }, { messageId: 'good' }),
        sqsRecord({ requestId: BAD }, { messageId: 'bad' }),
        sqsRecord('not json at all', { messageId: 'garbage' }),
      ),
      ctx,
    );

    expect(out.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['bad', 'garbage']);
    expect(sentTo('timers')).toEqual([
      { type: 'offer_expiry', requestId: REQ, volunteerIds: [VOL] },
    ]);
  });

  it('with nobody anywhere, widens scope by scope and alerts ops once', async () => {
    givenRequest(aRequest());
    const out = await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);
    expect(out.batchItemFailures).toEqual([]);
    const widen = requestUpdates().map((u) => u.ExpressionAttributeValues);
    expect(widen).toEqual([
      expect.objectContaining({ ':from': 'community', ':to': 'town' }),
      expect.objectContaining({ ':from': 'town', ':to': 'district' }),
      expect.objectContaining({ ':from': 'district', ':to': 'ops' }),
    ]);
    // Waiting for dispatch is counted from the stream: no counter written here.
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: `NOTE#alert:dispatch:${REQ}` }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { TopicArn: ALERT_TOPIC });
  });

  describe('a scope whose offers expire unanswered', () => {
    const PAST = new Date(Date.now() - 1000).toISOString();
    const vol = (n: number) => `vol_${String(n).repeat(16)}`;
    /** The availability entries of each community, by community. */
    const givenAvailableIn = (byCommunity: Record<string, string[]>) => {
      for (const [communityId, ids] of Object.entries(byCommunity)) {
        ddb
          .on(QueryCommand, {
            IndexName: 'avail',
            ExpressionAttributeValues: { ':pk': `AVAIL#${communityId}` },
          })
          .resolves({
            Items: ids.map((volunteerId) =>
              volunteerItem(aVolunteer({ volunteerId, communityId, townId: 'east-town' })),
            ),
          });
      }
    };
    const offerPuts = () =>
      ddb
        .commandCalls(PutCommand)
        .map((c) => c.args[0].input.Item)
        .filter((i) => i?.type === 'offer');
    const availReads = () =>
      ddb
        .commandCalls(QueryCommand)
        .filter((c) => c.args[0].input.IndexName === 'avail')
        .map((c) => c.args[0].input.ExpressionAttributeValues?.[':pk']);

    it('a batch that expires unanswered widens community → town at once and offers the community’s next volunteers first, under the town scope', async () => {
      // east-river comes second in its town's config; east-garden alone has enough to rank.
      const expired = [1, 2, 3].map((n) =>
        anOffer({
          volunteerId: vol(n),
          status: 'expired',
          communityId: 'east-river',
          expiresAt: PAST,
        }),
      );
      givenRequest(aRequest({ communityId: 'east-river' }), expired);
      givenAvailableIn({
        'east-river': [vol(4)],
        'east-garden': [5, 6, 7, 8, 9].map(vol).concat(VOL),
      });

      const out = await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);

      expect(out.batchItemFailures).toEqual([]);
      expect(requestUpdates()).toEqual([
        expect.objectContaining({
          ConditionExpression: '#scope = :from AND #status = :received',
          ExpressionAttributeValues: expect.objectContaining({
            ':from': 'community',
            ':to': 'town',
            ':h': [
              expect.objectContaining({ event: 'scope_widened', from: 'community', to: 'town' }),
            ],
          }),
        }),
      ]);
      // The request's own community is read first and its volunteer ranked first.
      expect(availReads()).toEqual(['AVAIL#east-river', 'AVAIL#east-garden']);
      const made = offerPuts();
      expect(made).toHaveLength(3);
      expect(made[0]).toMatchObject({ volunteerId: vol(4), scope: 'town', status: 'open' });
      expect(made.every((o) => o?.scope === 'town')).toBe(true);
      expect(made.map((o) => o?.volunteerId)).not.toEqual(
        expect.arrayContaining([vol(1), vol(2), vol(3)]),
      );
    });

    it('declined and the rest expired widens too: a decline is an answer, not an accept', async () => {
      givenRequest(aRequest(), [
        anOffer({ volunteerId: vol(1), status: 'declined', expiresAt: PAST }),
        anOffer({ volunteerId: vol(2), status: 'expired', expiresAt: PAST }),
      ]);
      givenAvailableIn({ 'east-garden': [vol(3)] });

      await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);

      expect(requestUpdates().map((u) => u.ExpressionAttributeValues?.[':to'])).toEqual(['town']);
      expect(offerPuts()).toEqual([
        expect.objectContaining({ volunteerId: vol(3), scope: 'town' }),
      ]);
    });

    it('a multi-slot request someone in the scope accepted keeps being offered there', async () => {
      const taken = anOffer({ status: 'accepted' });
      givenRequest(
        aRequest({ slots: 2, filled: 1 }),
        [taken, anOffer({ volunteerId: VOL2, status: 'expired', expiresAt: PAST })],
        [aTask()],
      );
      givenAvailableIn({ 'east-garden': [vol(3)] });

      await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);

      expect(requestUpdates()).toEqual([]);
      expect(offerPuts()).toEqual([
        expect.objectContaining({ volunteerId: vol(3), scope: 'community' }),
      ]);
    });

    it('offers that expired in an earlier scope do not widen the current one', async () => {
      givenRequest(aRequest({ scope: 'town' }), [
        anOffer({ volunteerId: vol(1), status: 'expired', expiresAt: PAST }),
      ]);
      givenAvailableIn({ 'east-garden': [vol(3)] });

      await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);

      expect(requestUpdates()).toEqual([]);
      expect(offerPuts()).toEqual([
        expect.objectContaining({ volunteerId: vol(3), scope: 'town' }),
      ]);
    });

    it('a run that finds the scope already widened by another (a repeat or a race) widens nothing and offers nothing', async () => {
      givenRequest(aRequest(), [
        anOffer({ volunteerId: vol(1), status: 'expired', expiresAt: PAST }),
      ]);
      givenAvailableIn({ 'east-garden': [vol(3)], 'east-river': [vol(4)] });
      ddb.on(UpdateCommand, { Key: { pk: `REQ#${REQ}`, sk: 'REQ' } }).rejects(conditionFailed());

      const out = await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);

      expect(out.batchItemFailures).toEqual([]);
      expect(requestUpdates()).toHaveLength(1);
      expect(offerPuts()).toEqual([]);
      expect(sentTo('timers')).toEqual([]);
    });

    it('the district’s offers expiring unanswered alert ops for manual dispatch', async () => {
      givenRequest(aRequest({ scope: 'district' }), [
        anOffer({ volunteerId: vol(1), status: 'expired', scope: 'district', expiresAt: PAST }),
      ]);
      givenAvailableIn({ 'west-hill': [vol(3)] });

      const out = await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);

      expect(out.batchItemFailures).toEqual([]);
      expect(requestUpdates()).toEqual([
        expect.objectContaining({
          ExpressionAttributeValues: expect.objectContaining({
            ':from': 'district',
            ':to': 'ops',
            ':h': [expect.objectContaining({ event: 'waiting_for_dispatch', from: 'district' })],
          }),
        }),
      ]);
      expect(availReads()).toEqual([]);
      expect(offerPuts()).toEqual([]);
      expect(ddb).toHaveReceivedCommandWith(PutCommand, {
        Item: expect.objectContaining({ pk: `NOTE#alert:dispatch:${REQ}` }),
      });
      expect(sns).toHaveReceivedCommandWith(PublishCommand, { TopicArn: ALERT_TOPIC });
    });
  });

  it('does nothing for a request no longer waiting', async () => {
    givenRequest(aRequest({ status: 'cancelled' }));
    const out = await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), ctx);
    expect(out.batchItemFailures).toEqual([]);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
    expect(sqs).not.toHaveReceivedAnyCommand();
  });
});

describe('send-notification', () => {
  const note = (over: Record<string, unknown> = {}) => ({
    notificationId: 'offer:off_x',
    to: { kind: 'volunteer', volunteerId: VOL },
    template: 'offer',
    params: { community: '东园社区', kindLabel: '代购生活物资', minutes: 2 },
    ...over,
  });

  it('writes its marker conditionally before publishing an SMS to the phone number', async () => {
    givenVolunteer(aVolunteer());
    const order: string[] = [];
    ddb.on(PutCommand).callsFake(() => {
      order.push('marker');
      return {};
    });
    sns.on(PublishCommand).callsFake(() => {
      order.push('publish');
      return { MessageId: 'x' };
    });

    const out = await sendNotification(sqsEvent(sqsRecord(note())), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(order).toEqual(['marker', 'publish']);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'NOTE#offer:off_x', sk: 'NOTE' }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      PhoneNumber: '+8613900139000',
      Message: expect.stringContaining('东园社区'),
    });
  });

  it('reads a volunteer reached by push eventually consistent, once', async () => {
    const key = { pk: `VOL#${VOL}`, sk: 'VOL' };
    ddb
      .on(GetCommand, { Key: key })
      .resolves({ Item: volunteerItem(aVolunteer({ pushEndpoint: 'arn:aws:sns:endpoint/x' })) });

    const out = await sendNotification(sqsEvent(sqsRecord(note())), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(
      ddb.commandCalls(GetCommand, { Key: key }).map((c) => c.args[0].input.ConsistentRead),
    ).toEqual([false]);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { TargetArn: 'arn:aws:sns:endpoint/x' });
  });

  it('an SMS decision reads the volunteer strongly: an opt-out a replica does not show yet still holds', async () => {
    const key = { pk: `VOL#${VOL}`, sk: 'VOL' };
    ddb
      .on(GetCommand, { Key: key, ConsistentRead: false })
      .resolves({ Item: volunteerItem(aVolunteer()) })
      .on(GetCommand, { Key: key, ConsistentRead: true })
      .resolves({ Item: volunteerItem(aVolunteer({ smsOptOut: true })) });

    const out = await sendNotification(sqsEvent(sqsRecord(note())), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('a volunteer an eventually consistent read does not find yet is read again strongly, not skipped', async () => {
    const key = { pk: `VOL#${VOL}`, sk: 'VOL' };
    ddb
      .on(GetCommand, { Key: key, ConsistentRead: false })
      .resolves({})
      .on(GetCommand, { Key: key, ConsistentRead: true })
      .resolves({ Item: volunteerItem(aVolunteer()) });

    const out = await sendNotification(sqsEvent(sqsRecord(note())), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { PhoneNumber: '+8613900139000' });
  });

  it('a duplicate marker means it was sent already: no Publish, and not a failure', async () => {
    givenVolunteer(aVolunteer());
    ddb.on(PutCommand).rejects(conditionFailed());
    const out = await sendNotification(sqsEvent(sqsRecord(note())), ctx);
    expect(out.batchItemFailures).toEqual([]);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('a failed Publish whose marker removal fails at first still removes it, so the retry sends', async () => {
    givenVolunteer(aVolunteer());
    sns.on(PublishCommand).rejects(new Error('SNS throttled'));
    ddb.on(DeleteCommand).rejectsOnce(new Error('InternalServerError')).resolves({});
    const out = await sendNotification(sqsEvent(sqsRecord(note(), { messageId: 'm1' })), ctx);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(ddb).toHaveReceivedCommandTimes(DeleteCommand, 2);
  });

  it('a failed Publish deletes the marker and reports the record failed', async () => {
    givenVolunteer(aVolunteer());
    sns.on(PublishCommand).rejects(new Error('SNS throttled'));
    const out = await sendNotification(sqsEvent(sqsRecord(note(), { messageId: 'm1' })), ctx);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, {
      Key: { pk: 'NOTE#offer:off_x', sk: 'NOTE' },
    });
  });

  it('a volunteer with a push endpoint gets push by TargetArn, not SMS', async () => {
    const endpoint = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/abc';
    givenVolunteer(aVolunteer({ pushEndpoint: endpoint }));
    await sendNotification(sqsEvent(sqsRecord(note())), ctx);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { TargetArn: endpoint });
    expect(sns.commandCalls(PublishCommand)[0].args[0].input.PhoneNumber).toBeUndefined();
  });

  it('push-only to a volunteer without an endpoint is skipped: no marker, no SMS', async () => {
    givenVolunteer(aVolunteer());
    const out = await sendNotification(
      sqsEvent(sqsRecord(note({ template: 'offer_withdrawn', channel: 'push-only' }))),
      ctx,
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
    expect(sns).not.toHaveReceivedAnyCommand();
  });

  it('a requester gets an SMS at the request’s phone', async () => {
    givenRequest(aRequest());
    await sendNotification(
      sqsEvent(
        sqsRecord(
          note({
            notificationId: `delivered:${REQ}`,
            to: { kind: 'requester', requestId: REQ },
            template: 'goods_at_door',
            params: {},
          }),
        ),
      ),
      ctx,
    );
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { PhoneNumber: '+8613800138000' });
  });

  it('a disabled endpoint: push wrote no marker, and the SMS goes through its own marker', async () => {
    const endpoint = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/gone';
    givenVolunteer(aVolunteer({ pushEndpoint: endpoint }));
    sns
      .on(PublishCommand, { TargetArn: endpoint })
      .rejects(new EndpointDisabledException({ message: 'Endpoint is disabled', $metadata: {} }));
    const out = await sendNotification(sqsEvent(sqsRecord(note())), ctx);
    expect(out.batchItemFailures).toEqual([]);
    expect(ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item?.pk)).toEqual([
      'NOTE#offer:off_x',
    ]);
    expect(ddb).not.toHaveReceivedCommand(DeleteCommand);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      PhoneNumber: '+8613900139000',
      Message: expect.stringMatching(/^【社区志愿】东园社区/),
    });
  });

  it('a push carries the notification id as its collapse id (APNs attribute, FCM tag) and writes no marker', async () => {
    const endpoint = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/abc';
    givenVolunteer(aVolunteer({ pushEndpoint: endpoint }));

    const out = await sendNotification(sqsEvent(sqsRecord(note())), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
    const [publish] = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(publish).toMatchObject({
      TargetArn: endpoint,
      MessageStructure: 'json',
      MessageAttributes: {
        'AWS.SNS.MOBILE.APNS.COLLAPSE_ID': { DataType: 'String', StringValue: 'offer:off_x' },
      },
    });
    const payloads = JSON.parse(publish.Message ?? '{}');
    expect(payloads.default).toMatch(/东园社区/);
    const fcm = JSON.parse(payloads.GCM).fcmV1Message.message;
    expect(fcm.notification.body).toBe(payloads.default);
    expect(fcm.android.notification.tag).toBe('offer:off_x');
    expect(fcm.data).toEqual({ notificationId: 'offer:off_x' });
    expect(fcm.android).not.toHaveProperty('collapse_key');
    expect(JSON.parse(payloads.APNS)).toEqual({
      aps: { alert: payloads.default },
      notificationId: 'offer:off_x',
    });
  });

  it('a redelivered push publishes again with the same collapse id and writes no marker', async () => {
    const endpoint = 'arn:aws:sns:us-east-1:123456789012:endpoint/APNS/app/abc';
    const message = note({ push: { endpoint } });

    await sendNotification(sqsEvent(sqsRecord(message)), ctx);
    await sendNotification(sqsEvent(sqsRecord(message)), ctx);

    const collapseIds = sns
      .commandCalls(PublishCommand)
      .map(
        (c) => c.args[0].input.MessageAttributes?.['AWS.SNS.MOBILE.APNS.COLLAPSE_ID']?.StringValue,
      );
    expect(collapseIds).toEqual(['offer:off_x', 'offer:off_x']);
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it('a push the producer addressed goes to the carried endpoint in the carried language, without reading the volunteer', async () => {
    const endpoint = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/carried';
    givenVolunteer(aVolunteer({ pushEndpoint: 'arn:aws:sns:endpoint/other' }));

    const out = await sendNotification(
      sqsEvent(sqsRecord(note({ push: { endpoint, language: 'en' } }))),
      ctx,
    );

    expect(out.batchItemFailures).toEqual([]);
    expect(ddb).not.toHaveReceivedCommand(GetCommand);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    const [publish] = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(publish.TargetArn).toBe(endpoint);
    expect(JSON.parse(publish.Message ?? '{}').default).toMatch(/^\[Vol\] /);
  });

  it('a carried endpoint SNS says is disabled: the volunteer is read strongly and the SMS goes through its marker', async () => {
    const endpoint = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/gone';
    givenVolunteer(aVolunteer({ pushEndpoint: endpoint }));
    sns
      .on(PublishCommand, { TargetArn: endpoint })
      .rejects(new EndpointDisabledException({ message: 'Endpoint is disabled', $metadata: {} }));

    const out = await sendNotification(sqsEvent(sqsRecord(note({ push: { endpoint } }))), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input.ConsistentRead)).toEqual([true]);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'NOTE#offer:off_x' }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { PhoneNumber: '+8613900139000' });
  });

  it('a carried endpoint disabled since the volunteer registered a new one: push to the new one, no SMS', async () => {
    const old = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/old-phone';
    const current = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/new-phone';
    givenVolunteer(aVolunteer({ pushEndpoint: current }));
    sns
      .on(PublishCommand, { TargetArn: old })
      .rejects(new EndpointDisabledException({ message: 'Endpoint is disabled', $metadata: {} }));

    const out = await sendNotification(sqsEvent(sqsRecord(note({ push: { endpoint: old } }))), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { TargetArn: current });
    expect(sns).not.toHaveReceivedCommandWith(PublishCommand, {
      PhoneNumber: '+8613900139000',
    });
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
  });

  it('a disabled carried endpoint of a volunteer who opted out of SMS: no SMS', async () => {
    const endpoint = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/gone';
    givenVolunteer(aVolunteer({ pushEndpoint: endpoint, smsOptOut: true }));
    sns
      .on(PublishCommand, { TargetArn: endpoint })
      .rejects(new EndpointDisabledException({ message: 'Endpoint is disabled', $metadata: {} }));

    const out = await sendNotification(sqsEvent(sqsRecord(note({ push: { endpoint } }))), ctx);

    expect(out.batchItemFailures).toEqual([]);
    expect(sns).not.toHaveReceivedCommandWith(PublishCommand, {
      PhoneNumber: '+8613900139000',
    });
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
  });

  it('an SMS-channel notice ignores a carried endpoint and reads the volunteer strongly', async () => {
    givenVolunteer(aVolunteer({ smsOptOut: true }));
    await sendNotification(
      sqsEvent(
        sqsRecord(note({ channel: 'sms', push: { endpoint: 'arn:aws:sns:endpoint/carried' } })),
      ),
      ctx,
    );
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input.ConsistentRead)).toEqual([true]);
    expect(sns).not.toHaveReceivedAnyCommand();
  });

  it('an SMS of a request is counted and marked sent in one write to its counter, then the hour, then Publish', async () => {
    givenVolunteer(aVolunteer());
    const order: string[] = [];
    ddb.on(UpdateCommand).callsFake((input) => {
      order.push(String(input.Key?.pk).split('#').slice(0, 2).join('#'));
      return {};
    });
    sns.on(PublishCommand).callsFake(() => {
      order.push('publish');
      return { MessageId: 'x' };
    });
    await sendNotification(sqsEvent(sqsRecord(note({ requestId: REQ }))), ctx);
    expect(order).toEqual(['SMSCOUNT#REQ', 'SMSCOUNT#HOUR', 'publish']);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `SMSCOUNT#REQ#${REQ}`, sk: 'SMS' },
      // The per-request cap of 8, and this SMS's id not yet among those counted.
      ConditionExpression:
        '(attribute_not_exists(#sent) OR #sent < :cap) AND NOT contains(#notes, :id)',
      ExpressionAttributeValues: expect.objectContaining({
        ':cap': 8,
        ':id': 'offer:off_x',
        ':ids': new Set(['offer:off_x']),
      }),
    });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: expect.stringMatching(/^SMSCOUNT#HOUR#\d{4}-\d\d-\d\dT\d\d$/), sk: 'SMS' },
      // The hour's cap of 300 is leased 6 at a time (a fiftieth).
      ExpressionAttributeValues: expect.objectContaining({ ':n': 6, ':room': 294 }),
    });
    // No marker item of its own: the request's counter is the marker.
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it('the shared SMS key of an urgent reminder is the id its request’s counter is checked for', async () => {
    givenVolunteer(aVolunteer());
    await sendNotification(
      sqsEvent(
        sqsRecord(
          note({
            notificationId: 'offer-urgent:off_x',
            smsKey: 'offer:off_x',
            channel: 'sms',
            requestId: REQ,
          }),
        ),
      ),
      ctx,
    );
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `SMSCOUNT#REQ#${REQ}`, sk: 'SMS' },
      ExpressionAttributeValues: expect.objectContaining({ ':id': 'offer:off_x' }),
    });
  });

  it('a repeated SMS notice of a request sends nothing, takes no budget, and is not a failure', async () => {
    givenVolunteer(aVolunteer());
    ddb.on(UpdateCommand, { Key: { pk: `SMSCOUNT#REQ#${REQ}`, sk: 'SMS' } }).rejects(
      conditionFailed({
        pk: `SMSCOUNT#REQ#${REQ}`,
        sk: 'SMS',
        sent: 1,
        notes: new Set(['offer:off_x']),
      }),
    );
    const out = await sendNotification(
      sqsEvent(sqsRecord(note({ requestId: REQ }), { messageId: 'm1' })),
      ctx,
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    // Neither the hour's budget nor a give-back: the repeat took nothing.
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
  });

  it('over the cap per request: no SMS, nothing to give back, push instead when there is an endpoint', async () => {
    const endpoint = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/abc';
    givenVolunteer(aVolunteer({ pushEndpoint: endpoint }));
    ddb.on(UpdateCommand, { Key: { pk: `SMSCOUNT#REQ#${REQ}`, sk: 'SMS' } }).rejects(
      conditionFailed({
        pk: `SMSCOUNT#REQ#${REQ}`,
        sk: 'SMS',
        sent: 8,
        notes: new Set(['offer:off_1', 'offer:off_2']),
      }),
    );
    const out = await sendNotification(
      sqsEvent(sqsRecord(note({ requestId: REQ, channel: 'sms' }))),
      ctx,
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(sns).not.toHaveReceivedCommandWith(PublishCommand, { PhoneNumber: '+8613900139000' });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { TargetArn: endpoint });
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
  });

  it('a failed Publish of a request’s SMS gives back its unit and id in one write, and the record fails', async () => {
    givenVolunteer(aVolunteer());
    sns.on(PublishCommand).rejects(new Error('SNS throttled'));
    const out = await sendNotification(
      sqsEvent(sqsRecord(note({ requestId: REQ }), { messageId: 'm1' })),
      ctx,
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `SMSCOUNT#REQ#${REQ}`, sk: 'SMS' },
      UpdateExpression: 'ADD #sent :minus DELETE #notes :ids',
      ExpressionAttributeValues: { ':minus': -1, ':ids': new Set(['offer:off_x']) },
    });
    expect(ddb).not.toHaveReceivedCommand(DeleteCommand);
  });

  it('over the hour’s cap: no SMS, the request’s unit and id given back, ops alerted once for the hour', async () => {
    givenVolunteer(aVolunteer());
    ddb.on(UpdateCommand).callsFake((input) => {
      if (String(input.Key?.pk).startsWith('SMSCOUNT#HOUR#')) throw conditionFailed();
      return {};
    });
    const out = await sendNotification(sqsEvent(sqsRecord(note({ requestId: REQ }))), ctx);
    expect(out.batchItemFailures).toEqual([]);
    expect(sns).not.toHaveReceivedCommandWith(PublishCommand, { PhoneNumber: '+8613900139000' });
    // The SMS was not sent: its retry (a later notice) may send it.
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `SMSCOUNT#REQ#${REQ}`, sk: 'SMS' },
      ExpressionAttributeValues: { ':minus': -1, ':ids': new Set(['offer:off_x']) },
    });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: expect.stringMatching(/^NOTE#alert:sms-cap:/) }),
    });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { TopicArn: ALERT_TOPIC });
  });

  it('over the hour’s cap, an SMS without a request: its marker removed', async () => {
    givenVolunteer(aVolunteer());
    ddb.on(UpdateCommand).callsFake((input) => {
      if (String(input.Key?.pk).startsWith('SMSCOUNT#HOUR#')) throw conditionFailed();
      return {};
    });
    const out = await sendNotification(sqsEvent(sqsRecord(note())), ctx);
    expect(out.batchItemFailures).toEqual([]);
    expect(sns).not.toHaveReceivedCommandWith(PublishCommand, { PhoneNumber: '+8613900139000' });
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, {
      Key: { pk: 'NOTE#offer:off_x', sk: 'NOTE' },
    });
  });

  it('no SMS to a volunteer who opted out, except the answer to their own reply', async () => {
    givenVolunteer(aVolunteer({ smsOptOut: true }));
    await sendNotification(sqsEvent(sqsRecord(note())), ctx);
    expect(sns).not.toHaveReceivedAnyCommand();
    await sendNotification(
      sqsEvent(sqsRecord(note({ template: 'reply_declined', reply: true, channel: 'sms' }))),
      ctx,
    );
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { PhoneNumber: '+8613900139000' });
  });

  it('renders in the volunteer’s language', async () => {
    givenVolunteer(aVolunteer({ language: 'en' }));
    await sendNotification(
      sqsEvent(sqsRecord(note({ params: { ...note().params, code: 'K7PQ' } }))),
      ctx,
    );
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      Message: '[Vol] 代购生活物资, 东园社区: reply 1 K7PQ to take, 0 K7PQ to pass, 2min',
    });
  });
});

describe('apply-request-event', () => {
  it('after the last slot is taken, tells the requester and the other offered volunteers, writing no withdrawal', async () => {
    givenVolunteer(aVolunteer());
    givenRequest(
      aRequest({ status: 'matched', filled: 1 }),
      [anOffer({ status: 'accepted' }), anOffer({ volunteerId: VOL2 })],
      [aTask()],
    );

    const out = await applyRequestEvent(
      sqsEvent(sqsRecord({ type: 'task_taken', requestId: REQ, volunteerId: VOL, at: 'now' })),
      ctx,
    );

    expect(out.batchItemFailures).toEqual([]);
    // The open offer of a filled request reads withdrawn: nothing is written for it.
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(published()).toEqual([
      expect.objectContaining({
        to: { kind: 'requester', requestId: REQ },
        template: 'volunteer_assigned',
        params: { volunteerName: '李明' },
      }),
      expect.objectContaining({
        to: { kind: 'volunteer', volunteerId: VOL2 },
        template: 'offer_withdrawn',
        channel: 'push-only',
      }),
    ]);
    // The partner has no callback URL: nothing is queued for it.
    expect(sentTo('callbacks')).toEqual([]);
  });

  it('tells the requester the name the taken event carries, without reading the volunteer', async () => {
    givenRequest(
      aRequest({ status: 'matched', filled: 1 }),
      [anOffer({ status: 'accepted' })],
      [aTask()],
    );
    await applyRequestEvent(
      sqsEvent(
        sqsRecord({
          type: 'task_taken',
          requestId: REQ,
          volunteerId: VOL,
          volunteerName: '王芳',
          at: 'now',
        }),
      ),
      ctx,
    );
    expect(published()).toEqual([
      expect.objectContaining({
        template: 'volunteer_assigned',
        params: { volunteerName: '王芳' },
      }),
    ]);
    expect(ddb).not.toHaveReceivedCommandWith(GetCommand, { Key: { pk: `VOL#${VOL}`, sk: 'VOL' } });
  });

  it('reads eventually consistent first, and strongly when that read does not show the taken task yet', async () => {
    givenVolunteer(aVolunteer());
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: { ':pk': `REQ#${REQ}` } })
      .resolvesOnce({ Items: [requestItem(aRequest())] })
      .resolves({
        Items: [requestItem(aRequest({ status: 'matched', filled: 1 })), taskItem(aTask())],
      });
    await applyRequestEvent(
      sqsEvent(sqsRecord({ type: 'task_taken', requestId: REQ, volunteerId: VOL, at: 'now' })),
      ctx,
    );
    expect(
      ddb
        .commandCalls(QueryCommand)
        .filter((c) => c.args[0].input.ExpressionAttributeValues?.[':pk'] === `REQ#${REQ}`)
        .map((c) => c.args[0].input.ConsistentRead),
    ).toEqual([false, true]);
    expect(published()).toEqual([expect.objectContaining({ template: 'volunteer_assigned' })]);
  });

  it('queues the partner’s callback for the new status, at the time it was reached, with the partner', async () => {
    givenVolunteer(aVolunteer());
    givenRequest(
      aRequest({ status: 'matched', filled: 1 }),
      [anOffer({ status: 'accepted' })],
      [aTask()],
    );
    ddb
      .on(GetCommand, { Key: { pk: `PARTNER#${PTN}`, sk: 'PARTNER' } })
      .resolves({ Item: { callback: { url: 'https://partner.example/cb', secret: 's' } } });
    await applyRequestEvent(
      sqsEvent(sqsRecord({ type: 'task_taken', requestId: REQ, volunteerId: VOL, at: 'now' })),
      ctx,
    );
    expect(sentTo('callbacks')).toEqual([
      { requestId: REQ, partnerId: PTN, status: 'matched', at: T0, attempt: 1 },
    ]);
  });

  it('a task_taken read after the request was already delivered tells the partner matched, at its time, and not delivered', async () => {
    givenVolunteer(aVolunteer());
    const matchedAt = '2026-11-23T10:05:00.000Z';
    givenRequest(
      aRequest({
        status: 'delivered',
        filled: 1,
        delivered: 1,
        history: [
          { status: 'received', at: T0 },
          { status: 'matched', at: matchedAt },
          { status: 'delivered', at: '2026-11-23T10:30:00.000Z' },
        ],
      }),
      [anOffer({ status: 'accepted' })],
      [aTask({ status: 'delivered' })],
    );
    ddb
      .on(GetCommand, { Key: { pk: `PARTNER#${PTN}`, sk: 'PARTNER' } })
      .resolves({ Item: { callback: { url: 'https://partner.example/cb', secret: 's' } } });
    await applyRequestEvent(
      sqsEvent(sqsRecord({ type: 'task_taken', requestId: REQ, volunteerId: VOL, at: 'now' })),
      ctx,
    );
    expect(sentTo('callbacks')).toEqual([
      { requestId: REQ, partnerId: PTN, status: 'matched', at: matchedAt, attempt: 1 },
    ]);
  });

  it('a task of a multi-slot request still filling tells the partner nothing', async () => {
    givenVolunteer(aVolunteer());
    givenRequest(aRequest({ slots: 3, filled: 1 }), [anOffer({ status: 'accepted' })], [aTask()]);
    ddb
      .on(GetCommand, { Key: { pk: `PARTNER#${PTN}`, sk: 'PARTNER' } })
      .resolves({ Item: { callback: { url: 'https://partner.example/cb', secret: 's' } } });
    await applyRequestEvent(
      sqsEvent(sqsRecord({ type: 'task_taken', requestId: REQ, volunteerId: VOL, at: 'now' })),
      ctx,
    );
    expect(sentTo('callbacks')).toEqual([]);
  });

  it('a declined offer asks matching for the next volunteer', async () => {
    givenRequest(aRequest(), [anOffer({ status: 'declined' })]);
    await applyRequestEvent(
      sqsEvent(sqsRecord({ type: 'offer_declined', requestId: REQ, volunteerId: VOL, at: 'now' })),
      ctx,
    );
    expect(sentTo('match')).toEqual([{ requestId: REQ }]);
    expect(sentTo('callbacks')).toEqual([]);
  });

  it('a filled request’s open offers are withdrawn by push to the endpoint each offer was made with', async () => {
    const endpoint = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/v2';
    givenVolunteer(aVolunteer());
    givenRequest(
      aRequest({ status: 'matched', filled: 1 }),
      [anOffer({ status: 'accepted' }), anOffer({ volunteerId: VOL2, push: { endpoint } })],
      [aTask()],
    );
    ddb.on(UpdateCommand).resolves({});

    await applyRequestEvent(
      sqsEvent(sqsRecord({ type: 'task_taken', requestId: REQ, volunteerId: VOL, at: 'now' })),
      ctx,
    );

    expect(published()).toContainEqual(
      expect.objectContaining({
        notificationId: `withdrawn:off_${REQ.slice(4)}_${VOL2.slice(4)}`,
        channel: 'push-only',
        push: { endpoint },
      }),
    );
  });

  it('a confirmed request credits its delivered task with one conditional Put of its record, under the day it was delivered', async () => {
    givenVolunteer(aVolunteer());
    givenRequest(
      aRequest({ status: 'confirmed', updatedAt: '2022-04-02T09:00:00.000Z' }),
      [],
      [aTask({ status: 'delivered', deliveredAt: '2022-04-01T08:30:00.000Z' })],
    );
    await applyRequestEvent(
      sqsEvent(sqsRecord({ type: 'request_confirmed', requestId: REQ, at: 'now' })),
      ctx,
    );
    // The record is the credit: no transaction, no task or volunteer write.
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    const puts = ddb.commandCalls(PutCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0].args[0].input).toMatchObject({
      Item: {
        pk: 'RECORDS#2022-04-01',
        sk: `${VOL}#${TASK}`,
        day: '2022-04-01',
        minutes: 30,
        points: 10,
        creditedAt: '2022-04-02T09:00:00.000Z',
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('a repeated credit finds the record there and succeeds without writing anything else', async () => {
    givenVolunteer(aVolunteer());
    givenRequest(
      aRequest({ status: 'confirmed' }),
      [],
      [aTask({ status: 'delivered', deliveredAt: '2022-04-01T08:30:00.000Z' })],
    );
    ddb.on(PutCommand, { Item: { pk: 'RECORDS#2022-04-01' } }).rejects(conditionFailed());
    const out = await applyRequestEvent(
      sqsEvent(sqsRecord({ type: 'request_confirmed', requestId: REQ, at: 'now' })),
      ctx,
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(1);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('a task credited by the code before records were the credit is not credited again', async () => {
    givenVolunteer(aVolunteer());
    givenRequest(
      aRequest({ status: 'confirmed' }),
      [],
      [aTask({ status: 'delivered', deliveredAt: '2022-04-01T08:30:00.000Z', credited: true })],
    );
    const out = await applyRequestEvent(
      sqsEvent(sqsRecord({ type: 'request_confirmed', requestId: REQ, at: 'now' })),
      ctx,
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('apply-request-event: a volunteer gone off duty', () => {
  const REQ2 = 'req_2222222222222222';
  const AT = new Date(Date.now() - 5_000).toISOString();
  const offDuty = (receiveCount = 1) =>
    applyRequestEvent(
      sqsEvent(
        sqsRecord({ type: 'volunteer_off_duty', volunteerId: VOL, at: AT }, { receiveCount }),
      ),
      ctx,
    );
  /** The volunteer's offer inbox (gsi1 `VOLOFFER#<volunteer>`) holds these offers. */
  const givenInbox = (...offers: Offer[]) =>
    ddb
      .on(QueryCommand, {
        IndexName: 'gsi1',
        ExpressionAttributeValues: { ':pk': `VOLOFFER#${VOL}` },
      })
      .resolves({ Items: offers.map(offerItem) });
  const closes = () =>
    ddb
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input)
      .filter((u) => u.Key?.sk === `TASK#${VOL}`);

  it('withdraws each open offer with a conditional write that keeps its inbox entry, then queues the matches', async () => {
    givenInbox(anOffer(), anOffer({ requestId: REQ2 }));
    givenRequestsByKey(aRequest(), aRequest({ requestId: REQ2 }));

    const out = await offDuty();

    expect(out.batchItemFailures).toEqual([]);
    // The inbox is read from the time the volunteer went off duty.
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk > :after',
      ExpressionAttributeValues: { ':pk': `VOLOFFER#${VOL}`, ':after': AT },
    });
    expect(closes()).toEqual([
      expect.objectContaining({
        Key: { pk: `REQ#${REQ}`, sk: `TASK#${VOL}` },
        UpdateExpression: 'SET #status = :to, closedAt = :at',
        ConditionExpression: '#status = :open',
        ExpressionAttributeValues: expect.objectContaining({ ':to': 'withdrawn' }),
      }),
      expect.objectContaining({ Key: { pk: `REQ#${REQ2}`, sk: `TASK#${VOL}` } }),
    ]);
    expect(sentTo('match')).toEqual([{ requestId: REQ }, { requestId: REQ2 }]);
  });

  it('the matches fail to queue after the offers were closed: the retried event matches them again from the withdrawn offers', async () => {
    givenInbox(anOffer(), anOffer({ requestId: REQ2 }));
    givenRequestsByKey(aRequest(), aRequest({ requestId: REQ2 }));
    sqs
      .on(SendMessageBatchCommand)
      .rejectsOnce(new Error('SQS unavailable'))
      .resolves({ Successful: [], Failed: [] });

    const first = await offDuty();
    expect(first.batchItemFailures).toHaveLength(1);
    expect(closes()).toHaveLength(2);

    // SQS delivers the event again; the inbox now holds the offers the first run withdrew.
    const refused = sentTo('match').length;
    givenInbox(anOffer({ status: 'withdrawn' }), anOffer({ requestId: REQ2, status: 'withdrawn' }));
    const retry = await offDuty(2);

    expect(retry.batchItemFailures).toEqual([]);
    expect(closes()).toHaveLength(2); // nothing written twice
    expect(sentTo('match').slice(refused)).toEqual([{ requestId: REQ }, { requestId: REQ2 }]);
  });

  it('an offer the volunteer accepted or one whose request took no more volunteers is not withdrawn or re-matched', async () => {
    const REQ3 = 'req_3333333333333333';
    givenInbox(
      anOffer({ status: 'accepted' }),
      anOffer({ requestId: REQ2 }),
      anOffer({ requestId: REQ3 }),
    );
    givenRequestsByKey(
      aRequest({ requestId: REQ2, status: 'matched' }),
      aRequest({ requestId: REQ3 }),
    );
    // REQ3's offer was declined a moment ago: the conditional close is refused.
    ddb.on(UpdateCommand, { Key: { pk: `REQ#${REQ3}` } }).rejects(conditionFailed());

    const out = await offDuty();

    expect(out.batchItemFailures).toEqual([]);
    expect(closes().map((u) => u.Key?.pk)).toEqual([`REQ#${REQ3}`]);
    expect(sentTo('match')).toEqual([]);
  });
});

describe('handle-timer', () => {
  it('a batch’s expiry expires each open offer past its time in its own conditional write, from one read, and matches once', async () => {
    const VOL3 = 'vol_cccccccccccccccc';
    const past = new Date(Date.now() - 1000).toISOString();
    givenRequest(aRequest(), [
      anOffer({ status: 'open', expiresAt: past }),
      anOffer({ volunteerId: VOL2, status: 'open', expiresAt: past }),
      anOffer({ volunteerId: VOL3, status: 'accepted', expiresAt: past }),
    ]);

    const out = await handleTimer(
      sqsEvent(
        sqsRecord({ type: 'offer_expiry', requestId: REQ, volunteerIds: [VOL, VOL2, VOL3] }),
      ),
      ctx,
    );

    expect(out.batchItemFailures).toEqual([]);
    // One eventually consistent Query of the request with its offers, no GetItem per offer.
    expect(ddb).not.toHaveReceivedCommand(GetCommand);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(QueryCommand, {
      KeyConditionExpression: 'pk = :pk',
      ConsistentRead: false,
    });
    // Each expiry is its own transaction: the offer closes and the history notes it, or neither.
    const expiries = ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input);
    expect(expiries.map((t) => t.TransactItems?.[0].Update?.Key)).toEqual([
      { pk: `REQ#${REQ}`, sk: `TASK#${VOL}` },
      { pk: `REQ#${REQ}`, sk: `TASK#${VOL2}` },
    ]);
    for (const t of expiries) {
      expect(t.TransactItems?.[0].Update).toMatchObject({
        ConditionExpression: '#status = :open AND expiresAt <= :at',
        ExpressionAttributeValues: expect.objectContaining({ ':to': 'expired' }),
      });
      expect(t.TransactItems?.[1].Update).toMatchObject({
        Key: { pk: `REQ#${REQ}`, sk: 'REQ' },
        ExpressionAttributeValues: { ':h': [expect.objectContaining({ event: 'offer_expired' })] },
      });
    }
    expect(sentTo('match')).toEqual([{ requestId: REQ }]);
  });

  it('a redelivered batch expiry finds its offers expired: no write, the match queued again (idempotent)', async () => {
    givenRequest(aRequest(), [
      anOffer({ status: 'expired' }),
      anOffer({ volunteerId: VOL2, status: 'expired' }),
    ]);
    await handleTimer(
      sqsEvent(sqsRecord({ type: 'offer_expiry', requestId: REQ, volunteerIds: [VOL, VOL2] })),
      ctx,
    );
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(sentTo('match')).toEqual([{ requestId: REQ }]);
  });

  it('a batch expiry on a filled request expires nothing and matches nothing: its open offers read withdrawn', async () => {
    const past = new Date(Date.now() - 1000).toISOString();
    givenRequest(
      aRequest({ status: 'matched', filled: 1 }),
      [
        anOffer({ status: 'accepted', expiresAt: past }),
        anOffer({ volunteerId: VOL2, status: 'open', expiresAt: past }),
      ],
      [aTask()],
    );
    const out = await handleTimer(
      sqsEvent(sqsRecord({ type: 'offer_expiry', requestId: REQ, volunteerIds: [VOL, VOL2] })),
      ctx,
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(sentTo('match')).toEqual([]);
    expect(sentTo('timers')).toEqual([]);
  });

  it('an expiry is conditional on its request still taking volunteers; refused there, it is not retried', async () => {
    givenRequest(aRequest(), [
      anOffer({ status: 'open', expiresAt: new Date(Date.now() - 1000).toISOString() }),
      anOffer({
        volunteerId: VOL2,
        status: 'open',
        expiresAt: new Date(Date.now() - 1000).toISOString(),
      }),
    ]);
    // Filled after the timer's (eventually consistent) read: the request's condition fails.
    ddb.on(TransactWriteCommand).rejects(transactionCancelled('None', 'ConditionalCheckFailed'));
    const out = await handleTimer(
      sqsEvent(sqsRecord({ type: 'offer_expiry', requestId: REQ, volunteerIds: [VOL, VOL2] })),
      ctx,
    );
    expect(out.batchItemFailures).toEqual([]);
    const [expiry] = ddb.commandCalls(TransactWriteCommand);
    expect(expiry.args[0].input.TransactItems?.[1].Update).toMatchObject({
      Key: { pk: `REQ#${REQ}`, sk: 'REQ' },
      ConditionExpression: '#status = :received',
    });
  });

  it('a batch with one offer not yet due expires the others and waits for it alone', async () => {
    givenRequest(aRequest(), [
      anOffer({ status: 'open', expiresAt: new Date(Date.now() - 1000).toISOString() }),
      anOffer({
        volunteerId: VOL2,
        status: 'open',
        expiresAt: new Date(Date.now() + 30_000).toISOString(),
      }),
    ]);
    await handleTimer(
      sqsEvent(sqsRecord({ type: 'offer_expiry', requestId: REQ, volunteerIds: [VOL, VOL2] })),
      ctx,
    );
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(sentTo('timers')).toEqual([
      { type: 'offer_expiry', requestId: REQ, volunteerIds: [VOL2] },
    ]);
    expect(sentTo('match')).toEqual([{ requestId: REQ }]);
  });

  it('an expiry timer queued before batching (one volunteerId) still closes its offer, notes it, and matches again', async () => {
    givenRequest(aRequest(), [
      anOffer({ status: 'open', expiresAt: new Date(Date.now() - 1000).toISOString() }),
    ]);
    const out = await handleTimer(
      sqsEvent(sqsRecord({ type: 'offer_expiry', requestId: REQ, volunteerId: VOL })),
      ctx,
    );
    expect(out.batchItemFailures).toEqual([]);
    const [expiry] = ddb.commandCalls(TransactWriteCommand);
    expect(expiry.args[0].input.TransactItems?.[0].Update).toMatchObject({
      Key: { pk: `REQ#${REQ}`, sk: `TASK#${VOL}` },
      ConditionExpression: '#status = :open AND expiresAt <= :at',
    });
    expect(sentTo('match')).toEqual([{ requestId: REQ }]);
  });

  it('an urgent batch’s SMS timer sends an SMS notice for each offer still open, from one strong read', async () => {
    const soon = new Date(Date.now() + 60_000).toISOString();
    givenRequest(aRequest({ urgency: 'urgent' }), [
      anOffer({ status: 'open', expiresAt: soon }),
      anOffer({ volunteerId: VOL2, status: 'accepted', expiresAt: soon }),
    ]);
    await handleTimer(
      sqsEvent(sqsRecord({ type: 'offer_sms', requestId: REQ, volunteerIds: [VOL, VOL2] })),
      ctx,
    );
    expect(ddb).not.toHaveReceivedCommand(GetCommand);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(QueryCommand, {
      KeyConditionExpression: 'pk = :pk',
      ConsistentRead: true,
    });
    const offerId = `off_${REQ.slice(4)}_${VOL.slice(4)}`;
    expect(published()).toEqual([
      expect.objectContaining({
        notificationId: `offer-urgent:${offerId}`,
        smsKey: `offer:${offerId}`,
        channel: 'sms',
        to: { kind: 'volunteer', volunteerId: VOL },
      }),
    ]);
  });

  it('the expiry of an offer already accepted writes nothing and matches nothing', async () => {
    givenRequest(aRequest(), [anOffer({ status: 'accepted' })]);
    const out = await handleTimer(
      sqsEvent(sqsRecord({ type: 'offer_expiry', requestId: REQ, volunteerId: VOL })),
      ctx,
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(sentTo('match')).toEqual([]);
  });

  it('a timer that fires early waits for the rest of the offer’s time', async () => {
    givenRequest(aRequest(), [anOffer({ expiresAt: new Date(Date.now() + 30_000).toISOString() })]);
    ddb.on(TransactWriteCommand).rejects(transactionCancelled('ConditionalCheckFailed', 'None'));
    await handleTimer(
      sqsEvent(sqsRecord({ type: 'offer_expiry', requestId: REQ, volunteerId: VOL })),
      ctx,
    );
    expect(sentTo('match')).toEqual([]);
    expect(sentTo('timers')).toEqual([
      { type: 'offer_expiry', requestId: REQ, volunteerIds: [VOL] },
    ]);
  });

  it('at a window’s end a waiting request expires, ops are alerted once and the close-out is queued', async () => {
    const end = new Date(Date.now() - 1000).toISOString();
    ddb
      .on(GetCommand, { Key: { pk: `REQ#${REQ}`, sk: 'REQ' } })
      .resolvesOnce({ Item: requestItem(aRequest()) })
      .resolves({ Item: requestItem(aRequest({ status: 'expired' })) });

    const out = await handleTimer(
      sqsEvent(sqsRecord({ type: 'window_end', requestId: REQ, at: end })),
      ctx,
    );

    expect(out.batchItemFailures).toEqual([]);
    const [move] = requestUpdates();
    expect(move.ExpressionAttributeValues).toMatchObject({ ':from': 'received', ':to': 'expired' });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: `NOTE#alert:expired:${REQ}` }),
    });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { TopicArn: ALERT_TOPIC });
    expect(sentTo('events')).toEqual([
      { type: 'request_closed', requestId: REQ, at: expect.any(String) },
    ]);
  });

  it('a window end for a request already matched changes nothing', async () => {
    givenRequest(aRequest({ status: 'matched' }));
    await handleTimer(
      sqsEvent(sqsRecord({ type: 'window_end', requestId: REQ, at: new Date(0).toISOString() })),
      ctx,
    );
    expect(requestUpdates()).toEqual([]);
    expect(sns).not.toHaveReceivedAnyCommand();
    expect(sentTo('events')).toEqual([]);
  });
});
