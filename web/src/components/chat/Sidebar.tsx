// My rooms with their channels, and my DMs: unread badges, presence dots,
// and the ways to find, create and open rooms.

import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Channel, RoomWithChannels } from '../../api/rooms.ts';
import { activeChannelId, presence, rooms, roomsLoaded, unread } from '../../chat/store.ts';
import { total } from '../../chat/unread.ts';
import { channelPath } from '../../router.ts';
import { Link } from '../Link.tsx';
import { LockIcon } from '../LockIcon.tsx';
import { DirectoryDialog, NewChannelDialog, NewDmDialog, NewRoomDialog } from './dialogs.tsx';

type Open = { kind: 'directory' } | { kind: 'room' } | { kind: 'dm' } | { kind: 'channel'; room: RoomWithChannels } | null;

export function Sidebar({ myId }: { myId: number }) {
  const [open, setOpen] = useState<Open>(null);
  const close = () => setOpen(null);
  const list = rooms.value;
  const groups = list.filter((r) => r.kind !== 'dm');
  const dms = list.filter((r) => r.kind === 'dm');

  return (
    <nav class="sidebar" aria-label="Rooms and direct messages">
      <div class="sidebar-actions">
        <button type="button" class="button button-secondary" onClick={() => setOpen({ kind: 'directory' })}>
          Browse rooms
        </button>
        <button type="button" class="button button-secondary" onClick={() => setOpen({ kind: 'room' })}>
          New room
        </button>
      </div>
      <h2 class="sidebar-title">Rooms</h2>
      {roomsLoaded.value && groups.length === 0 && <p class="muted">No rooms yet. Browse or create one.</p>}
      <ul class="room-list">
        {groups.map((room) => (
          <li key={room.id} class="room">
            <div class="room-head">
              <span class="room-name">
                {room.name}
                {room.is_private && <span class="tag">private</span>}
              </span>
              {(room.my_role === 'owner' || room.my_role === 'admin') && (
                <button type="button" class="icon-button" aria-label={`New channel in ${room.name}`} title="New channel" onClick={() => setOpen({ kind: 'channel', room })}>
                  +
                </button>
              )}
            </div>
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
        <h2 class="sidebar-title">Direct messages</h2>
        <button type="button" class="icon-button" aria-label="New direct message" title="New direct message" onClick={() => setOpen({ kind: 'dm' })}>
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
              <ChannelLink channel={channel} label={peer?.username ?? room.name} prefix={<PresenceDot userId={peer?.id ?? 0} />} />
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

function ChannelLink({ channel, label, prefix }: { channel: Channel; label: string; prefix: ComponentChildren }) {
  const count = total(unread.value, [channel.id]);
  const current = activeChannelId.value === channel.id;
  return (
    <Link href={channelPath(channel.id)} class={`channel-link${current ? ' current' : ''}${count > 0 ? ' has-unread' : ''}`} current={current}>
      <span class="channel-prefix" aria-hidden="true">
        {prefix}
      </span>
      <span class="channel-label">{label}</span>
      {channel.is_encrypted && <span class="visually-hidden"> (encrypted)</span>}
      {count > 0 && (
        <span class="unread-badge" aria-label={`${count} unread`}>
          {count}
        </span>
      )}
    </Link>
  );
}

/** Green when the user is known to be online, grey when known offline, hollow when not known yet. */
export function PresenceDot({ userId }: { userId: number }) {
  const state = presence.value[userId];
  const label = state === true ? 'online' : state === false ? 'offline' : 'presence unknown';
  return <span class={`presence presence-${state === true ? 'on' : state === false ? 'off' : 'unknown'}`} role="img" aria-label={label} title={label} />;
}
