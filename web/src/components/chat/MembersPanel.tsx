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
import { confirmAction, type Question } from '../ConfirmDialog.tsx';
import { VerifyDialog } from './E2eePanels.tsx';
import { Avatar } from './Avatar.tsx';
import { PersonName, PersonStatus } from './PersonName.tsx';
import { personName, seedFromMembers } from '../../chat/profiles.ts';
import { t } from '../../i18n/index.ts';

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
      seedFromMembers(answer.members);
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

  /** Asks first (in-app), then acts. */
  async function ask(question: Question, action: () => Promise<void>) {
    if (await confirmAction(question)) await act(action);
  }

  /** Whether I outrank the member enough to remove them (admins cannot remove admins). */
  const mayRemove = (m: Member) => isAdmin && m.user_id !== myId && RANK[m.role] < RANK[myRole];

  return (
    <aside class="members" aria-labelledby="members-title">
      <div class="members-head">
        <h2 id="members-title">{room.kind === 'dm' ? t('members.titleDm') : t('members.titleRoom', { room: room.name })}</h2>
        <button type="button" class="button button-secondary" onClick={onClose}>
          {t('common.close')}
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
          <label for="add-member-name">{t('members.add')}</label>
          <div class="inline-form">
            <input id="add-member-name" value={username} onInput={(e) => setUsername(e.currentTarget.value)} autocomplete="off" />
            <button type="submit" class="button button-primary" disabled={busy}>
              {t('members.addButton')}
            </button>
          </div>
        </form>
      )}
      {members === null ? (
        <p class="muted">{t('members.loading')}</p>
      ) : (
        <ul class="member-list">
          {members.map((m) => {
            const name = personName(m.user_id, m.username);
            return (
              <li key={m.user_id} class="member">
                <div class="member-name">
                  <Avatar userId={m.user_id} username={m.username} withPresence />
                  <PersonName userId={m.user_id} username={m.username} withUsername />
                  <PersonStatus userId={m.user_id} />
                  {m.is_bot === true && <span class="tag">{t('webhooks.bot')}</span>}
                  {m.user_id === myId && <span class="muted">{t('members.you')}</span>}
                  {m.role !== 'member' && <span class="tag">{t(`members.role.${m.role}`)}</span>}
                  {m.user_id !== myId && (
                    <button type="button" class="link-button" aria-label={t('members.verifyLabel', { name })} onClick={() => setVerifying(m)}>
                      {t('members.verify')}
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
                        aria-label={m.role === 'admin' ? t('members.makeMemberLabel', { name }) : t('members.makeAdminLabel', { name })}
                        onClick={() => void act(() => membership.setRole(room, m.user_id, m.role === 'admin' ? 'member' : 'admin'))}
                      >
                        {m.role === 'admin' ? t('members.makeMember') : t('members.makeAdmin')}
                      </button>
                    )}
                    {myRole === 'owner' && m.role !== 'owner' && (
                      <button
                        type="button"
                        class="link-button"
                        disabled={busy}
                        aria-label={t('members.makeOwnerLabel', { name })}
                        onClick={() => void ask({ title: t('members.makeOwnerTitle', { name, room: room.name }), message: t('members.makeOwnerMessage'), action: t('members.transfer') }, () => membership.transfer(room, m.user_id))}
                      >
                        {t('members.makeOwner')}
                      </button>
                    )}
                    {mayRemove(m) && (
                      <>
                        <button
                          type="button"
                          class="link-button"
                          disabled={busy}
                          aria-label={t('members.kickLabel', { name })}
                          onClick={() => void ask({ title: t('members.kickTitle', { name, room: room.name }), message: t('members.kickMessage'), action: t('members.kick') }, () => membership.kick(room, m.user_id))}
                        >
                          {t('members.kick')}
                        </button>
                        <button
                          type="button"
                          class="link-button danger"
                          disabled={busy}
                          aria-label={t('members.banLabel', { name })}
                          onClick={() => void ask({ title: t('members.banTitle', { name, room: room.name }), message: t('members.banMessage'), action: t('members.ban') }, () => membership.ban(room, m.user_id))}
                        >
                          {t('members.ban')}
                        </button>
                      </>
                    )}
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {room.kind !== 'dm' && myRole !== 'owner' && (
        <p>
          <button
            type="button"
            class="button button-secondary"
            disabled={busy}
            onClick={() => void ask({ title: t('members.leaveTitle', { room: room.name }), action: t('members.leave') }, () => membership.leave(room))}
          >
            {t('members.leave')}
          </button>
        </p>
      )}
      {verifying !== null && <VerifyDialog userId={verifying.user_id} username={personName(verifying.user_id, verifying.username)} onClose={() => setVerifying(null)} />}
      {isAdmin && bans.length > 0 && (
        <>
          <h3>{t('members.banned')}</h3>
          <ul class="member-list">
            {bans.map((b) => (
              <li key={b.user_id} class="member">
                <PersonName userId={b.user_id} username={b.username} withUsername />
                <button type="button" class="link-button" disabled={busy} aria-label={t('members.unbanLabel', { name: personName(b.user_id, b.username) })} onClick={() => void act(() => roomsApi.unban(room.id, b.user_id))}>
                  {t('members.unban')}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </aside>
  );
}
