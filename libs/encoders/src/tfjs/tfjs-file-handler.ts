import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import { EncoderError } from '../errors.ts';

/**
 * A tfjs load handler over a saved model on disk (`model.json` and the weight files its
 * manifest lists, relative to its folder): what tfjs-node's `file://` handler does, for a
 * process that has only tfjs-core. Refuses (`bad_format`, naming the file) JSON that is not a
 * saved layers model and weight files that cannot be read; `not_found` for a missing file.
 * `sha256()`, after a load, is the hex SHA-256 of model.json's bytes followed by every weight
 * file's, in manifest order: what identifies the model in its card.
 */
export function fileLoadHandler(tf: { io: typeof io }, modelFile: string): io.IOHandler & { sha256(): string } {
  const hash = createHash('sha256');
  let digest: string | undefined;
  return {
    sha256: () => (digest ??= hash.digest('hex')),
    load: async () => {
      const text = await readOrFail(modelFile, 'utf8');
      hash.update(text);
      let json: io.ModelJSON;
      try {
        json = JSON.parse(text) as io.ModelJSON;
      } catch (error) {
        throw new EncoderError('bad_format', 'not a tfjs model.json (invalid JSON)', { file: modelFile, cause: error });
      }
      const topology = json.modelTopology as { class_name?: unknown; model_config?: unknown } | undefined;
      if (topology === undefined || typeof topology !== 'object' || !Array.isArray(json.weightsManifest)) {
        throw new EncoderError('bad_format', 'not a saved tfjs model (no modelTopology or weightsManifest)', { file: modelFile });
      }
      if (json.format === 'graph-model') throw new EncoderError('bad_format', 'a tfjs graph model; only layers models (tf.LayersModel.save) are read', { file: modelFile });
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const relative of group.paths) {
            const bytes = await readOrFail(path.join(path.dirname(modelFile), relative));
            hash.update(bytes);
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          }
        }
        return [tf.io.getWeightSpecs(manifest), tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

async function readOrFail(file: string): Promise<Buffer>;
async function readOrFail(file: string, encoding: 'utf8'): Promise<string>;
async function readOrFail(file: string, encoding?: 'utf8'): Promise<Buffer | string> {
  try {
    return encoding === undefined ? await readFile(file) : await readFile(file, encoding);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new EncoderError(code === 'ENOENT' ? 'not_found' : 'bad_format', code === 'ENOENT' ? 'no such file' : `cannot read the file (${String(code)})`, { file, cause: error });
  }
}
