import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addToken, hashToken, readTokensFile, removeTokens, setGrants } from '../src/index.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rlsa-tokens-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('hashToken', () => {
  it('is the hex SHA-256 of the UTF-8 bytes (FIPS 180-2 test vector "abc")', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('rlsa tokens add', () => {
  it('stores only the hash of a fresh 256-bit token, in a file of mode 0600', () => {
    const file = join(dir, 'tokens.yaml');
    const { token } = addToken(file, 'node-1');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(token);
    const parsed = YAML.parse(text) as { tokens: unknown[] };
    expect(parsed.tokens).toEqual([{ subject: 'node-1', sha256: createHash('sha256').update(token).digest('hex'), grants: ['node:*'] }]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('generates a different token every time', () => {
    const file = join(dir, 'tokens.yaml');
    const a = addToken(file, 'node-1').token;
    const b = addToken(file, 'node-2').token;
    expect(a).not.toBe(b);
    expect(readTokensFile(file).map((entry) => entry.subject)).toEqual(['node-1', 'node-2']);
  });

  it('writes admin tokens and JSON files', () => {
    const file = join(dir, 'tokens.json');
    const { token } = addToken(file, 'operator', { grants: ['admin'] });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ tokens: [{ subject: 'operator', sha256: hashToken(token), grants: ['admin'] }] });
  });

  it('rotates: refuses a second token by default, replaces with --replace, overlaps with --keep, removes', () => {
    const file = join(dir, 'tokens.yaml');
    const first = addToken(file, 'node-1').token;
    expect(() => addToken(file, 'node-1')).toThrow(expect.objectContaining({ code: 'already_exists' }));
    const second = addToken(file, 'node-1', { replace: true }).token;
    expect(readTokensFile(file).map((entry) => entry.sha256)).toEqual([hashToken(second)]);
    const third = addToken(file, 'node-1', { keep: true }).token;
    expect(readTokensFile(file).map((entry) => entry.sha256)).toEqual([hashToken(second), hashToken(third)]);
    expect(removeTokens(file, 'node-1', { sha256Prefix: hashToken(second).slice(0, 12) })).toBe(1);
    expect(readTokensFile(file).map((entry) => entry.sha256)).toEqual([hashToken(third)]);
    expect(readTokensFile(file).some((entry) => entry.sha256 === hashToken(first))).toBe(false);
    expect(() => addToken(file, 'node-1', { keep: true, grants: ['admin'] })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(() => removeTokens(file, 'node-9')).toThrow(expect.objectContaining({ code: 'not_found' }));
  });

  it('keeps entries written by hand and rejects a malformed file', () => {
    const file = join(dir, 'tokens.yaml');
    writeFileSync(file, `tokens:\n  - { subject: ops, role: admin, sha256: "${'a'.repeat(64)}" }\n`);
    addToken(file, 'node-1');
    expect(readTokensFile(file).map((entry) => entry.subject)).toEqual(['ops', 'node-1']);
    writeFileSync(file, 'tokens:\n  - { subject: ops, role: root, sha256: "x" }\n');
    expect(() => addToken(file, 'node-2')).toThrow(expect.objectContaining({ code: 'invalid_file' }));
    expect(() => addToken(file, 'a/b')).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});

describe('grants', () => {
  it('are written as given (duplicates once), read back as parsed grants, and shared by a rotated subject', () => {
    const file = join(dir, 'tokens.yaml');
    addToken(file, 'analyst', { grants: ['reader:fmnist', 'reader:cifar:2024', 'reader:fmnist'] });
    addToken(file, 'reference-1', { grants: ['reference:fmnist', 'node:fmnist'] });
    expect((YAML.parse(readFileSync(file, 'utf8')) as { tokens: { grants: string[] }[] }).tokens.map((entry) => entry.grants)).toEqual([
      ['reader:fmnist', 'reader:cifar:2024'],
      ['reference:fmnist', 'node:fmnist'],
    ]);
    expect(readTokensFile(file)[0]?.grants).toEqual([
      { kind: 'run', role: 'reader', runId: 'fmnist' },
      { kind: 'run', role: 'reader', runId: 'cifar:2024' },
    ]);
    // Rotation keeps the grants when none are given; --keep with other grants is refused.
    addToken(file, 'analyst', { replace: true });
    expect(readTokensFile(file).find((entry) => entry.subject === 'analyst')?.grants.map((grant) => grant.kind === 'run' && grant.runId)).toEqual(['fmnist', 'cifar:2024']);
    expect(() => addToken(file, 'analyst', { keep: true, grants: ['reader:other'] })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(setGrants(file, 'analyst', ['reader:other'])).toBe(1);
    expect(readTokensFile(file).find((entry) => entry.subject === 'analyst')?.grants).toEqual([{ kind: 'run', role: 'reader', runId: 'other' }]);
    expect(() => setGrants(file, 'nobody', ['admin'])).toThrow(expect.objectContaining({ code: 'not_found' }));
  });

  it('refuses a grant outside the grammar, naming it, and changes nothing', () => {
    const file = join(dir, 'tokens.yaml');
    addToken(file, 'node-1');
    const before = readFileSync(file, 'utf8');
    for (const grant of ['root', 'node', 'node:', 'writer:r', 'reader:a b', 'reader:/etc', 'admin:r']) {
      expect(() => addToken(file, 'x', { grants: [grant] })).toThrow(expect.objectContaining({ code: 'invalid_argument', message: expect.stringContaining(JSON.stringify(grant)) }));
      expect(() => setGrants(file, 'node-1', [grant])).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    }
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('reads a file of the first format ({subject, role, sha256}) with its meaning, and rewrites it with grants', () => {
    const file = join(dir, 'tokens.yaml');
    writeFileSync(file, `tokens:\n  - { subject: ops, role: admin, sha256: "${'a'.repeat(64)}" }\n  - { subject: node-1, role: node, sha256: "${'b'.repeat(64)}" }\n`);
    expect(readTokensFile(file).map((entry) => [entry.subject, entry.grants])).toEqual([
      ['ops', [{ kind: 'admin' }]],
      ['node-1', [{ kind: 'run', role: 'node', runId: '*' }]],
    ]);
    addToken(file, 'node-2', { grants: ['node:r'] });
    expect((YAML.parse(readFileSync(file, 'utf8')) as { tokens: unknown[] }).tokens).toEqual([
      { subject: 'ops', sha256: 'a'.repeat(64), grants: ['admin'] },
      { subject: 'node-1', sha256: 'b'.repeat(64), grants: ['node:*'] },
      expect.objectContaining({ subject: 'node-2', grants: ['node:r'] }),
    ]);
    writeFileSync(file, `tokens:\n  - { subject: ops, role: admin, grants: [admin], sha256: "${'a'.repeat(64)}" }\n`);
    expect(() => readTokensFile(file)).toThrow(expect.objectContaining({ code: 'invalid_file', message: expect.stringContaining('both role') }));
  });
});
