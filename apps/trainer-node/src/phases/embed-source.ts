import type { Logger } from 'pino';
import type { AnchorInputs, Encoder } from '@rlsa/encoders';
import type { DataSource } from '@rlsa/sources';
import type { Progress } from '../progress.ts';
import type { NodeEmbeddings } from './embed.ts';

/** Samples per `embed` call: the encoder batches further inside; memory is a few of these. */
const EMBED_BATCH = 256;

/**
 * Phase 4 for a party's own data: the run's anchors first (a wrong count or width is refused
 * before the long pass), then the training part and the test part in batches through the
 * encoder, in the parts' order; ids (64-bit) and labels (−1 = unlabelled: merged, not probed)
 * as the source gives them. Memory: the N × D embeddings and one batch of inputs.
 */
export async function embedSource(
  encoder: Encoder,
  source: DataSource,
  anchorInputs: AnchorInputs,
  taskAccuracy: number | null,
  progress: Progress,
  log: Logger,
): Promise<NodeEmbeddings> {
  const { width } = encoder;
  const anchors = await encoder.embedAnchors(anchorInputs);
  const total = source.train.count + source.test.count;
  const ids = new BigUint64Array(total);
  const labels = new Int32Array(total);
  const absolute = new Float32Array(total * width);
  progress.start('embed', total);
  let row = 0;
  for (const part of [source.train, source.test]) {
    ids.set(part.ids, row);
    labels.set(part.labels, row);
    for await (const batch of part.batches(EMBED_BATCH)) {
      absolute.set(await encoder.embed(batch), row * width);
      row += batch.count;
      progress.update(row);
    }
  }
  progress.stop();
  log.info({ samples: total, anchors: anchorInputs.count, width, model: encoder.card.architecture }, 'embedded');
  return { ids, labels, absolute, anchors, width, taskAccuracy };
}
