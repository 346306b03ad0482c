import type { Kind, Language, TemplateName } from '../district.ts';

export const KIND_LABELS: Record<Kind, string> = {
  groceries: '代购生活物资',
  medicine: '代购药品',
  meal: '送餐',
  counseling: '心理疏导',
  site_duty: '核酸检测点值守',
  screening: '入户排查',
  disinfection: '消杀',
  escort: '陪同就医',
  haircut: '理发',
  other: '志愿服务',
};

const KIND_LABELS_EN: Record<Kind, string> = {
  groceries: 'groceries',
  medicine: 'medicine',
  meal: 'meal',
  counseling: 'hotline',
  site_duty: 'site duty',
  screening: 'screening',
  disinfection: 'disinfect',
  escort: 'escort',
  haircut: 'haircut',
  other: 'volunteer',
};

export type Params = Record<string, string | number>;

const kindLabel = (p: Params, labels: Record<Kind, string>) =>
  (typeof p.kind === 'string' && labels[p.kind as Kind]) || String(p.kindLabel ?? '');

/**
 * Message texts per language, each within one 70-character SMS part (UCS-2: community
 * names are Chinese, so English texts are sent as UCS-2 too) for community names of up
 * to 8 characters; only the accepted-offer reply, which carries the address, may be longer.
 * An offer never carries the address or the requester: those are shown only after
 * accept. An offer sent by SMS (`via: sms`) carries its reply code instead of "open
 * the app": the volunteer answers "1 CODE" to accept or "0 CODE" to decline.
 */
const TEMPLATES: Record<Language, Record<TemplateName, (p: Params) => string>> = {
  'zh-CN': {
    offer: (p) =>
      p.via === 'sms' && p.code
        ? `【社区志愿】${p.community}${kindLabel(p, KIND_LABELS)}求助，${p.minutes}分钟内回复“1 ${p.code}”接单，“0 ${p.code}”不接`
        : `【社区志愿】${p.community}有${kindLabel(p, KIND_LABELS)}求助，请在${p.minutes}分钟内打开应用接单。`,
    offer_withdrawn: (p) =>
      `【社区志愿】${p.community}的${kindLabel(p, KIND_LABELS)}求助已满员，无需前往，谢谢！`,
    request_cancelled: (p) =>
      `【社区志愿】${p.community}的${kindLabel(p, KIND_LABELS)}求助已取消，无需前往，谢谢！`,
    volunteer_assigned: (p) =>
      `【社区志愿】您的求助已由志愿者${p.volunteerName}接单，将尽快为您送达。`,
    goods_at_door: (p) =>
      p.code
        ? `【社区志愿】物资已放在您家门口，请开门取物，收到后请回复“9 ${p.code}”确认。`
        : '【社区志愿】物资已放在您家门口，请开门取物，收到后请告知社区确认。',
    task_assigned: (p) =>
      `【社区志愿】中心已为您派单：${p.community}${kindLabel(p, KIND_LABELS)}，请打开应用查看地址。`,
    reply_unknown: () =>
      '【社区志愿】未识别或已失效的回复。接单回“1 编号”，不接回“0 编号”，编号见短信。',
    reply_accepted: (p) => `【社区志愿】接单成功：${p.address}，联系人${p.name} ${p.phone}`,
    reply_declined: () => '【社区志愿】已收到，本单不接，谢谢！',
    reply_rejected: (p) => `【社区志愿】${p.code}无法处理：${p.reason}`,
    reply_confirmed: () => '【社区志愿】已确认收货，感谢您的反馈！',
  },
  en: {
    offer: (p) =>
      p.via === 'sms' && p.code
        ? `[Vol] ${kindLabel(p, KIND_LABELS_EN)}, ${p.community}: reply 1 ${p.code} to take, 0 ${p.code} to pass, ${p.minutes}min`
        : `[Vol] ${kindLabel(p, KIND_LABELS_EN)}, ${p.community}: open the app within ${p.minutes} min to take it`,
    offer_withdrawn: (p) =>
      `[Vol] ${kindLabel(p, KIND_LABELS_EN)}, ${p.community}: filled. No need to go, thanks!`,
    request_cancelled: (p) =>
      `[Vol] ${kindLabel(p, KIND_LABELS_EN)}, ${p.community}: cancelled. No need to go, thanks!`,
    volunteer_assigned: (p) => `[Vol] Volunteer ${p.volunteerName} took your request; coming soon.`,
    goods_at_door: (p) =>
      p.code
        ? `[Vol] Goods are at your door. Take them in, then reply 9 ${p.code}`
        : '[Vol] Goods are at your door. Take them in and tell your community.',
    task_assigned: (p) =>
      `[Vol] Assigned: ${kindLabel(p, KIND_LABELS_EN)}, ${p.community}. See the address in the app.`,
    reply_unknown: () => '[Vol] Unknown or stale reply. Send 1 CODE to take, 0 CODE to pass.',
    reply_accepted: (p) => `[Vol] Accepted: ${p.address}, ${p.name} ${p.phone}`,
    reply_declined: () => '[Vol] Declined. Thank you!',
    reply_rejected: (p) => `[Vol] ${p.code}: not possible (${p.reason})`,
    reply_confirmed: () => '[Vol] Thank you: receipt confirmed.',
  },
};

/** Per-district replacement texts: `{param}` placeholders filled from the event. */
export type TemplateOverrides = Partial<Record<Language, Partial<Record<TemplateName, string>>>>;

function fill(text: string, params: Params, language: Language): string {
  const labels = language === 'en' ? KIND_LABELS_EN : KIND_LABELS;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    if (name === 'kindLabel') return kindLabel(params, labels);
    const v = params[name];
    return v === undefined ? whole : String(v);
  });
}

export function renderText(
  template: string,
  params: Params,
  language: Language = 'zh-CN',
  overrides: TemplateOverrides = {},
): string {
  const override = overrides[language]?.[template as TemplateName];
  if (override) return fill(override, params, language);
  const render = TEMPLATES[language][template as TemplateName];
  if (!render) throw new Error(`unknown template ${template}`);
  return render(params);
}

/** Characters in one SMS part: 70 for texts with any non-GSM character (Chinese), else 160. */
export const smsPartLength = (text: string) =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the GSM-7 range starts at a control character
  /^[\x00-\x7f]*$/.test(text) ? 160 : 70;
