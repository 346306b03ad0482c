import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { z } from 'zod';
import {
  alertOps,
  type Delivery,
  districtSender,
  type Sender,
  sendOnce,
} from '../adapters/notifications.ts';
import { requests } from '../adapters/requests.ts';
import { hourOf, reserveSms } from '../adapters/sms-budget.ts';
import { volunteers } from '../adapters/volunteers.ts';
import type { Language } from '../district.ts';
import { renderText } from '../domain/texts.ts';
import { inQuietHours, type QuietHours } from '../domain/volunteer.ts';
import { logger, maskPhone, metrics } from '../observability.ts';
import type { notifyMessage } from '../schemas/messages.ts';
import { districtView } from './context.ts';

type Notification = z.output<typeof notifyMessage>;

export type Outcome = 'sent' | 'duplicate' | 'skipped';

/** Who a notification is for, and how they may be reached. */
interface Recipient {
  phone: string;
  pushEndpoint?: string;
  language: Language;
  smsOptOut?: boolean;
  quietHours?: QuietHours;
}

/**
 * Who gets it, read eventually consistent (half the read units): the recipient was
 * written long before anything is sent to them; a read that finds nobody yet is
 * repeated strongly, so nobody is skipped for a lagging replica. `strong` reads the
 * volunteer strongly at once (an SMS decision: opt-out and quiet hours just changed must hold).
 */
async function recipientOf(
  n: Notification,
  language: Language,
  strong = false,
): Promise<Recipient | undefined> {
  if (n.to.kind === 'phone') return { phone: n.to.phone, language };
  if (n.to.kind === 'requester') {
    const { requestId } = n.to;
    const request =
      (await requests.get(requestId, { consistent: false })) ?? (await requests.get(requestId));
    return request && { phone: request.requester.phone, language };
  }
  const { volunteerId } = n.to;
  const v =
    (strong ? undefined : await volunteers.get(volunteerId, { consistent: false })) ??
    (await volunteers.get(volunteerId));
  return (
    v && {
      phone: v.phone,
      pushEndpoint: v.pushEndpoint,
      language: v.language ?? language,
      smsOptOut: v.smsOptOut,
      quietHours: v.quietHours,
    }
  );
}

/** SNS answers a Publish to a disabled platform endpoint (uninstalled app, expired token) so. */
const isEndpointDisabled = (e: unknown) =>
  e instanceof Error && (e.name === 'EndpointDisabledException' || e.name === 'EndpointDisabled');

class OverCap extends Error {
  constructor(readonly cap: 'request' | 'hour') {
    super(`SMS cap per ${cap} reached`);
    this.name = 'OverCap';
  }
}

function count(name: string) {
  metrics.addMetric(name, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}

/**
 * Sends one notification, once, however often its message arrives. Push first: a
 * volunteer with a push endpoint gets push; SMS when there is none, when SNS says the
 * endpoint is disabled, or when asked (`channel: sms`, an urgent offer still open). No
 * SMS to a volunteer who opted out or is in their quiet hours, and none over the
 * district's caps per request and per hour (then push if there is an endpoint, else
 * nothing, and ops are alerted once per hour). Each channel's send is guarded by its
 * own marker written before Publish: `<id>:push` for push, `<smsKey or id>` for SMS.
 */
export async function deliverNotification(
  n: Notification,
  now: Date,
  sender: Sender = districtSender(),
): Promise<Outcome> {
  const { district } = districtView();
  const { language, utcOffsetMinutes, templates } = district.notifications;
  const to = await recipientOf(n, language);
  const log = (outcome: Outcome, channel: string, reason?: string) => {
    logger.info('notification', {
      notificationId: n.notificationId,
      channel,
      to: channel === 'sms' && to ? maskPhone(to.phone) : channel,
      outcome,
      reason,
    });
    return outcome;
  };
  if (!to) return log('skipped', 'none', 'no recipient');
  const text = (via: Delivery['channel']) =>
    renderText(n.template, { ...n.params, via }, to.language, templates);

  const push = async (): Promise<Outcome | 'disabled'> => {
    const delivery: Delivery = { channel: 'push', endpoint: to.pushEndpoint! };
    try {
      const outcome = await sendOnce(
        `${n.notificationId}:push`,
        () => sender.send(delivery, text('push')),
        now,
      );
      if (outcome === 'sent') count('PushSent');
      return log(outcome, 'push');
    } catch (e) {
      // The marker was removed: a redelivery tries push again, then the SMS marker holds.
      if (isEndpointDisabled(e)) return 'disabled';
      throw e;
    }
  };

  if (to.pushEndpoint && n.channel !== 'sms') {
    const outcome = await push();
    if (outcome !== 'disabled') return outcome;
    logger.info('push endpoint disabled: SMS instead', { notificationId: n.notificationId });
  }
  if (n.channel === 'push-only') return log('skipped', 'sms', 'push-only');
  // An SMS to a volunteer: their opt-out and quiet hours read strongly, not from a replica
  // that may not have their last change yet ("opted out gets none").
  const sms = n.to.kind === 'volunteer' && !n.reply ? await recipientOf(n, language, true) : to;
  if (!sms) return log('skipped', 'none', 'no recipient');
  if (n.to.kind === 'volunteer' && sms.smsOptOut && !n.reply) {
    return log('skipped', 'sms', 'opted out');
  }
  if (
    n.to.kind === 'volunteer' &&
    !n.reply &&
    inQuietHours(sms.quietHours, now, utcOffsetMinutes)
  ) {
    return log('skipped', 'sms', 'quiet hours');
  }

  const delivery: Delivery = { channel: 'sms', phone: sms.phone };
  try {
    const outcome = await sendOnce(
      n.smsKey ?? n.notificationId,
      async () => {
        const reservation = await reserveSms(n.requestId, district.sms, now);
        if (!reservation.ok) throw new OverCap(reservation.cap);
        try {
          await sender.send(delivery, text('sms'));
        } catch (e) {
          await reservation.release();
          throw e;
        }
      },
      now,
    );
    if (outcome === 'sent') count('SmsSent');
    return log(outcome, 'sms');
  } catch (e) {
    if (!(e instanceof OverCap)) throw e;
    count('SmsOverCap');
    if (e.cap === 'hour') await alertSmsCap(now, district.sms.maxPerHour);
    // Push is free: use it when there is an endpoint this message did not use yet.
    if (to.pushEndpoint && n.channel === 'sms') {
      const outcome = await push();
      if (outcome !== 'disabled') return outcome;
    }
    return log('skipped', 'sms', `over the SMS cap per ${e.cap}`);
  }
}

/** Tells ops once per hour that the district's SMS cap stopped messages. */
async function alertSmsCap(now: Date, cap: number): Promise<void> {
  const hour = hourOf(now);
  await sendOnce(
    `alert:sms-cap:${hour}`,
    () =>
      alertOps(
        `短信已达每小时上限 ${hour}`,
        `本区本小时已发送${cap}条短信，达到上限（sms.maxPerHour）。之后的短信改为推送或不发送，请关注未接单求助并视情况人工派单。`,
      ),
    now,
  );
}
