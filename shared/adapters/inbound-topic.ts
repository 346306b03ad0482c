import { PublishCommand } from '@aws-sdk/client-sns';
import { sns } from '../clients/sns.ts';
import { inboundSmsTopicArn } from '../config.ts';
import type { InboundSms } from '../schemas/messages.ts';

/**
 * The district's inbound SMS topic, where replies to SMS arrive (End User Messaging SMS
 * publishes there on AWS; the provider webhook here). Its subscriber is the inbound queue
 * (raw delivery) → receive-sms, so the body is the InboundSms that consumer parses.
 */
export const inboundTopic = {
  async publish(sms: InboundSms): Promise<void> {
    await sns.send(
      new PublishCommand({ TopicArn: inboundSmsTopicArn(), Message: JSON.stringify(sms) }),
    );
  },
};
