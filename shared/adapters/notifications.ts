import { PublishCommand } from '@aws-sdk/client-sns';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import { sns } from '../clients/sns.ts';
import { alertTopicArn } from '../config.ts';
import { epochSeconds, isConditionFailure, keys, table } from './table.ts';

/** How a message reaches a person: SMS to a phone number, or push to a platform endpoint. */
export type Delivery = { channel: 'sms'; phone: string } | { channel: 'push'; endpoint: string };

/** The one interface every notification goes through. */
export interface Sender {
  send(delivery: Delivery, text: string): Promise<void>;
}

export const snsSender: Sender = {
  async send(delivery, text) {
    if (delivery.channel === 'sms') {
      await sns.send(
        new PublishCommand({
          PhoneNumber: delivery.phone,
          Message: text,
          MessageAttributes: {
            'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
          },
        }),
      );
    } else {
      await sns.send(new PublishCommand({ TargetArn: delivery.endpoint, Message: text }));
    }
  },
};

/**
 * Guards a send with its own marker, written before Publish: the same notification id
 * never goes out twice, even when its queue message is delivered twice. If Publish
 * fails the marker is removed so the retry sends it. A crash between Publish and the
 * end leaves the marker: at most once, never twice.
 */
export async function sendOnce(
  notificationId: string,
  send: () => Promise<void>,
  now: Date,
): Promise<'sent' | 'duplicate'> {
  const key = keys.notification(notificationId);
  try {
    await documents.send(
      new PutCommand({
        TableName: table(),
        Item: {
          ...key,
          type: 'notification',
          at: now.toISOString(),
          expiresAtEpoch: epochSeconds(now) + 7 * 86400,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (e) {
    if (isConditionFailure(e)) return 'duplicate';
    throw e;
  }
  try {
    await send();
  } catch (e) {
    await documents.send(new DeleteCommand({ TableName: table(), Key: key }));
    throw e;
  }
  return 'sent';
}

/** Tells district ops something needs a person (manual dispatch, an expired request). */
export async function alertOps(subject: string, message: string): Promise<void> {
  const TopicArn = alertTopicArn();
  if (!TopicArn) throw new Error('ALERT_TOPIC_ARN is not set');
  await sns.send(new PublishCommand({ TopicArn, Subject: subject.slice(0, 99), Message: message }));
}
