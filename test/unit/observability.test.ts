/**
 * Errors in logs: whoever logs an error, phone numbers its message, stack, properties or
 * cause quote are masked before the line is written (SNS quotes the number it refuses).
 * The real logger, its output captured from stdout and stderr.
 */
import '../fixtures/env.ts';
import { Logger } from '@aws-lambda-powertools/logger';
import { InvalidParameterException, PublishCommand } from '@aws-sdk/client-sns';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as sendNotification } from '../../functions/send-notification.ts';
import { logger, maskPhones } from '../../shared/observability.ts';
import { resetAws, sns } from '../fixtures/aws.ts';
import { lambdaContext, sqsEvent, sqsRecord } from '../fixtures/events.ts';

const PHONE = '+8613700137777';
const MASKED = '+86137****7777';
const snsRefusal = () =>
  new InvalidParameterException({
    message: `Invalid parameter: PhoneNumber Reason: ${PHONE} is not valid to publish to`,
    $metadata: { httpStatusCode: 400 },
  });

let lines: string[] = [];
const originals = { out: process.stdout.write, err: process.stderr.write };
const tap = ((chunk: unknown) => {
  lines.push(String(chunk));
  return true;
}) as typeof process.stdout.write;

beforeEach(() => {
  resetAws();
  lines = [];
  // INFO goes to stdout, WARN and ERROR to stderr.
  process.stdout.write = tap;
  process.stderr.write = tap;
  logger.setLogLevel('INFO');
});
afterEach(() => {
  process.stdout.write = originals.out;
  process.stderr.write = originals.err;
  logger.setLogLevel('SILENT');
});

const output = () => lines.join('');
const expectMasked = () => {
  const all = output();
  expect(all).toContain(MASKED);
  expect(all).not.toContain('13700137777');
};

describe('masking phone numbers in logged errors', () => {
  it('masks phone-like digit runs in any text, as maskPhone masks a number', () => {
    expect(maskPhones(`Reason: ${PHONE} is not valid`)).toBe(`Reason: ${MASKED} is not valid`);
    expect(maskPhones('13700137777 and 1234567, not 123456')).toBe(
      '137****7777 and ****, not 123456',
    );
    expect(maskPhones(maskPhones(PHONE))).toBe(MASKED);
  });

  it('leaves digit runs inside ids alone: a random id may hold seven digits in a row', () => {
    const ids = 'off_req_k7p26892338qa_vol_x, task tsk_ab1234567cd';
    expect(maskPhones(ids)).toBe(ids);
    expect(maskPhones(`"phone":"${PHONE}"`)).toBe(`"phone":"${MASKED}"`);
    expect(maskPhones(`tel:${PHONE}.`)).toBe(`tel:${MASKED}.`);
  });

  it('a record that fails with SNS refusing the number is logged (WARN) with the number masked', async () => {
    sns.on(PublishCommand).rejects(snsRefusal());
    const out = await sendNotification(
      sqsEvent(
        sqsRecord({
          notificationId: 'reply:in-1',
          to: { kind: 'phone', phone: PHONE },
          template: 'reply_unknown',
          channel: 'sms',
          reply: true,
        }),
      ),
      lambdaContext(),
    );

    expect(out.batchItemFailures).toHaveLength(1);
    const warn = lines.map((l) => JSON.parse(l)).find((l) => l.level === 'WARN');
    expect(warn).toMatchObject({
      message: 'record failed; SQS will retry it',
      error: {
        name: 'InvalidParameterException',
        message: `Invalid parameter: PhoneNumber Reason: ${MASKED} is not valid to publish to`,
      },
    });
    expect(warn.error.stack).toContain(MASKED);
    expectMasked();
  });

  it('masks the stack, the properties and a nested cause of an error given at any level', () => {
    const cause = snsRefusal();
    const error = Object.assign(new Error(`could not text ${PHONE}`, { cause }), {
      to: PHONE,
      attempt: { phone: PHONE, numbers: [PHONE] },
    });
    logger.error('direct', error);
    logger.warn('nested', { error, reason: new Error(`wrapped ${PHONE}`) });
    logger.info('plain cause', { error: new Error('x', { cause: `to ${PHONE}` }) });

    const [direct, nested, plain] = lines.map((l) => JSON.parse(l));
    expect(direct.error).toMatchObject({
      message: `could not text ${MASKED}`,
      to: MASKED,
      attempt: { phone: MASKED, numbers: [MASKED] },
      cause: { name: 'InvalidParameterException', message: expect.stringContaining(MASKED) },
    });
    expect(direct.error.cause.stack).toContain(MASKED);
    expect(nested.reason.message).toBe(`wrapped ${MASKED}`);
    expect(plain.error.cause).toBe(`to ${MASKED}`);
    expectMasked();
  });

  it('keeps Powertools’ default log structure', () => {
    const plain = new Logger({
      serviceName: 'volunteer-dispatch',
      persistentKeys: { district: process.env.DISTRICT_ID ?? 'local' },
    });
    plain.setLogLevel('INFO');
    const error = new Error('e', { cause: new Error('c') });
    logger.info('same', { requestId: 'req_1', error });
    plain.info('same', { requestId: 'req_1', error });
    const [ours, theirs] = lines.map((l) => ({ ...JSON.parse(l), timestamp: 0 }));
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    expect(ours).toEqual(theirs);
  });
});
