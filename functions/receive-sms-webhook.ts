import { smsProviderSecrets } from '#shared/adapters/sms-provider-secret.ts';
import { json } from '#shared/http/response.ts';
import { signedRoute } from '#shared/http/signed-route.ts';
import { smsReplyBody } from '#shared/schemas/sms-reply.ts';
import { forwardProviderReply } from '#shared/services/provider-reply.ts';

/**
 * POST /v1/sms/replies: the HTTPS SMS provider's reply webhook. Signed with the provider
 * secret; the reply goes to the inbound SMS topic and on to receive-sms, as replies from
 * End User Messaging SMS do. 202: accepted, answered by SMS later.
 */
export const handler = signedRoute(
  { body: smsReplyBody, signature: { secrets: () => smsProviderSecrets() } },
  async ({ body }) => json(202, { inboundMessageId: await forwardProviderReply(body) }),
);
