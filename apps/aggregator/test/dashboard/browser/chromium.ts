import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';

/** Debian's Chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/** The flags of every test browser: headless, no sandbox (root in CI), nothing fetched from the network on its own. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** Debian's package lists are read once per process, however many specs ask. */
let installing: { ready: true } | { ready: false; reason: string } | undefined;

function run(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: 'pipe', timeout: 15 * 60_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/**
 * Makes Debian's Chromium available: there already, or installed with apt-get (one `apt-get
 * update`, then `apt-get install -y chromium`) when this process runs as root on a Debian-like
 * system. Otherwise says why not, for the spec to skip with that reason.
 */
export function ensureChromium(): { ready: true } | { ready: false; reason: string } {
  if (installing !== undefined) return installing;
  if (existsSync(CHROMIUM)) return (installing = { ready: true });
  if (process.getuid?.() !== 0) return (installing = { ready: false, reason: `${CHROMIUM} is missing and installing it needs root (apt-get install chromium)` });
  if (!existsSync('/usr/bin/apt-get')) return (installing = { ready: false, reason: `${CHROMIUM} is missing and there is no apt-get to install it` });
  try {
    run('apt-get', ['update']);
    run('apt-get', ['install', '-y', 'chromium']);
  } catch (error: unknown) {
    return (installing = { ready: false, reason: `apt-get install chromium failed: ${(error as Error).message.split('\n')[0]}` });
  }
  return (installing = existsSync(CHROMIUM) ? { ready: true } : { ready: false, reason: `apt-get installed chromium but ${CHROMIUM} is missing` });
}

/** A headless Chromium with a fresh profile (removed on close), driven by playwright-core. */
export async function launchChromium(viewport: { width: number; height: number }): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'rlsa-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS], viewport });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
