// A room's bots, in the room settings for its owner and admins: the list
// (who made each and when, revoked ones marked), making one (its token
// shown once), a new token in place of a lost one, and revoking. The
// server decides who may (docs/PERMISSIONS.md).
//
// A plain room takes a new bot as a member at once. A room with encrypted
// channels has a signed membership log, which takes members only by signed
// entries: this browser adds the bot by one (e2ee/membership.ts, as for a
// person), after which the members' browsers share the channel keys with
// its identity. A bot publishes that identity when it first starts, so
// until it has, the section says it is waiting and checks again.

import { useEffect, useState } from 'preact/hooks';
import * as api from '../../api/bots.ts';
import type { Bot } from '../../api/bots.ts';
import * as roomsApi from '../../api/rooms.ts';
import type { RoomWithChannels } from '../../api/rooms.ts';
import { refreshRooms } from '../../chat/store.ts';
import { fetchPublished } from '../../e2ee/engine.ts';
import * as membership from '../../e2ee/membership.ts';
import { formatDateTime } from '../../i18n/format.ts';
import { t } from '../../i18n/index.ts';
import { authenticated } from '../../state/session.ts';
import { Alert } from '../Alert.tsx';
import { confirmAction } from '../ConfirmDialog.tsx';
import { ShownOnce } from '../ShownOnce.tsx';
import { useSubmit } from '../useSubmit.ts';

/** How often a bot that has not started yet is looked at again while the section is open. */
const IDENTITY_POLL_MS = 15_000;

/** Where a live bot stands with the room's members. */
type Standing = 'member' | 'addable' | 'waiting';

export function Bots({ room }: { room: RoomWithChannels }) {
  const [bots, setBots] = useState<Bot[]>([]);
  const [standing, setStanding] = useState<Map<number, Standing>>(new Map());
  const [shown, setShown] = useState<{ name: string; token: string } | null>(null);
  const [username, setUsername] = useState('');
  const submission = useSubmit();
  // Encrypted channels mean a signed membership log: a bot joins by a signed entry, once it has an identity.
  const signed = room.channels.some((c) => c.is_encrypted);
  const id = `bots-${room.id}`;

  async function reload() {
    const [listed, { members }] = await Promise.all([authenticated(() => api.list(room.id)), authenticated(() => roomsApi.members(room.id))]);
    const memberIds = new Set(members.map((m) => m.user_id));
    const next = new Map<number, Standing>();
    for (const bot of listed) {
      if (bot.revoked_at !== undefined) continue;
      if (memberIds.has(bot.id)) next.set(bot.id, 'member');
      else if (!signed || (await fetchPublished(bot.id)) !== null) next.set(bot.id, 'addable');
      else next.set(bot.id, 'waiting');
    }
    setBots(listed);
    setStanding(next);
  }

  useEffect(() => {
    void submission.run(reload);
  }, [room.id]);

  const waiting = [...standing.values()].includes('waiting');
  useEffect(() => {
    if (!waiting) return undefined;
    const timer = setInterval(() => void reload().catch(() => undefined), IDENTITY_POLL_MS);
    return () => clearInterval(timer);
  }, [waiting, room.id]);

  async function create(event: Event) {
    event.preventDefault();
    const name = username.trim();
    await submission.run(async () => {
      const made = await authenticated(() => api.create(room.id, name));
      setShown({ name: made.bot.username, token: made.token });
      setUsername('');
      await reload();
      if (made.joined.includes(room.id)) await refreshRooms();
    });
  }

  async function add(bot: Bot) {
    await submission.run(async () => {
      await membership.addKnown(room, bot);
      await refreshRooms();
      await reload();
    });
  }

  async function renew(bot: Bot) {
    if (!(await confirmAction({ title: t('bots.newTokenTitle', { name: bot.username }), message: t('bots.newTokenMessage'), action: t('bots.newToken') }))) return;
    await submission.run(async () => {
      const token = await authenticated(() => api.newToken(room.id, bot.id));
      setShown({ name: bot.username, token });
    });
  }

  async function revoke(bot: Bot) {
    if (!(await confirmAction({ title: t('bots.revokeTitle', { name: bot.username }), message: t('bots.revokeMessage'), action: t('bots.revoke') }))) return;
    await submission.run(async () => {
      await authenticated(() => api.revoke(room.id, bot.id));
      if (shown?.name === bot.username) setShown(null);
      // The server removes it from a plain room; a signed log loses it only by this browser's entry.
      const { members } = await authenticated(() => roomsApi.members(room.id));
      if (members.some((m) => m.user_id === bot.id)) await membership.kick(room, bot.id);
      await refreshRooms();
      await reload();
    });
  }

  return (
    <section class="settings-bots" aria-labelledby={`${id}-title`}>
      <h3 class="settings-title" id={`${id}-title`}>
        {t('bots.title')}
      </h3>
      <p class="muted">{signed ? t('bots.introSigned') : t('bots.intro')}</p>
      {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
      {shown !== null && <ShownOnce label={t('bots.token', { name: shown.name })} value={shown.token} note={t('bots.tokenShownOnce')} />}
      {bots.length === 0 ? (
        <p class="muted">{t('bots.none')}</p>
      ) : (
        <ul class="settings-bot-list" aria-label={t('bots.list')}>
          {bots.map((bot) => (
            <BotItem key={bot.id} bot={bot} standing={standing.get(bot.id)} pending={submission.pending} onAdd={add} onRenew={renew} onRevoke={revoke} />
          ))}
        </ul>
      )}
      <form onSubmit={(e) => void create(e)} aria-label={t('bots.newBot')}>
        <div class="field">
          <label for={`${id}-username`}>{t('bots.username')}</label>
          <input
            id={`${id}-username`}
            value={username}
            required
            minLength={3}
            maxLength={32}
            pattern="[A-Za-z0-9_.\-]{3,32}"
            autoComplete="off"
            spellcheck={false}
            aria-describedby={`${id}-username-hint`}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
          <p id={`${id}-username-hint`} class="muted">
            {t('bots.usernameHint')}
          </p>
        </div>
        <button type="submit" class="button button-primary" disabled={submission.pending}>
          {t('bots.create')}
        </button>
      </form>
    </section>
  );
}

interface ItemProps {
  bot: Bot;
  standing: Standing | undefined;
  pending: boolean;
  onAdd: (bot: Bot) => Promise<void>;
  onRenew: (bot: Bot) => Promise<void>;
  onRevoke: (bot: Bot) => Promise<void>;
}

function BotItem({ bot, standing, pending, onAdd, onRenew, onRevoke }: ItemProps) {
  const created = formatDateTime(bot.created_at) ?? bot.created_at;
  const revoked = bot.revoked_at === undefined ? null : (formatDateTime(bot.revoked_at) ?? bot.revoked_at);
  return (
    <li class="settings-bot">
      <strong>{bot.username}</strong>{' '}
      <span class="muted">
        {bot.created_by_username === undefined ? t('bots.created', { time: created }) : t('bots.createdBy', { time: created, name: bot.created_by_username })}
      </span>{' '}
      {revoked !== null ? <span class="badge">{t('bots.revoked', { time: revoked })}</span> : <span class="badge">{t('bots.active')}</span>}
      {standing === 'waiting' && <p class="muted">{t('bots.waiting', { name: bot.username })}</p>}
      {standing === 'addable' && <p class="muted">{t('bots.notMember', { name: bot.username })}</p>}
      {revoked === null && (
        <div class="form-actions">
          {standing === 'addable' && (
            <button type="button" class="button button-primary" disabled={pending} aria-label={t('bots.addLabel', { name: bot.username })} onClick={() => void onAdd(bot)}>
              {t('bots.add')}
            </button>
          )}
          <button type="button" class="button button-secondary" disabled={pending} aria-label={t('bots.newTokenLabel', { name: bot.username })} onClick={() => void onRenew(bot)}>
            {t('bots.newToken')}
          </button>
          <button type="button" class="button button-secondary danger" disabled={pending} aria-label={t('bots.revokeLabel', { name: bot.username })} onClick={() => void onRevoke(bot)}>
            {t('bots.revoke')}
          </button>
        </div>
      )}
    </li>
  );
}
