/**
 * SMS and push, recorded. fauxqs has no SMS or push delivery, so the local stack puts a
 * middleware on the shared SNS client (the one the handlers use) that answers a Publish
 * to a phone number or a platform endpoint itself: it records the message, prints one
 * line with the number and the text's personal data masked, and returns a MessageId as
 * SNS would. Publishes to a
 * topic go on to fauxqs untouched. The handlers' code is the same as in Lambda up to
 * the SDK call.
 */
import { randomUUID } from 'node:crypto';
import {
  EndpointDisabledException,
  InternalErrorException,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { LANGUAGES, TEMPLATE_NAMES } from '../shared/district.ts';
import { renderText, type TemplateOverrides } from '../shared/domain/texts.ts';
import { maskAddress, maskLength, maskPhone, maskPhones } from '../shared/masking.ts';

export type Channel = 'sms' | 'push';

export interface Notification {
  id: string;
  channel: Channel;
  /** The phone number (E.164) or the push endpoint ARN. */
  to: string;
  /** The text (for a push published with per-platform payloads, their `default`). */
  message: string;
  /** A push's per-platform payloads (`APNS`, `GCM`…), as SNS would hand them on. */
  payloads?: Record<string, string>;
  /** ISO 8601 time it was published. */
  at: string;
  messageAttributes?: Record<string, { DataType?: string; StringValue?: string }>;
}

/** Template parameters that are personal data, and how the outbox's log line shows them. */
const PERSONAL: Record<string, (value: string) => string> = {
  address: maskAddress,
  name: maskLength('name'),
  volunteerName: maskLength('name'),
  phone: (v) => (/^\+?\d{7,15}$/.test(v) ? maskPhone(v) : maskLength('phone')(v)),
};

/** Every parameter the templates show (`kindLabel` stands for the kind's label). */
const SHOWN = [
  'community',
  'kindLabel',
  'minutes',
  'code',
  'reason',
  'volunteerName',
  'address',
  'name',
  'phone',
];

/** A text's shape: literal parts (even indexes) and parameter names (odd), and its regex. */
interface TextShape {
  parts: string[];
  regex: RegExp;
}

/**
 * Each template the district sends (its own where it has one, else the built-in one), in
 * each language and form (SMS with a reply code, push, no code), as a shape.
 */
function textShapes(overrides: TemplateOverrides): TextShape[] {
  const marked = Object.fromEntries(SHOWN.map((name) => [name, `\uE000${name}\uE001`]));
  const { code: _, ...withoutCode } = marked;
  const forms = [{ ...marked, via: 'sms' }, { ...marked, via: 'push' }, withoutCode];
  const seen = new Set<string>();
  const shapes: TextShape[] = [];
  for (const language of LANGUAGES) {
    for (const template of TEMPLATE_NAMES) {
      for (const params of forms) {
        const rendered = renderText(template, params, language, overrides);
        if (seen.has(rendered)) continue;
        seen.add(rendered);
        const parts = rendered.split(/\uE000(\w+)\uE001/);
        const source = parts
          .map((p, i) => (i % 2 ? '([\\s\\S]*?)' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
          .join('');
        shapes.push({ parts, regex: new RegExp(`^${source}$`) });
      }
    }
  }
  return shapes;
}

/**
 * How the outbox's log line shows an SMS or push text: one rendered from a template with
 * the address, names and phone number it carries masked (`reply_accepted`: `接单成功：
 * <address 13 chars>，联系人<name 3 chars> +86138****8000`), the rest as sent; any other
 * text only as its length. `GET /local/outbox` keeps the full text.
 */
export function textMasker(overrides: TemplateOverrides = {}): (text: string) => string {
  let shapes: TextShape[] | undefined;
  return (text) => {
    shapes ??= textShapes(overrides);
    for (const { parts, regex } of shapes) {
      const found = regex.exec(text);
      if (!found) continue;
      return parts
        .map((part, i) => {
          if (i % 2 === 0) return part;
          const value = found[(i + 1) / 2];
          return (PERSONAL[part] ?? maskPhones)(value);
        })
        .join('');
    }
    return maskLength('text')(text);
  };
}

export class Outbox {
  private readonly items: Notification[] = [];
  private readonly failures: Record<Channel, number> = { sms: 0, push: 0 };
  private readonly disabled = new Set<string>();

  /** Every SMS and push recorded, oldest first; `to` and `channel` filter. */
  list(filter: { to?: string; channel?: Channel } = {}): Notification[] {
    return this.items.filter(
      (n) =>
        (!filter.to || n.to === filter.to) && (!filter.channel || n.channel === filter.channel),
    );
  }

  clear(): void {
    this.items.length = 0;
  }

  /**
   * Makes the next `n` publishes on `channel` fail as SNS would (InternalErrorException,
   * HTTP 500), without recording them. `failNext(0)` cancels.
   */
  failNext(n: number, channel: Channel = 'sms'): void {
    this.failures[channel] = n;
  }

  /**
   * Makes a push endpoint disabled, as SNS marks one whose app was uninstalled or whose
   * token expired: a Publish to it fails with EndpointDisabledException.
   */
  disableEndpoint(endpointArn: string): void {
    this.disabled.add(endpointArn);
  }

  /** @internal Called by the SNS middleware: throws if a failure is pending. */
  record(entry: Omit<Notification, 'id' | 'at'>): Notification {
    if (entry.channel === 'push' && this.disabled.has(entry.to)) {
      throw new EndpointDisabledException({
        message: 'Endpoint is disabled',
        $metadata: { httpStatusCode: 400 },
      });
    }
    if (this.failures[entry.channel] > 0) {
      this.failures[entry.channel] -= 1;
      throw new InternalErrorException({
        message: `local stack: ${entry.channel} publish failed on purpose (failNext)`,
        $metadata: { httpStatusCode: 500 },
      });
    }
    const notification: Notification = {
      id: randomUUID(),
      at: new Date().toISOString(),
      ...entry,
    };
    this.items.push(notification);
    return notification;
  }
}

const MIDDLEWARE_NAME = 'localStackOutbox';

interface PublishInput {
  PhoneNumber?: string;
  TargetArn?: string;
  Message?: string;
  MessageStructure?: string;
  MessageAttributes?: Notification['messageAttributes'];
}

/**
 * Adds the recording middleware to `sns` (replacing one added before). Returns a
 * function that removes it.
 */
export function recordSnsDeliveries(
  sns: SNSClient,
  outbox: Outbox,
  log: (line: string) => void,
  /** The district's own texts (`notifications.templates`), to mask the ones sent from them. */
  templates: TemplateOverrides = {},
): () => void {
  const maskText = textMasker(templates);
  sns.middlewareStack.remove(MIDDLEWARE_NAME);
  sns.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PublishCommand') return next(args);
      const input = args.input as PublishInput;
      const channel: Channel | undefined = input.PhoneNumber
        ? 'sms'
        : input.TargetArn
          ? 'push'
          : undefined;
      if (!channel) return next(args);
      const to = (channel === 'sms' ? input.PhoneNumber : input.TargetArn) ?? '';
      const shown = channel === 'sms' ? maskPhone(to) : to;
      // MessageStructure json: a payload per platform, `default` for the others (SNS's rule).
      const payloads =
        input.MessageStructure === 'json'
          ? (JSON.parse(input.Message ?? '{}') as Record<string, string>)
          : undefined;
      let n: Notification;
      try {
        n = outbox.record({
          channel,
          to,
          message: payloads ? (payloads.default ?? '') : (input.Message ?? ''),
          ...(payloads ? { payloads } : {}),
          messageAttributes: input.MessageAttributes,
        });
      } catch (error) {
        log(`[outbox] ${channel} to ${shown} FAILED (${(error as Error).name})`);
        throw error;
      }
      log(`[outbox] ${channel} to ${shown}: ${maskText(n.message)}`);
      return {
        output: { MessageId: n.id, $metadata: { httpStatusCode: 200, requestId: randomUUID() } },
        response: {},
      } as Awaited<ReturnType<typeof next>>;
    },
    { step: 'initialize', priority: 'high', name: MIDDLEWARE_NAME },
  );
  return () => {
    sns.middlewareStack.remove(MIDDLEWARE_NAME);
  };
}
