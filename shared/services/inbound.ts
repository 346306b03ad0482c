import { notify } from '../adapters/notification-topic.ts';
import { type ReplyTarget, replyCodes } from '../adapters/reply-codes.ts';
import { requests } from '../adapters/requests.ts';
import { AppError } from '../errors.ts';
import { offerIdOf } from '../ids.ts';
import { logger, maskPhone } from '../observability.ts';
import type { InboundSms, NotifyMessage } from '../schemas/messages.ts';
import { confirmRequest } from './lifecycle.ts';
import { acceptOffer, declineOffer } from './slots.ts';

/** `1 K7PQ` accept, `0 K7PQ` decline, `9 K7PQ` goods received; full-width digits and letters too. */
export function parseReply(text: string): { action: '1' | '0' | '9'; code: string } | undefined {
  const plain = text
    .normalize('NFKC')
    .replace(/[“”"'‘’。.，,]/g, ' ')
    .trim();
  const m = /^([019])\s*([A-Za-z0-9]{4})$/.exec(plain);
  return m ? { action: m[1] as '1' | '0' | '9', code: m[2].toUpperCase() } : undefined;
}

/** Why a reply could not be applied, in the words a volunteer or resident reads. */
const REASONS: Record<string, string> = {
  offer_taken: '已被他人接单',
  offer_expired: '已过期或已取消',
  at_capacity: '您的任务已满',
  offer_accepted: '已接单，不能拒绝',
  not_delivered: '尚未送达',
  not_found: '编号无效',
  busy: '系统繁忙，请稍后再回复',
};

export type ReplyOutcome = 'accepted' | 'declined' | 'confirmed' | 'rejected' | 'unknown';

/**
 * A reply SMS. The code names an offer (sent to this phone) or a delivered request's
 * confirm; the action goes through the same services as the HTTP routes (acceptOffer,
 * declineOffer, confirmRequest as the request's partner), so the same rules and races
 * apply. The sender always gets an answer, once per inbound message.
 */
export async function handleReply(sms: InboundSms, now: Date): Promise<ReplyOutcome> {
  const from = sms.originationNumber;
  const parsed = parseReply(sms.messageBody);
  const target = parsed && (await replyCodes.find(parsed.code, from, now));
  const id = `reply:${sms.inboundMessageId}`;
  const answer = (m: Omit<NotifyMessage, 'notificationId' | 'channel' | 'reply'>) =>
    notify.publish({ ...m, notificationId: id, channel: 'sms', reply: true });

  if (!parsed || !target || !fits(parsed.action, target)) {
    logger.info('reply not understood', { from: maskPhone(from), parsed: Boolean(parsed) });
    await answer({ to: { kind: 'phone', phone: from }, template: 'reply_unknown', params: {} });
    return 'unknown';
  }
  const { code } = parsed;
  try {
    if (target.kind === 'offer') {
      const offerId = offerIdOf(target.requestId, target.volunteerId);
      const to = { kind: 'volunteer' as const, volunteerId: target.volunteerId };
      if (parsed.action === '1') {
        const task = await acceptOffer(offerId, target.volunteerId, now);
        await answer({
          to,
          template: 'reply_accepted',
          params: { address: task.address, name: task.requester.name, phone: task.requester.phone },
          requestId: target.requestId,
        });
        return 'accepted';
      }
      await declineOffer(offerId, target.volunteerId, now);
      await answer({ to, template: 'reply_declined', params: {}, requestId: target.requestId });
      return 'declined';
    }
    const request = await requests.get(target.requestId);
    if (!request) throw new AppError(404, 'not_found', 'request not found');
    await confirmRequest({ kind: 'partner', id: request.partnerId }, target.requestId, now);
    await answer({
      to: { kind: 'requester', requestId: target.requestId },
      template: 'reply_confirmed',
      params: {},
      requestId: target.requestId,
    });
    return 'confirmed';
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    logger.info('reply rejected', { code: e.code, kind: target.kind });
    await answer({
      to:
        target.kind === 'offer'
          ? { kind: 'volunteer', volunteerId: target.volunteerId }
          : { kind: 'requester', requestId: target.requestId },
      template: 'reply_rejected',
      params: { code, reason: REASONS[e.code] ?? REASONS.not_found },
      requestId: target.requestId,
    });
    return 'rejected';
  }
}

const fits = (action: '1' | '0' | '9', target: ReplyTarget) =>
  target.kind === 'offer' ? action !== '9' : action === '9';
