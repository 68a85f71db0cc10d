// Room settings for owners and admins: the owner renames, describes and
// deletes the room (deleting asks for its name typed out); admins rename
// channels, change their topics and delete them, and manage the room's
// bots (Bots.tsx). The server decides (see
// docs/PERMISSIONS.md); the dialog only shows what the role may do.

import { useState } from 'preact/hooks';
import * as roomsApi from '../../api/rooms.ts';
import type { Channel, RoomWithChannels } from '../../api/rooms.ts';
import { refreshRooms } from '../../chat/store.ts';
import { HOME_PATH, navigate } from '../../router.ts';
import { authenticated } from '../../state/session.ts';
import { Alert } from '../Alert.tsx';
import { confirmAction } from '../ConfirmDialog.tsx';
import { Dialog } from '../Dialog.tsx';
import { LockIcon } from '../LockIcon.tsx';
import { DisappearingForm, RetentionForm } from './Disappearing.tsx';
import { Integrations } from './Integrations.tsx';
import { Bots } from './Bots.tsx';
import { useSubmit } from '../useSubmit.ts';
import { ExportRoom } from './ExportRoom.tsx';
import { t } from '../../i18n/index.ts';

/** Whether a role sees the settings at all (owners and admins of a room, not a DM). */
/** A gear drawn in SVG, sized like the header's bell; decorative: the button says "Settings". */
export function GearIcon() {
  return (
    <svg class="bell-icon" viewBox="0 0 16 16" width="14" height="14" focusable="false" aria-hidden="true">
      <path
        d="M6.9 1h2.2l.4 1.9 1.2.5 1.6-1.1 1.6 1.6-1.1 1.6.5 1.2 1.9.4v2.2l-1.9.4-.5 1.2 1.1 1.6-1.6 1.6-1.6-1.1-1.2.5-.4 1.9H6.9l-.4-1.9-1.2-.5-1.6 1.1-1.6-1.6 1.1-1.6-.5-1.2L1 9.1V6.9l1.9-.4.5-1.2-1.1-1.6 1.6-1.6 1.6 1.1 1.2-.5zM8 5.5a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5z"
        fill="currentColor"
        fill-rule="evenodd"
      />
    </svg>
  );
}

export function maySeeSettings(room: RoomWithChannels): boolean {
  return room.kind !== 'dm' && (room.my_role === 'owner' || room.my_role === 'admin');
}

export function RoomSettingsDialog({ room, onClose }: { room: RoomWithChannels; onClose: () => void }) {
  const isOwner = room.my_role === 'owner';
  return (
    <Dialog title={t('settings.title')} onClose={onClose}>
      <p class="muted">{room.name}</p>
      {isOwner ? <RoomForm room={room} /> : <p class="muted">{t('settings.ownerOnly')}</p>}
      {isOwner && <RetentionForm room={room} />}
      <PermissionsForm room={room} isOwner={isOwner} />
      <Bots room={room} />
      <h3 class="settings-title">{t('settings.channels')}</h3>
      <ul class="settings-channels">
        {room.channels.map((channel) => (
          <li key={channel.id}>
            <ChannelForm channel={channel} lastOne={room.channels.length <= 1} />
            <DisappearingForm room={room} channel={channel} />
            {!channel.is_encrypted && <Integrations channel={channel} />}
          </li>
        ))}
      </ul>
      {isOwner && <ExportRoom room={room} />}
      {isOwner && <DeleteRoom room={room} onDeleted={onClose} />}
    </Dialog>
  );
}

function RoomForm({ room }: { room: RoomWithChannels }) {
  const [name, setName] = useState(room.name);
  const [description, setDescription] = useState(room.description);
  const [saved, setSaved] = useState(false);
  const submission = useSubmit();

  async function save(event: Event) {
    event.preventDefault();
    setSaved(false);
    const outcome = await submission.run(async () => {
      await authenticated(() => roomsApi.updateRoom(room.id, { name: name.trim(), description: description.trim() }));
      await refreshRooms();
    });
    if (outcome === 'succeeded') setSaved(true);
  }

  return (
    <form onSubmit={(e) => void save(e)} aria-label={t('settings.roomForm')}>
      <div class="field">
        <label for="settings-room-name">{t('settings.roomName')}</label>
        <input id="settings-room-name" value={name} required maxLength={64} onInput={(e) => setName(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="settings-room-description">{t('settings.description')}</label>
        <input id="settings-room-description" value={description} maxLength={500} onInput={(e) => setDescription(e.currentTarget.value)} />
      </div>
      {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
      {saved && <Alert tone="success">{t('settings.roomSaved')}</Alert>}
      <button type="submit" class="button button-primary" disabled={submission.pending}>
        {t('settings.saveRoom')}
      </button>
    </form>
  );
}

/**
 * The room's permissions: "members may pin" (admins and the owner) and the
 * size above which only the owner and admins may use channel-wide mentions
 * (the owner; empty: anyone may). Each setting is sent only when it changed.
 */
function PermissionsForm({ room, isOwner }: { room: RoomWithChannels; isOwner: boolean }) {
  const [mayPin, setMayPin] = useState(room.members_may_pin);
  const [limit, setLimit] = useState(room.everyone_mention_max_members === null ? '' : String(room.everyone_mention_max_members));
  const [saved, setSaved] = useState(false);
  const submission = useSubmit();

  async function save(event: Event) {
    event.preventDefault();
    setSaved(false);
    const max = limit.trim() === '' ? null : Number(limit);
    const outcome = await submission.run(async () => {
      if (mayPin !== room.members_may_pin) await authenticated(() => roomsApi.setMembersMayPin(room.id, mayPin));
      if (isOwner && max !== room.everyone_mention_max_members) await authenticated(() => roomsApi.setMentionLimit(room.id, max));
      await refreshRooms();
    });
    if (outcome === 'succeeded') setSaved(true);
  }

  return (
    <form class="settings-permissions" onSubmit={(e) => void save(e)} aria-label={t('settings.permissionsForm')}>
      <h3 class="settings-title">{t('settings.permissions')}</h3>
      <div class="field field-check">
        <input id="settings-members-may-pin" type="checkbox" checked={mayPin} onChange={(e) => setMayPin(e.currentTarget.checked)} />
        <label for="settings-members-may-pin">{t('settings.membersMayPin')}</label>
      </div>
      {isOwner && (
        <div class="field">
          <label for="settings-mention-limit">{t('settings.mentionLimit')}</label>
          <input
            id="settings-mention-limit"
            type="number"
            inputMode="numeric"
            min={1}
            max={100000}
            step={1}
            value={limit}
            aria-describedby="settings-mention-limit-hint"
            onInput={(e) => setLimit(e.currentTarget.value)}
          />
          <p id="settings-mention-limit-hint" class="muted">
            {t('settings.mentionLimitHint', { count: room.member_count })}
          </p>
        </div>
      )}
      {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
      {saved && <Alert tone="success">{t('settings.permissionsSaved')}</Alert>}
      <button type="submit" class="button button-primary" disabled={submission.pending}>
        {t('settings.savePermissions')}
      </button>
    </form>
  );
}

function ChannelForm({ channel, lastOne }: { channel: Channel; lastOne: boolean }) {
  const [name, setName] = useState(channel.name);
  const [topic, setTopic] = useState(channel.topic);
  const [saved, setSaved] = useState(false);
  const submission = useSubmit();
  const id = `settings-channel-${channel.id}`;

  async function save(event: Event) {
    event.preventDefault();
    setSaved(false);
    const outcome = await submission.run(async () => {
      await authenticated(() => roomsApi.updateChannel(channel.id, { name: name.trim(), topic: topic.trim() }));
      await refreshRooms();
    });
    if (outcome === 'succeeded') setSaved(true);
  }

  async function remove() {
    if (!(await confirmAction({ title: t('settings.deleteChannelTitle', { name: channel.name }), message: t('settings.deleteChannelMessage'), action: t('settings.deleteChannel') }))) return;
    await submission.run(async () => {
      await authenticated(() => roomsApi.deleteChannel(channel.id));
      await refreshRooms();
    });
  }

  return (
    <form class="settings-channel" onSubmit={(e) => void save(e)} aria-label={t('settings.channelForm', { name: channel.name })}>
      <p class="settings-channel-name">
        <strong>
          {channel.is_encrypted ? <LockIcon /> : '#'}
          {channel.name}
        </strong>
        {channel.is_encrypted && <span class="visually-hidden">{t('settings.encrypted')}</span>}
      </p>
      <div class="field">
        <label for={`${id}-name`}>{t('settings.channelName')}</label>
        <input id={`${id}-name`} value={name} required maxLength={64} onInput={(e) => setName(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for={`${id}-topic`}>{t('settings.topic')}</label>
        <input id={`${id}-topic`} value={topic} maxLength={250} onInput={(e) => setTopic(e.currentTarget.value)} />
      </div>
      {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
      {saved && <Alert tone="success">{t('settings.channelSaved')}</Alert>}
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={submission.pending}>
          {t('settings.saveChannel')}
        </button>
        <button
          type="button"
          class="button button-secondary danger"
          disabled={submission.pending || lastOne}
          title={lastOne ? t('settings.lastChannel') : undefined}
          onClick={() => void remove()}
        >
          {t('settings.deleteChannel')}
        </button>
      </div>
    </form>
  );
}

/** Deleting the room takes its name typed out, so it is never a slip. */
function DeleteRoom({ room, onDeleted }: { room: RoomWithChannels; onDeleted: () => void }) {
  const [typed, setTyped] = useState('');
  const submission = useSubmit();

  async function remove(event: Event) {
    event.preventDefault();
    const outcome = await submission.run(async () => {
      await authenticated(() => roomsApi.deleteRoom(room.id));
    });
    if (outcome === 'succeeded') {
      onDeleted();
      navigate(HOME_PATH);
      await refreshRooms();
    }
  }

  return (
    <form class="danger-zone" onSubmit={(e) => void remove(e)} aria-label={t('settings.deleteRoom')}>
      <h3 class="settings-title">{t('settings.deleteRoom')}</h3>
      <p class="muted">{t('settings.deleteRoomText', { room: room.name })}</p>
      <div class="field">
        <label for="settings-delete-confirm">{t('settings.typeName')}</label>
        <input id="settings-delete-confirm" value={typed} autoComplete="off" onInput={(e) => setTyped(e.currentTarget.value)} />
      </div>
      {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
      <button type="submit" class="button button-secondary danger" disabled={submission.pending || typed !== room.name}>
        {t('settings.deleteRoom')}
      </button>
    </form>
  );
}
