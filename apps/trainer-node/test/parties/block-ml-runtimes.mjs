// Loaded with `node --import` before the rlsa command line: the module hooks of @rlsa/encoders'
// spec that refuse every ML runtime and the image library, so that a node which loads one fails.
import { register } from 'node:module';

register('../../../../libs/encoders/test/embeddings/block-ml-runtimes.mjs', import.meta.url);
