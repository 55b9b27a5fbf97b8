import { loadAddon } from './addon.ts';

/**
 * Asks Linux for transparent huge pages (`madvise(MADV_HUGEPAGE)`) on the 2 MB-aligned interior of
 * a typed array's memory, when it spans at least 8 MB; call it before the memory's first touch.
 * Where the first write into each fresh 4 KB page is a costly fault (a VM), a large fresh array
 * then costs one fault per 2 MB. Only the paging policy changes, never the contents.
 * Returns false (and does nothing) when the addon is unavailable.
 */
export function adviseHugePages(view: ArrayBufferView): boolean {
  const { addon } = loadAddon();
  if (addon === null) return false;
  addon.adviseHugePages(view);
  return true;
}
