import type { Server } from '@grpc/grpc-js';
import { AdminService, AggregatorService } from '@rlsa/proto';
import { HealthImplementation } from 'grpc-health-check';

/** The services grpc.health.v1 answers for: the server as a whole ('') and each rlsa service. */
const HEALTH_SERVICES = ['', AggregatorService.typeName, AdminService.typeName] as const;

/**
 * grpc.health.v1 for the aggregator: SERVING from the start, NOT_SERVING once it drains. One
 * instance can be added to several servers (the main port, and a plaintext health port for
 * probes that cannot present a client certificate).
 */
export class AggregatorHealth {
  private readonly health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((service) => [service, 'SERVING'])));

  addToServer(server: Server): void {
    this.health.addToServer(server);
  }

  /** Draining: every service answers NOT_SERVING. */
  notServing(): void {
    for (const service of HEALTH_SERVICES) this.health.setStatus(service, 'NOT_SERVING');
  }
}
