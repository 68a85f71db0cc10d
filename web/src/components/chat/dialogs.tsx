// The dialogs of the chat screen: room directory, new room, new channel, new DM.

import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../../api/errors.ts';
import * as roomsApi from '../../api/rooms.ts';
import type { DirectoryUser, Room, RoomWithChannels } from '../../api/rooms.ts';
import { enterRoom, rooms } from '../../chat/store.ts';
import * as membership from '../../e2ee/membership.ts';
import { authenticated } from '../../state/session.ts';
import { Alert } from '../Alert.tsx';
import { Dialog } from '../Dialog.tsx';
import { useSubmit } from '../useSubmit.ts';
import { t } from '../../i18n/index.ts';

interface CloseProps {
  onClose: () => void;
}

/** Search public rooms and join one. */
export function DirectoryDialog({ onClose }: CloseProps) {
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<Room[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submission = useSubmit();

  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      authenticated(() => roomsApi.directory(query.trim()))
        .then((list) => current && (setFound(list), setError(null)))
        .catch((err: unknown) => current && setError(describeError(err)));
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query]);

  const mine = new Set(rooms.value.map((r) => r.id));

  async function join(room: Room) {
    await submission.run(async () => {
      await membership.join(room);
      onClose();
      await enterRoom(room.id);
    });
  }

  return (
    <Dialog title={t('directory.title')} onClose={onClose}>
      <div class="field">
        <label for="directory-search">{t('directory.search')}</label>
        <input id="directory-search" type="search" value={query} autoFocus onInput={(e) => setQuery(e.currentTarget.value)} />
      </div>
      {error !== null && <Alert tone="error">{error}</Alert>}
      {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
      {found !== null && found.length === 0 && <p class="muted">{t('directory.none')}</p>}
      <ul class="directory" aria-label={t('directory.list')}>
        {found?.map((room) => (
          <li key={room.id}>
            <div>
              <strong>{room.name}</strong>
              <span class="muted">{t('directory.members', { count: room.member_count })}</span>
              {room.description !== '' && <p class="muted">{room.description}</p>}
            </div>
            {mine.has(room.id) ? (
              <span class="muted">{t('directory.joined')}</span>
            ) : (
              <button type="button" class="button button-primary" disabled={submission.pending} onClick={() => void join(room)} aria-label={t('directory.joinLabel', { name: room.name })}>
                {t('directory.join')}
              </button>
            )}
          </li>
        ))}
      </ul>
    </Dialog>
  );
}

/** Create a room; private rooms get encrypted channels by default. */
export function NewRoomDialog({ onClose }: CloseProps) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [isPrivate, setPrivate] = useState(false);
  const submission = useSubmit();

  async function create(event: Event) {
    event.preventDefault();
    await submission.run(async () => {
      const room = await authenticated(() => roomsApi.createRoom(name.trim(), description.trim(), isPrivate));
      onClose();
      await enterRoom(room.id);
    });
  }

  return (
    <Dialog title={t('newRoom.title')} onClose={onClose}>
      <form onSubmit={(e) => void create(e)}>
        <div class="field">
          <label for="room-name">{t('newRoom.name')}</label>
          <input id="room-name" value={name} required maxLength={64} autoFocus onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="room-description">{t('newRoom.description')}</label>
          <input id="room-description" value={description} maxLength={500} onInput={(e) => setDescription(e.currentTarget.value)} />
        </div>
        <label class="check">
          <input type="checkbox" checked={isPrivate} onChange={(e) => setPrivate(e.currentTarget.checked)} /> {t('newRoom.private')}
        </label>
        {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
        <button type="submit" class="button button-primary" disabled={submission.pending}>
          {t('newRoom.create')}
        </button>
      </form>
    </Dialog>
  );
}

/** Create a channel in a room (admins). */
export function NewChannelDialog({ room, onClose }: CloseProps & { room: RoomWithChannels }) {
  const [name, setName] = useState('');
  const [topic, setTopic] = useState('');
  const [encrypted, setEncrypted] = useState(room.is_private);
  const submission = useSubmit();

  async function create(event: Event) {
    event.preventDefault();
    await submission.run(async () => {
      const channel = await authenticated(() => roomsApi.createChannel(room.id, name.trim(), topic.trim(), encrypted));
      onClose();
      await enterRoom(room.id, channel.id);
    });
  }

  return (
    <Dialog title={t('newChannel.title', { room: room.name })} onClose={onClose}>
      <form onSubmit={(e) => void create(e)}>
        <div class="field">
          <label for="channel-name">{t('newChannel.name')}</label>
          <input id="channel-name" value={name} required maxLength={64} autoFocus onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="channel-topic">{t('newChannel.topic')}</label>
          <input id="channel-topic" value={topic} maxLength={250} onInput={(e) => setTopic(e.currentTarget.value)} />
        </div>
        <label class="check">
          <input type="checkbox" checked={encrypted} onChange={(e) => setEncrypted(e.currentTarget.checked)} /> {t('newChannel.encrypted')}
        </label>
        {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
        <button type="submit" class="button button-primary" disabled={submission.pending}>
          {t('newChannel.create')}
        </button>
      </form>
    </Dialog>
  );
}

/** Find a user and open the DM with them. */
export function NewDmDialog({ onClose, myId }: CloseProps & { myId: number }) {
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<DirectoryUser[]>([]);
  const submission = useSubmit();

  useEffect(() => {
    if (query.trim() === '') {
      setFound([]);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      authenticated(() => roomsApi.searchUsers(query.trim()))
        .then((list) => current && setFound(list.filter((u) => u.id !== myId && !u.disabled)))
        .catch(() => undefined);
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query, myId]);

  async function open(user: DirectoryUser) {
    await submission.run(async () => {
      const room = await authenticated(() => roomsApi.openDm(user.id));
      onClose();
      await enterRoom(room.id);
    });
  }

  return (
    <Dialog title={t('newDm.title')} onClose={onClose}>
      <div class="field">
        <label for="dm-search">{t('newDm.find')}</label>
        <input id="dm-search" type="search" value={query} autoFocus onInput={(e) => setQuery(e.currentTarget.value)} />
      </div>
      {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
      <ul class="directory" aria-label={t('newDm.people')}>
        {found.map((user) => (
          <li key={user.id}>
            <strong>{user.username}</strong>
            <button type="button" class="button button-primary" disabled={submission.pending} onClick={() => void open(user)} aria-label={t('newDm.messageLabel', { name: user.username })}>
              {t('newDm.message')}
            </button>
          </li>
        ))}
      </ul>
    </Dialog>
  );
}
