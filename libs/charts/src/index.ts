export { renderSvg } from './render-svg.ts';
export { pcaSpec, UNLABELLED, type ScatterPoint } from './scatter-spec.ts';
export { pca2, type Pca2 } from './pca.ts';
