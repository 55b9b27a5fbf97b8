import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AggregatorError } from '../errors.ts';
import { CREATE_TABLES, SCHEMA_VERSION, SQL, applyWriterPragmas } from './schema.ts';
import type { ChunkRow, Durability, NodeRow, RunRow } from './schema.ts';

type StatementName = Exclude<keyof typeof SQL, 'insertChunk'>;

/**
 * The aggregator's durable state in `<data-dir>/aggregator.sqlite` (better-sqlite3, WAL):
 * runs, nodes, and every chunk as received (one row per chunk, payload as blobs; chunks are
 * inserted by the ChunkWriter's thread). All calls are synchronous; a method returning means
 * its transaction committed.
 */
export class Storage {
  readonly path: string;
  private readonly db: Db;
  private readonly statements: Record<StatementName, Statement>;

  constructor(dataDir: string, options: { durability?: Durability } = {}) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, 'aggregator.sqlite');
    try {
      this.db = new Database(this.path);
    } catch (error: unknown) {
      throw new AggregatorError('failed_precondition', `cannot open ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    applyWriterPragmas(this.db, options.durability ?? 'normal');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new AggregatorError('failed_precondition', `${this.path} has schema version ${version}, newer than this aggregator (${SCHEMA_VERSION})`);
    }
    if (version !== 0 && version < SCHEMA_VERSION) {
      throw new AggregatorError('failed_precondition', `${this.path} was written by an rlsa.v1 aggregator (schema ${version}): rlsa.v2 changed sample ids and run configs; give a new --data-dir`);
    }
    this.db.exec(CREATE_TABLES);
    const prepare = (name: StatementName): Statement => this.db.prepare(SQL[name]);
    this.statements = {
      insertRun: prepare('insertRun'),
      listRuns: prepare('listRuns'),
      insertNode: prepare('insertNode'),
      updateNodeModel: prepare('updateNodeModel'),
      listNodes: prepare('listNodes'),
      setFinished: prepare('setFinished'),
      getChunk: prepare('getChunk'),
      chunksAfter: prepare('chunksAfter'),
      allChunks: prepare('allChunks'),
    };
  }

  insertRun(runId: string, config: Uint8Array, createdAtMs: number): void {
    this.statements.insertRun.run(runId, Buffer.from(config), createdAtMs);
  }

  listRuns(): RunRow[] {
    return this.statements.listRuns.all() as RunRow[];
  }

  insertNode(node: Omit<NodeRow, 'finished'>): void {
    this.statements.insertNode.run(node.runId, node.nodeId, node.role, node.taskId, node.model, node.joinedAtMs);
  }

  updateNodeModel(runId: string, nodeId: string, model: Buffer): void {
    this.statements.updateNodeModel.run(model, runId, nodeId);
  }

  listNodes(runId: string): NodeRow[] {
    return (this.statements.listNodes.all(runId) as (Omit<NodeRow, 'finished'> & { finished: number })[]).map((n) => ({ ...n, finished: n.finished !== 0 }));
  }

  setFinished(runId: string, nodeId: string): void {
    this.statements.setFinished.run(runId, nodeId);
  }

  getChunk(runId: string, nodeId: string, space: number, seq: number): ChunkRow | undefined {
    return this.statements.getChunk.get(runId, nodeId, space, seq) as ChunkRow | undefined;
  }

  /** Up to `limit` chunks with seq > afterSeq, in seq order (a page: callers may await between pages). */
  chunksAfter(runId: string, nodeId: string, space: number, afterSeq: number, limit: number): ChunkRow[] {
    return this.statements.chunksAfter.all(runId, nodeId, space, afterSeq, limit) as ChunkRow[];
  }

  /** Every chunk in (run, node, space, seq) order; synchronous use only (startup rebuild). */
  *allChunks(): IterableIterator<ChunkRow> {
    for (const row of this.statements.allChunks.iterate()) yield row as ChunkRow;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
