import { AdminService, AggregatorService } from '@rlsa/proto';
import { HealthImplementation } from 'grpc-health-check';

/** The services grpc.health.v1 answers for: the server as a whole ('') and each rlsa service. */
export const HEALTH_SERVICES = ['', AggregatorService.typeName, AdminService.typeName] as const;

/** grpc.health.v1 answering SERVING for every service of the aggregator (the main port's and the health port's thread's). */
export function aggregatorHealthService(): HealthImplementation {
  return new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((service) => [service, 'SERVING'])));
}

/** Sets every service of `health` to SERVING or NOT_SERVING. */
export function setServing(health: HealthImplementation, serving: boolean): void {
  for (const service of HEALTH_SERVICES) health.setStatus(service, serving ? 'SERVING' : 'NOT_SERVING');
}
