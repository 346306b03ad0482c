import '../fixtures/env.ts';
import { PublishBatchCommand, PublishCommand } from '@aws-sdk/client-sns';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as matchRequest } from '../../functions/match-request.ts';
import { notify } from '../../shared/adapters/notification-topic.ts';
import type { NotifyMessage } from '../../shared/schemas/messages.ts';
import { ddb, givenRequest, published, resetAws, sentTo, sns } from '../fixtures/aws.ts';
import { NOTIFICATION_TOPIC } from '../fixtures/env.ts';
import { lambdaContext, sqsEvent, sqsRecord } from '../fixtures/events.ts';
import { aRequest, aVolunteer, REQ, VOL, volunteerItem } from '../fixtures/items.ts';

beforeEach(resetAws);

const event = (n: number, extra: Partial<NotifyMessage> = {}): NotifyMessage => ({
  notificationId: `offer:off_${n}`,
  to: { kind: 'volunteer', volunteerId: `vol_${n}` },
  template: 'offer',
  params: { n },
  requestId: REQ,
  ...extra,
});

const str = (StringValue: string) => ({ DataType: 'String', StringValue });

describe('notify.publish', () => {
  it('publishes the event, as the consumer parses it, to the notifications topic with its attributes', async () => {
    const e = event(1, { channel: 'sms', to: { kind: 'requester', requestId: REQ } });
    await notify.publish(e);

    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      TopicArn: NOTIFICATION_TOPIC,
      Message: JSON.stringify(e),
      MessageAttributes: {
        channel: str('sms'),
        kind: str('requester'),
        template: str('offer'),
      },
    });
    expect(published()).toEqual([e]);
    expect(sentTo('notify')).toEqual([]);
  });

  it('gives channel as the consumer will read it: auto when the event leaves it out', async () => {
    await notify.publish(event(1));
    const input = sns.commandCalls(PublishCommand)[0].args[0].input;
    expect(input.MessageAttributes?.channel).toEqual(str('auto'));
    expect(input.MessageAttributes?.kind).toEqual(str('volunteer'));
  });
});

describe('notify.publishAll', () => {
  it('publishes in batches of ten, every event once, in order', async () => {
    const events = Array.from({ length: 23 }, (_, i) => event(i));
    await notify.publishAll(events);

    const batches = sns.commandCalls(PublishBatchCommand).map((c) => c.args[0].input);
    expect(batches.map((b) => b.PublishBatchRequestEntries?.length)).toEqual([10, 10, 3]);
    for (const b of batches) {
      expect(b.TopicArn).toBe(NOTIFICATION_TOPIC);
      const ids = b.PublishBatchRequestEntries!.map((x) => x.Id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect(published()).toEqual(events);
    expect(batches[0].PublishBatchRequestEntries![0].MessageAttributes).toEqual({
      channel: str('auto'),
      kind: str('volunteer'),
      template: str('offer'),
    });
  });

  it('publishes nothing for no events', async () => {
    await notify.publishAll([]);
    expect(sns).not.toHaveReceivedAnyCommand();
  });

  it('throws when any entry failed, after the batch, so the caller is retried', async () => {
    sns.on(PublishBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'm-0' }],
      Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false, Message: 'try again' }],
    });
    await expect(notify.publishAll([event(0), event(1)])).rejects.toThrow(
      /1 of 2 notifications not published: InternalError/,
    );
  });

  it('stops at the first failed batch: later events wait for the retry', async () => {
    sns.on(PublishBatchCommand).rejects(new Error('throttled'));
    await expect(notify.publishAll(Array.from({ length: 12 }, (_, i) => event(i)))).rejects.toThrow(
      'throttled',
    );
    expect(sns).toHaveReceivedCommandTimes(PublishBatchCommand, 1);
  });
});

describe('producers publish through the topic', () => {
  /** A received request and one volunteer available in its community. */
  const volunteerAvailable = () => {
    givenRequest(aRequest());
    ddb
      .on(QueryCommand, {
        IndexName: 'avail',
        ExpressionAttributeValues: { ':pk': 'AVAIL#east-garden' },
      })
      .resolves({ Items: [volunteerItem(aVolunteer())] });
  };

  it('match-request publishes the offer to the topic, never to the notify queue', async () => {
    volunteerAvailable();

    const out = await matchRequest(sqsEvent(sqsRecord({ requestId: REQ })), lambdaContext());

    expect(out.batchItemFailures).toEqual([]);
    expect(published()).toEqual([
      expect.objectContaining({ to: { kind: 'volunteer', volunteerId: VOL }, template: 'offer' }),
    ]);
    expect(sentTo('notify')).toEqual([]);
  });

  it('match-request reports the record failed when the topic refuses an entry, so SQS retries it', async () => {
    volunteerAvailable();
    sns.on(PublishBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '0', Code: 'KMSThrottling', SenderFault: false }],
    });

    const out = await matchRequest(
      sqsEvent(sqsRecord({ requestId: REQ }, { messageId: 'm-offer' })),
      lambdaContext(),
    );

    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-offer' }]);
  });
});
