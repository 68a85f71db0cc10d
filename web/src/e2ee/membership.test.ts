import { describe, expect, it } from 'vitest';
import { actorOf } from './membership.ts';

function wire(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function entryWithActor(actor: bigint): Uint8Array {
  const bytes = new Uint8Array(141);
  bytes[0] = 0x04;
  bytes[1] = 0x01;
  new DataView(bytes.buffer).setBigInt64(58, actor, false);
  // Bytes around the field must not leak into it.
  bytes[57] = 0xff;
  bytes[66] = 0x02;
  return bytes;
}

describe('actorOf', () => {
  it('reads the big-endian actor id at bytes 58..66 of an entry', () => {
    expect(actorOf(wire(entryWithActor(42n)))).toBe(42);
    expect(actorOf(wire(entryWithActor(1_234_567_890_123n)))).toBe(1_234_567_890_123);
  });

  it('gives 0 for a server removal and refuses a truncated entry', () => {
    expect(actorOf(wire(entryWithActor(0n)))).toBe(0);
    expect(() => actorOf(wire(new Uint8Array(60)))).toThrow(/truncated/);
  });
});
