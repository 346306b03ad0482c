import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { z } from 'zod/mini';
import { logger } from './observability.ts';

export interface RecordInfo {
  messageId: string;
  /** 1 on first delivery; more when SQS delivers the message again. */
  receiveCount: number;
}

/**
 * An SQS consumer that reports partial batch failures: each record is parsed with its
 * schema and handled alone; a failing record is retried by SQS (and lands in the DLQ
 * after the queue's max receive count) without retrying the others.
 */
export function queueConsumer<S extends z.ZodMiniType>(
  schema: S,
  handle: (body: z.output<S>, info: RecordInfo) => Promise<unknown>,
) {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord) => {
    const parsed = schema.safeParse(JSON.parse(record.body));
    if (!parsed.success) {
      // A malformed message will never succeed: fail it so it reaches the DLQ for ops.
      throw new Error(`message ${record.messageId} does not match its schema`);
    }
    try {
      await handle(parsed.data, {
        messageId: record.messageId,
        receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
      });
    } catch (error) {
      logger.warn('record failed; SQS will retry it', {
        messageId: record.messageId,
        error: error as Error,
      });
      throw error;
    }
  };
  const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    // Temporary log keys belong to one invocation (an HTTP route's keys must not show here).
    logger.resetKeys();
    return processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
    });
  };
  return { handler, processor };
}
