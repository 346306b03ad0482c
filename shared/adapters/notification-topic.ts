import {
  type MessageAttributeValue,
  PublishBatchCommand,
  PublishCommand,
} from '@aws-sdk/client-sns';
import { sns } from '../clients/sns.ts';
import { notificationTopicArn } from '../config.ts';
import { NOTIFICATION_TOPIC } from '../resources.ts';
import type { NotifyMessage } from '../schemas/messages.ts';

type Attribute = (typeof NOTIFICATION_TOPIC.attributes)[number];

/**
 * The attributes a subscriber may filter on. `channel` is given as the consumer will read
 * it (the schema's default `auto` when the producer left it out), so a filter policy on
 * `channel` sees every event.
 */
function attributesOf(event: NotifyMessage): Record<string, MessageAttributeValue> {
  const values: Record<Attribute, string> = {
    channel: event.channel ?? 'auto',
    kind: event.to.kind,
    template: event.template,
  };
  return Object.fromEntries(
    NOTIFICATION_TOPIC.attributes.map((name) => [
      name,
      { DataType: 'String', StringValue: values[name] },
    ]),
  );
}

/**
 * The one way a function asks for a person to be told something: a notification event
 * published to the district's notifications topic, whose subscribers (the notify queue →
 * send-notification) deliver it. The body is the NotifyMessage the consumer parses, as is
 * (the queue is subscribed with raw delivery). The same event published twice is sent
 * once: its notificationId is the consumer's send marker.
 */
export const notify = {
  async publish(event: NotifyMessage): Promise<void> {
    await sns.send(
      new PublishCommand({
        TopicArn: notificationTopicArn(),
        Message: JSON.stringify(event),
        MessageAttributes: attributesOf(event),
      }),
    );
  },

  /**
   * Publishes many events, ten per PublishBatch (SNS's limit). Throws if any entry failed,
   * so the SQS message that produced them is retried: the entries that did go out are
   * published again then, and deduplicated by their notificationId.
   */
  async publishAll(events: NotifyMessage[]): Promise<void> {
    const TopicArn = events.length > 0 ? notificationTopicArn() : '';
    for (let i = 0; i < events.length; i += 10) {
      const chunk = events.slice(i, i + 10);
      const out = await sns.send(
        new PublishBatchCommand({
          TopicArn,
          PublishBatchRequestEntries: chunk.map((e, j) => ({
            Id: String(j),
            Message: JSON.stringify(e),
            MessageAttributes: attributesOf(e),
          })),
        }),
      );
      if (out.Failed?.length) {
        const first = out.Failed[0];
        throw new Error(
          `${out.Failed.length} of ${chunk.length} notifications not published: ${first.Code} ${first.Message ?? ''}`.trim(),
        );
      }
    }
  },
};
