import type { Server } from '@grpc/grpc-js';
import { AdminService, AggregatorService } from '@rlsa/proto';
import { HealthImplementation } from 'grpc-health-check';

/** The services grpc.health.v1 answers for: the server as a whole ('') and each rlsa service. */
const HEALTH_SERVICES = ['', AggregatorService.typeName, AdminService.typeName] as const;

/**
 * grpc.health.v1 for the aggregator: SERVING while it can store chunks; NOT_SERVING while it
 * cannot (the disk is full: SERVING again once a probe write succeeds; a storage failure) and
 * for good once it drains. One instance can be added to several servers (the main port, and a
 * plaintext health port for probes that cannot present a client certificate).
 */
export class AggregatorHealth {
  private readonly health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((service) => [service, 'SERVING'])));
  private draining = false;
  private writable = true;

  addToServer(server: Server): void {
    this.health.addToServer(server);
  }

  /** Draining: every service answers NOT_SERVING, whatever storage says from now on. */
  notServing(): void {
    this.draining = true;
    this.publish();
  }

  /** Whether chunks can be stored now (the chunk writer's status). */
  storageWritable(writable: boolean): void {
    this.writable = writable;
    this.publish();
  }

  private publish(): void {
    const status = !this.draining && this.writable ? 'SERVING' : 'NOT_SERVING';
    for (const service of HEALTH_SERVICES) this.health.setStatus(service, status);
  }
}
