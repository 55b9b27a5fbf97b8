import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth.ts';
import { SessionTable } from '../../src/dashboard/session-table.ts';

const ADMIN: Principal = { subject: 'operator', grants: [{ kind: 'admin' }], anonymous: false };

describe('SessionTable', () => {
  it('gives each login a fresh random 256-bit id (43 base64url characters)', () => {
    const table = new SessionTable({ maxSessions: 100, ttlMs: 1000 });
    const ids = Array.from({ length: 50 }, () => table.open(ADMIN).id);
    expect(new Set(ids).size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(table.find(ids[7])?.principal).toEqual(ADMIN);
  });

  it('ends a session at its expiry and finds no unknown or absent id', () => {
    let now = 1_000;
    const table = new SessionTable({ maxSessions: 10, ttlMs: 500 }, () => now);
    const session = table.open(ADMIN);
    expect(session.expiresAtMs).toBe(1_500);
    now = 1_499;
    expect(table.find(session.id)).toBe(session);
    now = 1_500;
    expect(table.find(session.id)).toBeUndefined();
    expect(table.size).toBe(0);
    expect(table.find('nothing')).toBeUndefined();
    expect(table.find(undefined)).toBeUndefined();
  });

  it('holds at most maxSessions: expired ones go first, then the oldest', () => {
    let now = 0;
    const table = new SessionTable({ maxSessions: 3, ttlMs: 100 }, () => now);
    const expired = table.open(ADMIN);
    now = 50;
    const [a, b] = [table.open(ADMIN), table.open(ADMIN)];
    now = 120; // `expired` is past its end, a and b are not
    const c = table.open(ADMIN);
    expect(table.size).toBe(3);
    expect([expired, a, b, c].map((s) => table.find(s.id) !== undefined)).toEqual([false, true, true, true]);
    const d = table.open(ADMIN);
    expect(table.size).toBe(3);
    expect([a, b, c, d].map((s) => table.find(s.id) !== undefined)).toEqual([false, true, true, true]);
  });

  it('closes one session, or all of them', () => {
    const table = new SessionTable({ maxSessions: 10, ttlMs: 1000 });
    const [a, b] = [table.open(ADMIN), table.open(ADMIN)];
    table.close(a.id);
    expect(table.find(a.id)).toBeUndefined();
    expect(table.find(b.id)).toBe(b);
    table.clear();
    expect(table.size).toBe(0);
  });
});
