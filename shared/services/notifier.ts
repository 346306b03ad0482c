import type { z } from 'zod';
import { type Delivery, districtSender, type Sender, sendOnce } from '../adapters/notifications.ts';
import { requests } from '../adapters/requests.ts';
import { volunteers } from '../adapters/volunteers.ts';
import { renderText } from '../domain/texts.ts';
import { logger, maskPhone } from '../observability.ts';
import type { notifyMessage } from '../schemas/messages.ts';

type Notification = z.output<typeof notifyMessage>;

/** Push when the volunteer has an endpoint, SMS otherwise; requesters get SMS. */
async function deliveryFor(n: Notification): Promise<Delivery | undefined> {
  if (n.to.kind === 'requester') {
    const request = await requests.get(n.to.requestId);
    return request && { channel: 'sms', phone: request.requester.phone };
  }
  const v = await volunteers.get(n.to.volunteerId);
  if (!v) return undefined;
  if (v.pushEndpoint && n.channel !== 'sms') return { channel: 'push', endpoint: v.pushEndpoint };
  if (n.channel === 'push-only') return undefined;
  return { channel: 'sms', phone: v.phone };
}

/** Sends one notification, once, however often its message arrives. */
export async function deliverNotification(
  n: Notification,
  now: Date,
  sender: Sender = districtSender(),
): Promise<'sent' | 'duplicate' | 'skipped'> {
  const delivery = await deliveryFor(n);
  if (!delivery) {
    logger.info('notification skipped: no channel', { notificationId: n.notificationId });
    return 'skipped';
  }
  const text = renderText(n.template, n.params);
  const outcome = await sendOnce(n.notificationId, () => sender.send(delivery, text), now);
  logger.info('notification', {
    notificationId: n.notificationId,
    channel: delivery.channel,
    to: delivery.channel === 'sms' ? maskPhone(delivery.phone) : 'push-endpoint',
    outcome,
  });
  return outcome;
}
