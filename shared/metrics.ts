import { Metrics } from '@aws-lambda-powertools/metrics';

// Apart from observability.ts (the logger, which every function loads): only
// send-notification counts metrics, so only it loads Powertools Metrics.
export const metrics = new Metrics({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'volunteer-dispatch',
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'VolunteerDispatch',
  defaultDimensions: { district: process.env.DISTRICT_ID ?? 'local' },
});
