/**
 * The local stack's outbox prints one line per SMS or push: the number masked, and the
 * text's personal data (the accepted-offer reply carries address, requester name and
 * phone) masked too; the outbox listing keeps the full text.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { Outbox, recordSnsDeliveries, textMasker } from '../../local/outbox.ts';
import { LANGUAGES, TEMPLATE_NAMES } from '../../shared/district.ts';
import { renderText } from '../../shared/domain/texts.ts';

const ADDRESS = '西湖社区翠柳苑7号楼3单元402';
const NAME = '赵奶奶';
const VOLUNTEER = '钱志愿';
const PHONE = '+8613700137777';
const PARAMS = {
  address: ADDRESS,
  name: NAME,
  phone: PHONE,
  volunteerName: VOLUNTEER,
  community: '西湖社区',
  kind: 'groceries',
  minutes: 10,
  code: 'K7PQ',
  reason: '已被他人接单',
};
const SECRETS = [ADDRESS, NAME, VOLUNTEER, '13700137777'];

describe('the outbox log line', () => {
  const mask = textMasker();

  it('masks the address, name and phone of an accepted-offer reply, in both languages', () => {
    expect(mask(renderText('reply_accepted', PARAMS))).toBe(
      `【社区志愿】接单成功：<address ${ADDRESS.length} chars>，联系人<name 3 chars> +86137****7777`,
    );
    expect(mask(renderText('reply_accepted', PARAMS, 'en'))).toBe(
      `[Vol] Accepted: <address ${ADDRESS.length} chars>, <name 3 chars> +86137****7777`,
    );
  });

  it.each(LANGUAGES)(
    'no template in %s shows personal data; the rest is shown as sent',
    (language) => {
      for (const template of TEMPLATE_NAMES) {
        for (const via of ['sms', 'push']) {
          const text = renderText(template, { ...PARAMS, via }, language);
          const shown = mask(text);
          for (const secret of SECRETS) expect(shown, `${template} ${via}`).not.toContain(secret);
          if (!SECRETS.some((s) => text.includes(s))) expect(shown).toBe(text);
        }
      }
    },
  );

  it("masks a district's own texts the same way", () => {
    const own = textMasker({ 'zh-CN': { reply_accepted: '请送到{address}，找{name}（{phone}）' } });
    const text = renderText('reply_accepted', PARAMS, 'zh-CN', {
      'zh-CN': { reply_accepted: '请送到{address}，找{name}（{phone}）' },
    });
    expect(own(text)).toBe(
      `请送到<address ${ADDRESS.length} chars>，找<name 3 chars>（+86137****7777）`,
    );
  });

  it('shows a text from no template only as its length', () => {
    expect(mask(`请到${ADDRESS}找${NAME}`)).toBe(
      `<text ${3 + ADDRESS.length + NAME.length} chars>`,
    );
  });

  it('is what the SNS middleware prints; the outbox keeps the full text', async () => {
    const sns = new SNSClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const outbox = new Outbox();
    const lines: string[] = [];
    const remove = recordSnsDeliveries(sns, outbox, (line) => lines.push(line));
    const text = renderText('reply_accepted', PARAMS);

    await sns.send(new PublishCommand({ PhoneNumber: '+8613900139999', Message: text }));
    remove();

    expect(lines).toEqual([`[outbox] sms to +86139****9999: ${mask(text)}`]);
    for (const secret of SECRETS) expect(lines[0]).not.toContain(secret);
    expect(outbox.list()).toEqual([expect.objectContaining({ message: text })]);
  });
});
