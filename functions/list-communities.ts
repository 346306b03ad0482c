import { communitiesOf } from '#shared/district.ts';
import { json } from '#shared/http/response.ts';
import { route } from '#shared/http/route.ts';
import { districtView } from '#shared/services/context.ts';

export const handler = route({ allow: ['ops', 'partner', 'volunteer'] }, async () => {
  const { district } = districtView();
  return json(200, {
    district: district.id,
    name: district.name,
    communities: communitiesOf(district),
  });
});
