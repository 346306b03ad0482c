import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqs } from '../clients/sqs.ts';
import { queueUrl } from '../config.ts';
import type { QueueName } from '../resources.ts';
import type {
  CallbackMessage,
  InboundSms,
  MatchMessage,
  RequestEvent,
  TimerMessage,
} from '../schemas/messages.ts';

/**
 * The queues a function puts work on directly. Not `notify`: notifications are published
 * to the notifications topic (adapters/notification-topic.ts), which feeds that queue.
 */
type DirectQueue = Exclude<QueueName, 'notify'>;

interface Bodies {
  match: MatchMessage;
  events: RequestEvent;
  timers: TimerMessage;
  callbacks: CallbackMessage;
  inbound: InboundSms;
}

/** Puts work on a district queue. `delaySeconds` (max 900) is how timers are set. */
export async function enqueue<Q extends DirectQueue>(
  queue: Q,
  body: Bodies[Q],
  delaySeconds = 0,
): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl(queue),
      MessageBody: JSON.stringify(body),
      DelaySeconds: delaySeconds > 0 ? Math.min(900, Math.ceil(delaySeconds)) : undefined,
    }),
  );
}

/** Sends many messages, ten per call; throws if any entry failed so the caller retries. */
export async function enqueueAll<Q extends DirectQueue>(
  queue: Q,
  bodies: Bodies[Q][],
): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    const chunk = bodies.slice(i, i + 10);
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl(queue),
        Entries: chunk.map((b, j) => ({ Id: String(j), MessageBody: JSON.stringify(b) })),
      }),
    );
    if (out.Failed?.length) {
      throw new Error(`${out.Failed.length} messages to ${queue} failed: ${out.Failed[0].Code}`);
    }
  }
}
