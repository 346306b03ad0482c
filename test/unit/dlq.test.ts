import '../fixtures/env.ts';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../scripts/dlq.ts';
import { resetAws, sqs } from '../fixtures/aws.ts';

const BASE = 'https://sqs.cn-north-1.amazonaws.com.cn/210987654321';
const EVENTS = `${BASE}/Dispatch-tongzhou-QueueeventsQueue1A2B3C4D-AbCdEfGhIjKl`;
const EVENTS_DLQ = `${BASE}/Dispatch-tongzhou-QueueeventsDlq5E6F7A8B-MnOpQrStUvWx`;

const attributes = (url: string, visible: number, inFlight: number, delayed = 0) =>
  sqs.on(GetQueueAttributesCommand, { QueueUrl: url }).resolves({
    Attributes: {
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
    },
  });

async function run(...argv: string[]) {
  const lines: string[] = [];
  const code = await main(argv, (line) => lines.push(line));
  return { code, lines };
}

beforeEach(resetAws);

describe('npm run dlq -- list', () => {
  const eventsPair = ['--queue-url', EVENTS, '--dlq-url', EVENTS_DLQ, '--region', 'cn-north-1'];

  it('shows the work queue’s depth beside its DLQ’s: a queue with messages in flight is not drained', async () => {
    attributes(EVENTS_DLQ, 0, 0);
    attributes(EVENTS, 2, 1, 3);

    const { code, lines } = await run('list', 'events', ...eventsPair);

    expect(code).toBe(0);
    expect(lines[0]).toMatch(
      /^events\s+0 waiting\s+0 in flight\s+Dispatch-tongzhou-QueueeventsDlq/,
    );
    expect(lines[0]).toMatch(
      /work queue 2 visible, 1 in flight, 3 delayed\s+Dispatch-tongzhou-QueueeventsQueue/,
    );
    expect(lines.at(-1)).toBe('not drained: events');
    expect(sqs).toHaveReceivedCommandWith(GetQueueAttributesCommand, {
      QueueUrl: EVENTS,
      AttributeNames: expect.arrayContaining([
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ]),
    });
  });

  it('says drained when the queue and its DLQ are both empty', async () => {
    attributes(EVENTS_DLQ, 0, 0);
    attributes(EVENTS, 0, 0, 0);
    const { lines } = await run('list', 'events', ...eventsPair);
    expect(lines.at(-1)).toBe('drained: every queue listed and its DLQ are empty');
  });

  it('a message left in the DLQ alone is not drained either', async () => {
    attributes(EVENTS_DLQ, 1, 0);
    attributes(EVENTS, 0, 0, 0);
    const { lines } = await run('list', 'events', ...eventsPair);
    expect(lines[0]).toMatch(/^events\s+1 waiting/);
    expect(lines.at(-1)).toBe('not drained: events');
  });

  it('with --prefix lists every queue, work queue and DLQ', async () => {
    sqs.on(GetQueueUrlCommand).callsFake(({ QueueName }) => ({ QueueUrl: `${BASE}/${QueueName}` }));
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    const { lines } = await run('list', '--prefix', 'local-demo', '--region', 'cn-north-1');
    expect(lines.filter((l) => /work queue 0 visible/.test(l))).toHaveLength(lines.length - 1);
    expect(lines.some((l) => l.endsWith('local-demo-events'))).toBe(true);
    expect(lines.at(-1)).toMatch(/^drained/);
  });

  it('an unknown queue name is a usage error', async () => {
    const { code } = await run('list', 'nowhere');
    expect(code).toBe(2);
  });
});
