/**
 * Whether to advise an arena for transparent huge pages, decided by what each way cost on this
 * machine. Huge pages save a fault per 4 KB page, which is worth it where faults are dear (on the
 * VM this was tuned on, 15–20 µs each); where they are cheap and the kernel has to compact memory
 * to find 2 MB pages it costs more (measured on a loaded VM: 1.0 CPU-s to prepare 411 MB advised,
 * 0.23 s plain). The first arena is prepared advised, the second plain; then the cheaper way per
 * byte is kept, and every `recheckEvery`-th arena tries the other way again (costs drift with the
 * host's memory). Pure: the thread measures, this decides.
 */
export class HugePageChoice {
  private readonly cost: { advised: number | undefined; plain: number | undefined } = { advised: undefined, plain: undefined };
  private arenas = 0;

  constructor(private readonly recheckEvery = 16) {}

  /** Whether to advise the next arena. */
  next(): boolean {
    const { advised, plain } = this.cost;
    if (advised === undefined) return true;
    if (plain === undefined) return false;
    const better = advised <= plain;
    return this.arenas % this.recheckEvery === this.recheckEvery - 1 ? !better : better;
  }

  /** What preparing an arena cost, in seconds per byte, and whether it was advised. */
  record(advised: boolean, secondsPerByte: number): void {
    this.arenas += 1;
    if (advised) this.cost.advised = secondsPerByte;
    else this.cost.plain = secondsPerByte;
  }
}
