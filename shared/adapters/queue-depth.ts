import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** A queue's approximate message counts, as SQS reports them. */
export interface QueueDepth {
  /** Waiting to be received. */
  visible: number;
  /** Received and not yet deleted (being worked on, or about to come back). */
  inFlight: number;
  /** Sent with a delay that has not passed yet. */
  delayed: number;
}

/**
 * How many messages a queue holds, with the client given (ops tools and the local stack
 * bring their own; no function reads a queue's depth).
 */
export async function queueDepth(sqs: SQSClient, url: string): Promise<QueueDepth> {
  const { Attributes: a } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(a?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a?.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}
