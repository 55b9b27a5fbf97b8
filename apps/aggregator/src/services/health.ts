import type { Server } from '@grpc/grpc-js';
import { aggregatorHealthService, setServing } from './health-services.ts';

/**
 * grpc.health.v1 for the aggregator: SERVING while it can store chunks; NOT_SERVING while it
 * cannot (the disk is full: SERVING again once a probe write succeeds; a storage failure) and
 * for good once it drains. Added to the main port's server; the plaintext health port (for probes
 * that cannot present a client certificate) is served by a thread of its own that follows it
 * (`onChange`, `HealthPortThread`).
 */
export class AggregatorHealth {
  private readonly health = aggregatorHealthService();
  private draining = false;
  private writable = true;
  private readonly listeners: ((serving: boolean) => void)[] = [];

  addToServer(server: Server): void {
    this.health.addToServer(server);
  }

  /** Calls `listener` with the status now and at every change. */
  onChange(listener: (serving: boolean) => void): void {
    this.listeners.push(listener);
    listener(this.serving);
  }

  private get serving(): boolean {
    return !this.draining && this.writable;
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
    setServing(this.health, this.serving);
    for (const listener of this.listeners) listener(this.serving);
  }
}
