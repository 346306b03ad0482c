import { createHash } from 'node:crypto';
import { PublishCommand } from '@aws-sdk/client-sns';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import { sns } from '../clients/sns.ts';
import { alertTopicArn } from '../config.ts';
import { epochSeconds, isConditionFailure, keys, table, undoPersistently } from './table.ts';

/**
 * How a message reaches a person: SMS to a phone number, or push to a platform endpoint.
 * A push carries its notification id, which the device collapses repeats by.
 */
export type Delivery =
  | { channel: 'sms'; phone: string }
  | { channel: 'push'; endpoint: string; notificationId: string };

/** The one interface every notification goes through. */
export interface Sender {
  send(delivery: Delivery, text: string): Promise<void>;
}

function smsAttributes() {
  const attributes: Record<string, { DataType: string; StringValue: string }> = {
    'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
  };
  if (process.env.SMS_SENDER_ID) {
    attributes['AWS.SNS.SMS.SenderID'] = {
      DataType: 'String',
      StringValue: process.env.SMS_SENDER_ID,
    };
  }
  if (process.env.SMS_ORIGINATION_NUMBER) {
    attributes['AWS.MM.SMS.OriginationNumber'] = {
      DataType: 'String',
      StringValue: process.env.SMS_ORIGINATION_NUMBER,
    };
  }
  return attributes;
}

/** APNs takes a collapse id of at most 64 bytes; ours are shorter, a longer one is hashed. */
export const collapseIdOf = (notificationId: string) =>
  Buffer.byteLength(notificationId) <= 64
    ? notificationId
    : createHash('sha256').update(notificationId).digest('hex');

/**
 * A push, built so that the device shows a repeat of the same notification once: push goes
 * out without a marker (at least once), and a redelivered notify message publishes it again.
 * - APNs: the `apns-collapse-id` header, which SNS sets from the reserved message attribute
 *   `AWS.SNS.MOBILE.APNS.COLLAPSE_ID` ("Reserved message attributes for mobile push",
 *   https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html).
 * - FCM (SNS `GCM` key, HTTP v1 payload, https://docs.aws.amazon.com/sns/latest/dg/sns-fcm-v1-payloads.html):
 *   `android.notification.tag`, which replaces a notification with the same tag in the
 *   drawer (AndroidNotification.tag, https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages),
 *   and `apns-collapse-id` for iOS apps on FCM. Not `collapse_key`: FCM keeps at most four
 *   collapse keys per device while it is offline and drops the others without saying which
 *   (collapseKey, https://firebase.google.com/docs/reference/admin/node/firebase-admin.messaging.messagingoptions),
 *   so a key per notification could lose an offer to a phone that was off for a while.
 * `default` is the text, as a plain-string Publish sent before; `data.notificationId` lets
 * the app tell repeats apart itself. One payload for every platform, per
 * https://docs.aws.amazon.com/sns/latest/dg/mobile-push-send-custommessage.html.
 */
export function pushPublish(endpoint: string, notificationId: string, text: string) {
  const collapseId = collapseIdOf(notificationId);
  const apns = JSON.stringify({ aps: { alert: text }, notificationId });
  const fcm = JSON.stringify({
    fcmV1Message: {
      message: {
        notification: { body: text },
        data: { notificationId },
        android: { notification: { tag: collapseId } },
        apns: { headers: { 'apns-collapse-id': collapseId } },
      },
    },
  });
  return new PublishCommand({
    TargetArn: endpoint,
    MessageStructure: 'json',
    Message: JSON.stringify({ default: text, APNS: apns, APNS_SANDBOX: apns, GCM: fcm }),
    MessageAttributes: {
      'AWS.SNS.MOBILE.APNS.COLLAPSE_ID': { DataType: 'String', StringValue: collapseId },
    },
  });
}

/** SMS through SNS Publish to a phone number; push through Publish to a platform endpoint. */
export const snsSender: Sender = {
  async send(delivery, text) {
    if (delivery.channel === 'sms') {
      await sns.send(
        new PublishCommand({
          PhoneNumber: delivery.phone,
          Message: text,
          MessageAttributes: smsAttributes(),
        }),
      );
    } else {
      await sns.send(pushPublish(delivery.endpoint, delivery.notificationId, text));
    }
  },
};

/**
 * SMS through a domestic provider's HTTPS endpoint, for regions without SNS SMS (China).
 * The provider gets `{to, text}` as JSON, unsigned and without credentials (a provider that
 * wants signed calls needs an adapter here); anything but a 2xx is a failure to retry.
 * There is no push in such a district (no SNS mobile push, and the notifier may publish
 * only to the alert topic): the notifier never asks for one (`pushAvailable`), and a push
 * asked for anyway fails here, before any SNS call.
 */
export const httpsSmsSender = (endpoint: string): Sender => ({
  async send(delivery, text) {
    if (delivery.channel !== 'sms') {
      throw new Error('no push in a district whose SMS provider is https (no SNS mobile push)');
    }
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: delivery.phone, text }),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`SMS provider answered ${res.status}`);
  },
});

/** The district's sender: SNS, or the HTTPS provider where SNS SMS is not offered. */
export function districtSender(): Sender {
  if (process.env.SMS_PROVIDER !== 'https') return snsSender;
  const endpoint = process.env.SMS_HTTPS_ENDPOINT;
  // Never SNS instead: this function may not publish SMS through SNS, and the region may not offer it.
  if (!endpoint) throw new Error('SMS_PROVIDER is https but SMS_HTTPS_ENDPOINT is not set');
  return httpsSmsSender(endpoint);
}

/**
 * Guards a send with its own marker, written before Publish: the same notification id
 * never goes out twice, even when its queue message is delivered twice. If Publish
 * fails the marker is removed so the retry sends it. A crash between Publish and the
 * end leaves the marker: at most once, never twice. For SMS (each one costs money and
 * a repeat reaches the person twice) and ops alerts; an SMS of a request is marked in the
 * request's SMS counter instead, in the write that counts it (`reserveSms`). Push goes
 * without one (at least once, collapsed on the device: `pushPublish`).
 */
export async function sendOnce(
  notificationId: string,
  send: () => Promise<unknown>,
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
    await undoPersistently(() =>
      documents.send(new DeleteCommand({ TableName: table(), Key: key })),
    );
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
