import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { z } from 'zod/mini';
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
import { type Language, pushAvailable } from '../district.ts';
import { renderText } from '../domain/texts.ts';
import { inQuietHours, type QuietHours } from '../domain/volunteer.ts';
import { metrics } from '../metrics.ts';
import { logger, maskPhone } from '../observability.ts';
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
 * Sends one notification. Push first: a volunteer with a push endpoint gets push; SMS when
 * there is none, when SNS says the endpoint is disabled, or when asked (`channel: sms`, an
 * urgent offer still open). No SMS to a volunteer who opted out or is in their quiet
 * hours, and none over the district's caps per request and per hour (then push if there
 * is an endpoint, else nothing, and ops are alerted once per hour).
 *
 * SMS never twice: its marker (`<smsKey or id>`) is written before Publish, so a
 * redelivered message never sends a second SMS; for an SMS of a request the marker is its
 * id in the request's SMS counter, written with the count (`reserveSms`). Push at least
 * once, without a marker: a redelivery publishes it again, with the same collapse id (the
 * notification id), and the device shows it once (`pushPublish`). A push whose producer
 * carried the endpoint (`push`) needs no read of the volunteer at all.
 */
export async function deliverNotification(
  n: Notification,
  now: Date,
  sender: Sender = districtSender(),
): Promise<Outcome> {
  const { district } = districtView();
  const { language, utcOffsetMinutes, templates } = district.notifications;
  const log = (outcome: Outcome, channel: string, reason?: string, phone?: string) => {
    logger.info('notification', {
      notificationId: n.notificationId,
      channel,
      to: phone ? maskPhone(phone) : channel,
      outcome,
      reason,
    });
    return outcome;
  };
  const text = (via: Delivery['channel'], lang: Language) =>
    renderText(n.template, { ...n.params, via }, lang, templates);

  // No push where SMS goes through an HTTPS provider (China regions: no SNS mobile push, and
  // this function may publish only to the alert topic). A volunteer who has an endpoint
  // anyway (registered before endpoints were refused there) is reached as one without: push
  // is never tried, SMS is the fallback, as for a disabled endpoint.
  const pushOn = pushAvailable(district);
  let ignoredEndpoint = false;
  const reach = async (strong = false): Promise<Recipient | undefined> => {
    const r = await recipientOf(n, language, strong);
    if (pushOn || !r?.pushEndpoint) return r;
    if (!ignoredEndpoint) {
      ignoredEndpoint = true;
      logger.info('push endpoint ignored, no push in this district: SMS instead', {
        notificationId: n.notificationId,
      });
    }
    return { ...r, pushEndpoint: undefined };
  };

  /** One push, no marker; 'disabled' when SNS says the endpoint no longer works. */
  const push = async (endpoint: string, lang: Language): Promise<Outcome | 'disabled'> => {
    const delivery: Delivery = { channel: 'push', endpoint, notificationId: n.notificationId };
    try {
      await sender.send(delivery, text('push', lang));
    } catch (e) {
      if (isEndpointDisabled(e)) return 'disabled';
      throw e;
    }
    count('PushSent');
    return log('sent', 'push');
  };

  // The recipient as read (eventually consistent) when push needed the read; reused for
  // an SMS that needs no strong read (requesters, unknown numbers, replies).
  let to: Recipient | undefined;
  let disabled: string | undefined;
  if (n.channel !== 'sms') {
    const carried = n.to.kind === 'volunteer' && pushOn ? n.push : undefined;
    if (carried) {
      const outcome = await push(carried.endpoint, carried.language ?? language);
      if (outcome !== 'disabled') return outcome;
      disabled = carried.endpoint;
    } else {
      to = await reach();
      if (!to) return log('skipped', 'none', 'no recipient');
      if (to.pushEndpoint) {
        const outcome = await push(to.pushEndpoint, to.language);
        if (outcome !== 'disabled') return outcome;
        disabled = to.pushEndpoint;
      }
    }
    if (disabled) {
      logger.info('push endpoint disabled: SMS instead', { notificationId: n.notificationId });
    }
  }

  if (n.channel === 'push-only' && !disabled) return log('skipped', 'sms', 'push-only');
  // An SMS to a volunteer: their opt-out and quiet hours read strongly, not from a replica
  // that may not have their last change yet ("opted out gets none").
  const strong = n.to.kind === 'volunteer' && !n.reply;
  const sms = strong ? await reach(true) : (to ?? (await reach()));
  if (!sms) return log('skipped', 'none', 'no recipient');
  // The endpoint carried by the producer was disabled, but the volunteer has registered
  // another since (a new phone): push there rather than pay for an SMS.
  if (disabled && sms.pushEndpoint && sms.pushEndpoint !== disabled) {
    const outcome = await push(sms.pushEndpoint, sms.language);
    if (outcome !== 'disabled') return outcome;
  }
  if (n.channel === 'push-only') return log('skipped', 'sms', 'push-only');
  if (strong && sms.smsOptOut) return log('skipped', 'sms', 'opted out');
  if (strong && inQuietHours(sms.quietHours, now, utcOffsetMinutes)) {
    return log('skipped', 'sms', 'quiet hours');
  }

  const delivery: Delivery = { channel: 'sms', phone: sms.phone };
  const smsId = n.smsKey ?? n.notificationId;
  const publish = async (): Promise<'sent' | 'duplicate'> => {
    const reservation = await reserveSms({ id: smsId, requestId: n.requestId }, district.sms, now);
    if ('duplicate' in reservation) return 'duplicate';
    if (!reservation.ok) throw new OverCap(reservation.cap);
    try {
      await sender.send(delivery, text('sms', sms.language));
    } catch (e) {
      await reservation.release();
      throw e;
    }
    return 'sent';
  };
  try {
    // A request's SMS is marked in the request's SMS counter by its reservation (one
    // write); any other needs a marker of its own.
    const outcome = n.requestId ? await publish() : await sendOnce(smsId, publish, now);
    if (outcome === 'sent') count('SmsSent');
    return log(outcome, 'sms', undefined, sms.phone);
  } catch (e) {
    if (!(e instanceof OverCap)) throw e;
    count('SmsOverCap');
    if (e.cap === 'hour') await alertSmsCap(now, district.sms.maxPerHour);
    // Push is free: use it when there is an endpoint this message did not use yet.
    if (sms.pushEndpoint && n.channel === 'sms') {
      const outcome = await push(sms.pushEndpoint, sms.language);
      if (outcome !== 'disabled') return outcome;
    }
    return log('skipped', 'sms', `over the SMS cap per ${e.cap}`, sms.phone);
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
