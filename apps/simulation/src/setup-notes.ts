import type { SimulationRun } from './options.ts';

/** Caveats of the setup, stated in results.json and the report. */
export function setupNotes(run: Pick<SimulationRun, 'partition' | 'probe'>): string[] {
  const { scenario, testSplit, maxSamples, maxTestSamples } = run.partition;
  const notes: string[] = [];
  if (scenario === 'shared-classes') {
    notes.push(
      testSplit === 'partition'
        ? "The test split is cut between the trainers like the training split, as in the paper's code: each test sample is embedded by one trainer, so the merged space holds that trainer's relative embedding and the naive space holds each test sample once."
        : "Every trainer embeds every test sample (all classes are its task's), so the merged test rows average the trainers' relative embeddings and the naive space holds each test sample once per trainer; the paper instead cuts the test split like the training split (--test-split partition).",
    );
  }
  if (scenario === 'shared-samples') {
    notes.push('Anchors come from the held-out pool of 1,000 training samples; in this experiment the paper instead drew as many anchors as the embedding width (128) from shared-class training samples.');
    notes.push('Separability here averages the class pairs with at least one task-specific class, as the paper does in this experiment.');
  }
  if (maxSamples !== undefined) {
    notes.push(`Each task trains on at most ${maxSamples} training samples (seeded, the same on every node; the reference on their union); every test sample is embedded and evaluated.`);
  }
  if (maxTestSamples !== undefined) {
    notes.push(`Evaluation uses a seeded subset of at most ${maxTestSamples} test samples (the same on every node).`);
  }
  if (run.probe.maxTrainRows !== null || run.probe.maxEpochs < 100) {
    notes.push('The probe is capped to keep the run short (see its settings above); the paper trains it for up to 100 epochs on every training embedding.');
  }
  return notes;
}
