import { type CommunityRef, communitiesOf, type District, parseDistrict } from '../district.ts';
import { ENV } from '../resources.ts';

let district: District | undefined;

/** The district this function serves: its config is bundled in (CDK) or set by the local stack. */
function currentDistrict(): District {
  // A literal `process.env.DISTRICT_CONFIG`, so esbuild's `define` can bundle the config in.
  const raw = process.env.DISTRICT_CONFIG;
  if (!raw) throw new Error(`environment variable ${ENV.districtConfig} is not set`);
  district ??= parseDistrict(JSON.parse(raw), ENV.districtConfig);
  return district;
}

/** District facts the services need, computed once per process. */
export interface DistrictView {
  district: District;
  community(communityId: string): CommunityRef | undefined;
  /** Communities a scope covers around a request's community, nearest first. */
  communitiesInScope(scope: 'community' | 'town' | 'district', communityId: string): string[];
}

let view: DistrictView | undefined;

export function districtView(): DistrictView {
  if (view) return view;
  const district = currentDistrict();
  const all = communitiesOf(district);
  const byId = new Map(all.map((c) => [c.communityId, c]));
  view = {
    district,
    community: (id) => byId.get(id),
    communitiesInScope(scope, communityId) {
      const home = byId.get(communityId);
      if (!home || scope === 'community') return [communityId];
      // The home community first, whatever its place in the config: matching stops
      // reading once it has enough candidates, and a scope widened because its offers
      // expired must still offer the community's remaining volunteers before its
      // neighbours'.
      const neighbours = all
        .filter((c) => c.townId === home.townId && c.communityId !== communityId)
        .map((c) => c.communityId);
      const town = [communityId, ...neighbours];
      if (scope === 'town') return town;
      return [...town, ...all.filter((c) => c.townId !== home.townId).map((c) => c.communityId)];
    },
  };
  return view;
}
