// A room's members with their roles and presence; admins add, kick, ban and
// change roles here (as the server's permission table allows, see
// docs/PERMISSIONS.md; the server decides, the buttons only save clicks).

import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../../api/errors.ts';
import * as roomsApi from '../../api/rooms.ts';
import type { Ban, Member, Role, RoomWithChannels } from '../../api/rooms.ts';
import { membersVersion } from '../../chat/store.ts';
import * as membership from '../../e2ee/membership.ts';
import { authenticated } from '../../state/session.ts';
import { Alert } from '../Alert.tsx';
import { VerifyDialog } from './E2eePanels.tsx';
import { PresenceDot } from './Sidebar.tsx';

const RANK: Record<Role, number> = { member: 0, admin: 1, owner: 2 };

export function MembersPanel({ room, myId, onClose }: { room: RoomWithChannels; myId: number; onClose: () => void }) {
  const [members, setMembers] = useState<Member[] | null>(null);
  const [bans, setBans] = useState<Ban[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [username, setUsername] = useState('');
  const [verifying, setVerifying] = useState<Member | null>(null);
  const version = membersVersion.value[room.id] ?? 0;
  const myRole = room.my_role ?? 'member';
  const isAdmin = room.kind !== 'dm' && RANK[myRole] >= RANK.admin;

  async function reload() {
    try {
      const answer = await authenticated(() => roomsApi.members(room.id));
      setMembers(answer.members);
      setBans(answer.bans);
    } catch (err) {
      setError(describeError(err));
    }
  }

  useEffect(() => {
    void reload();
  }, [room.id, version]);

  async function act(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await authenticated(action);
      await reload();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  /** Whether I outrank the member enough to remove them (admins cannot remove admins). */
  const mayRemove = (m: Member) => isAdmin && m.user_id !== myId && RANK[m.role] < RANK[myRole];

  return (
    <aside class="members" aria-labelledby="members-title">
      <div class="members-head">
        <h2 id="members-title">Members of {room.kind === 'dm' ? 'this conversation' : room.name}</h2>
        <button type="button" class="button button-secondary" onClick={onClose}>
          Close
        </button>
      </div>
      {error !== null && <Alert tone="error">{error}</Alert>}
      {isAdmin && (
        <form
          class="add-member"
          onSubmit={(e) => {
            e.preventDefault();
            const name = username.trim();
            if (name !== '') void act(() => membership.addByName(room, name)).then(() => setUsername(''));
          }}
        >
          <label for="add-member-name">Add a member by username</label>
          <div class="inline-form">
            <input id="add-member-name" value={username} onInput={(e) => setUsername(e.currentTarget.value)} autocomplete="off" />
            <button type="submit" class="button button-primary" disabled={busy}>
              Add
            </button>
          </div>
        </form>
      )}
      {members === null ? (
        <p class="muted">Loading…</p>
      ) : (
        <ul class="member-list">
          {members.map((m) => (
            <li key={m.user_id} class="member">
              <div class="member-name">
                <PresenceDot userId={m.user_id} />
                <span>{m.username}</span>
                {m.user_id === myId && <span class="muted"> (you)</span>}
                {m.role !== 'member' && <span class="tag">{m.role}</span>}
                {m.user_id !== myId && (
                  <button type="button" class="link-button" aria-label={`Verify ${m.username}`} onClick={() => setVerifying(m)}>
                    Verify
                  </button>
                )}
              </div>
              {(mayRemove(m) || (myRole === 'owner' && m.user_id !== myId)) && (
                <div class="member-actions">
                  {myRole === 'owner' && m.role !== 'owner' && (
                    <button
                      type="button"
                      class="link-button"
                      disabled={busy}
                      aria-label={`${m.role === 'admin' ? 'Make member' : 'Make admin'}: ${m.username}`}
                      onClick={() => void act(() => membership.setRole(room, m.user_id, m.role === 'admin' ? 'member' : 'admin'))}
                    >
                      {m.role === 'admin' ? 'Make member' : 'Make admin'}
                    </button>
                  )}
                  {myRole === 'owner' && m.role !== 'owner' && (
                    <button
                      type="button"
                      class="link-button"
                      disabled={busy}
                      aria-label={`Make ${m.username} the owner`}
                      onClick={() => window.confirm(`Make ${m.username} the owner of ${room.name}? You become an admin.`) && void act(() => membership.transfer(room, m.user_id))}
                    >
                      Make owner
                    </button>
                  )}
                  {mayRemove(m) && (
                    <>
                      <button
                        type="button"
                        class="link-button"
                        disabled={busy}
                        aria-label={`Kick ${m.username}`}
                        onClick={() => window.confirm(`Remove ${m.username} from ${room.name}?`) && void act(() => membership.kick(room, m.user_id))}
                      >
                        Kick
                      </button>
                      <button
                        type="button"
                        class="link-button danger"
                        disabled={busy}
                        aria-label={`Ban ${m.username}`}
                        onClick={() => window.confirm(`Ban ${m.username} from ${room.name}?`) && void act(() => membership.ban(room, m.user_id))}
                      >
                        Ban
                      </button>
                    </>
                  )}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {room.kind !== 'dm' && myRole !== 'owner' && (
        <p>
          <button
            type="button"
            class="button button-secondary"
            disabled={busy}
            onClick={() => window.confirm(`Leave ${room.name}?`) && void act(() => membership.leave(room))}
          >
            Leave room
          </button>
        </p>
      )}
      {verifying !== null && <VerifyDialog userId={verifying.user_id} username={verifying.username} onClose={() => setVerifying(null)} />}
      {isAdmin && bans.length > 0 && (
        <>
          <h3>Banned</h3>
          <ul class="member-list">
            {bans.map((b) => (
              <li key={b.user_id} class="member">
                <span>{b.username}</span>
                <button type="button" class="link-button" disabled={busy} aria-label={`Unban ${b.username}`} onClick={() => void act(() => roomsApi.unban(room.id, b.user_id))}>
                  Unban
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </aside>
  );
}
