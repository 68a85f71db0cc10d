// Presence as the client knows it: user id → online. A socket learns it
// from one `presence_snapshot` on connecting, then from `presence` changes.

export type Presence = Readonly<Record<number, boolean>>;

/**
 * The presence after a snapshot: the snapshot lists everyone online among
 * the people I share a room with, so anyone I knew as online and is not
 * listed went offline while I was away (I stay online myself).
 */
export function withSnapshot(known: Presence, online: readonly number[], me: number): Presence {
  const next: Record<number, boolean> = {};
  for (const [id, isOnline] of Object.entries(known)) {
    if (isOnline) next[Number(id)] = false;
  }
  for (const id of online) next[id] = true;
  next[me] = true;
  return next;
}
