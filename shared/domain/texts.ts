import type { Kind } from '../district.ts';

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

type Params = Record<string, string | number>;

/**
 * Message texts, in Chinese, short enough for one 70-character SMS part. An offer never
 * carries the address or the requester: those are shown only after accept.
 */
const TEMPLATES: Record<string, (p: Params) => string> = {
  offer: (p) =>
    `【社区志愿】${p.community}有${p.kindLabel}求助，请在${p.minutes}分钟内打开应用接单。`,
  offer_withdrawn: (p) => `【社区志愿】${p.community}的${p.kindLabel}求助已满员，无需前往，谢谢！`,
  request_cancelled: (p) =>
    `【社区志愿】${p.community}的${p.kindLabel}求助已取消，无需前往，谢谢！`,
  volunteer_assigned: (p) =>
    `【社区志愿】您的求助已由志愿者${p.volunteerName}接单，将尽快为您送达。`,
  goods_at_door: () => '【社区志愿】物资已放在您家门口，请开门取物，收到后请告知社区确认。',
  task_assigned: (p) =>
    `【社区志愿】中心已为您派单：${p.community}${p.kindLabel}，请打开应用查看地址。`,
};

export function renderText(template: string, params: Params): string {
  const render = TEMPLATES[template];
  if (!render) throw new Error(`unknown template ${template}`);
  return render(params);
}
