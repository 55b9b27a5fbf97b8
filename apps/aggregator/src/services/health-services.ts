import { AdminService, AggregatorService } from '@rlsa/proto';

/** The services grpc.health.v1 answers for: the server as a whole ('') and each rlsa service. */
export const HEALTH_SERVICES = ['', AggregatorService.typeName, AdminService.typeName] as const;
