// My rooms with their channels, and my DMs: unread badges, presence dots,
// and the ways to find, create and open rooms.

import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { describeError } from '../../api/errors.ts';
import type { Channel, RoomWithChannels } from '../../api/rooms.ts';
import { activeChannelId, refreshRooms, rooms, roomsLoaded, unread } from '../../chat/store.ts';
import * as membership from '../../e2ee/membership.ts';
import { authenticated } from '../../state/session.ts';
import { total } from '../../chat/unread.ts';
import { channelPath } from '../../router.ts';
import { Alert } from '../Alert.tsx';
import { confirmAction } from '../ConfirmDialog.tsx';
import { Link } from '../Link.tsx';
import { LockIcon } from '../LockIcon.tsx';
import { personName } from '../../chat/profiles.ts';
import { Avatar } from './Avatar.tsx';
import { IS_MAC } from './QuickSwitcher.tsx';
import { DirectoryDialog, NewChannelDialog, NewDmDialog, NewRoomDialog } from './dialogs.tsx';
import { useRovingFocus, type RovingOptions } from '../useRovingFocus.ts';
import { t } from '../../i18n/index.ts';
import { showThreadsList, threadsListOpen, unreadThreads } from '../../threads/state.ts';

/**
 * The sidebar is one tab stop, landing on the open channel; Up/Down (and
 * Left/Right, Home/End) move through its buttons and links in reading order.
 * However many rooms and channels there are, the rest of the page stays a
 * few Tab presses away. Alt+Up/Down still open the next channel (ChatPage).
 */
const SIDEBAR_FOCUS: RovingOptions = {
  items: 'a[href], button',
  orientation: 'both',
  initial: (all) => all.find((el) => el.getAttribute('aria-current') === 'page'),
  resetOnLeave: true,
};

type Open = { kind: 'directory' } | { kind: 'room' } | { kind: 'dm' } | { kind: 'channel'; room: RoomWithChannels } | null;

export function Sidebar({ myId, onJump }: { myId: number; onJump: () => void }) {
  const [open, setOpen] = useState<Open>(null);
  const [menuFor, setMenuFor] = useState<number | null>(null);
  const nav = useRef<HTMLElement>(null);
  useRovingFocus(nav, SIDEBAR_FOCUS);
  const close = () => setOpen(null);
  const list = rooms.value;
  const groups = list.filter((r) => r.kind !== 'dm');
  const dms = list.filter((r) => r.kind === 'dm');

  return (
    <nav class="sidebar" aria-label={t('sidebar.label')} ref={nav}>
      <button type="button" class="button button-secondary jump-button" onClick={onJump} aria-keyshortcuts={IS_MAC ? 'Meta+K' : 'Control+K'}>
        <span>{t('sidebar.jump')}</span>
        <kbd aria-hidden="true">{IS_MAC ? '⌘K' : 'Ctrl+K'}</kbd>
      </button>
      <div class="sidebar-actions">
        <button type="button" class="button button-secondary" onClick={() => setOpen({ kind: 'directory' })}>
          {t('sidebar.browse')}
        </button>
        <button type="button" class="button button-secondary" onClick={() => setOpen({ kind: 'room' })}>
          {t('sidebar.newRoom')}
        </button>
        <button type="button" class="button button-secondary threads-button" aria-pressed={threadsListOpen.value} onClick={() => showThreadsList(!threadsListOpen.value)}>
          {t('threads.list')}
          {unreadThreads.value > 0 && (
            <span class="badge" aria-label={t('threads.unreadThreads', { count: unreadThreads.value })}>
              {unreadThreads.value}
            </span>
          )}
        </button>
      </div>
      <h2 class="sidebar-title">{t('sidebar.rooms')}</h2>
      {roomsLoaded.value && groups.length === 0 && <p class="muted">{t('sidebar.noRooms')}</p>}
      <ul class="room-list">
        {groups.map((room) => (
          <li key={room.id} class="room">
            <div class="room-head">
              <span class="room-name">
                {room.name}
                {room.is_private && <span class="tag">{t('sidebar.private')}</span>}
              </span>
              <span class="room-tools">
                {(room.my_role === 'owner' || room.my_role === 'admin') && (
                  <button type="button" class="icon-button" aria-label={t('sidebar.newChannelIn', { room: room.name })} title={t('sidebar.newChannel')} onClick={() => setOpen({ kind: 'channel', room })}>
                    +
                  </button>
                )}
                <button
                  type="button"
                  class="icon-button"
                  aria-label={t('sidebar.roomMenuFor', { room: room.name })}
                  title={t('sidebar.roomMenu')}
                  aria-expanded={menuFor === room.id}
                  aria-controls={`room-menu-${room.id}`}
                  onClick={() => setMenuFor(menuFor === room.id ? null : room.id)}
                >
                  ⋯
                </button>
              </span>
            </div>
            {menuFor === room.id && <RoomMenu room={room} onDone={() => setMenuFor(null)} />}
            <ul class="channel-list">
              {room.channels.map((channel) => (
                <li key={channel.id}>
                  <ChannelLink channel={channel} label={channel.name} prefix={channel.is_encrypted ? <LockIcon /> : '#'} />
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
      <div class="sidebar-head">
        <h2 class="sidebar-title">{t('sidebar.dms')}</h2>
        <button type="button" class="icon-button" aria-label={t('sidebar.newDm')} title={t('sidebar.newDm')} onClick={() => setOpen({ kind: 'dm' })}>
          +
        </button>
      </div>
      <ul class="channel-list">
        {dms.map((room) => {
          const channel = room.channels[0];
          const peer = room.dm_peer;
          if (channel === undefined) return null;
          return (
            <li key={room.id}>
              <ChannelLink channel={channel} label={peer !== null ? personName(peer.id, peer.username) : room.name} prefix={<Avatar userId={peer?.id ?? null} username={peer?.username ?? room.name} withPresence />} />
            </li>
          );
        })}
      </ul>
      {open?.kind === 'directory' && <DirectoryDialog onClose={close} />}
      {open?.kind === 'room' && <NewRoomDialog onClose={close} />}
      {open?.kind === 'dm' && <NewDmDialog onClose={close} myId={myId} />}
      {open?.kind === 'channel' && <NewChannelDialog room={open.room} onClose={close} />}
    </nav>
  );
}


/** A room's menu in the sidebar: leaving it (an owner is told to transfer ownership first). */
function RoomMenu({ room, onDone }: { room: RoomWithChannels; onDone: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function leave() {
    if (room.my_role === 'owner') {
      // The server's rule (and the membership log's): say it before asking.
      // What the server answers an owner who tries to leave (`owner_must_transfer`), with where to do it.
      setError(t('sidebar.ownerMustTransfer'));
      return;
    }
    const yes = await confirmAction({
      title: t('sidebar.leaveTitle', { room: room.name }),
      message: room.is_private ? t('sidebar.leavePrivate') : t('sidebar.leavePublic'),
      action: t('sidebar.leave'),
    });
    if (!yes) return;
    setBusy(true);
    setError(null);
    try {
      await authenticated(() => membership.leave(room));
      onDone();
      await refreshRooms();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="room-menu" id={`room-menu-${room.id}`}>
      <button type="button" class="link-button danger" disabled={busy} onClick={() => void leave()}>
        {t('sidebar.leave')}
      </button>
      {error !== null && <Alert tone="error">{error}</Alert>}
    </div>
  );
}

function ChannelLink({ channel, label, prefix }: { channel: Channel; label: string; prefix: ComponentChildren }) {
  const count = total(unread.value, [channel.id]);
  const current = activeChannelId.value === channel.id;
  return (
    <Link href={channelPath(channel.id)} class={`channel-link${current ? ' current' : ''}${count > 0 ? ' has-unread' : ''}`} current={current}>
      <span class="channel-prefix" aria-hidden="true">
        {prefix}
      </span>
      <span class="channel-label">{label}</span>
      {channel.is_encrypted && <span class="visually-hidden">{t('sidebar.encrypted')}</span>}
      {count > 0 && (
        <span class="unread-badge" aria-label={t('sidebar.unread', { count })}>
          {count}
        </span>
      )}
    </Link>
  );
}
