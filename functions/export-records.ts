import { route } from '#shared/http/route.ts';
import { recordsCsv, recordsFor } from '#shared/services/records.ts';

export const handler = route({ allow: ['ops'] }, async ({ event, now }) => {
  const { from, to, rows } = await recordsFor(event.queryStringParameters ?? {}, now);
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="service-records-${from}-${to}.csv"`,
    },
    body: recordsCsv(rows),
  };
});
