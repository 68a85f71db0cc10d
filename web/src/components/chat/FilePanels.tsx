// Files in the chat: the chip (and thumbnail) of a message's file, the
// uploads above the composer, the channel's Files list and the room's
// Resources panel.

import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../../api/errors.ts';
import * as filesApi from '../../api/files.ts';
import type { FileInfo, Resource, ResourceFields } from '../../api/files.ts';
import type { Attachment, Message } from '../../api/messages.ts';
import type { Channel, RoomWithChannels } from '../../api/rooms.ts';
import { resourcesVersion } from '../../chat/store.ts';
import { decrypted } from '../../e2ee/engine.ts';
import { type FileNote, formatSize, isInlineImage, isWebLink, parseFileNote, percent } from '../../files/attachment.ts';
import { cancelUpload, dismissUpload, openEncrypted, opened, retryEncrypted, uploads } from '../../files/uploads.ts';
import { Alert } from '../Alert.tsx';
import { confirmAction } from '../ConfirmDialog.tsx';
import { BrokenImage, ImageThumb } from './ImageThumb.tsx';
import { t } from '../../i18n/index.ts';
import { personName } from '../../chat/profiles.ts';

/** A plaintext channel's file: a thumbnail for raster images (it opens the viewer), and a download link. */
export function PlainFile({ file }: { file: Attachment }) {
  const name = file.name ?? t('files.defaultName');
  const image = isInlineImage(file.content_type);
  const [broken, setBroken] = useState(false);
  // Each retry asks again past any cached failure.
  const [attempt, setAttempt] = useState(0);
  if (image && broken) {
    return (
      <div class="file-chip" data-file-id={file.id}>
        <BrokenImage
          name={name}
          download={{ href: file.url, name }}
          onRetry={() => {
            setBroken(false);
            setAttempt(attempt + 1);
          }}
        />
      </div>
    );
  }
  return (
    <div class="file-chip" data-file-id={file.id}>
      {image && (
        <ImageThumb
          key={attempt}
          image={{ file, note: null, name, sender: null, createdAt: null }}
          src={`${file.url}?inline=true${attempt > 0 ? `&attempt=${attempt}` : ''}`}
          onBroken={() => setBroken(true)}
        />
      )}
      <a class="file-link" href={file.url} download={name}>
        {name}
      </a>{' '}
      <span class="muted">{formatSize(file.size)}</span>
    </div>
  );
}

/** An encrypted channel's file, opened in the browser with the key from its message; an image opens the viewer. */
export function EncryptedFile({ file, note }: { file: Attachment; note: FileNote }) {
  const state = opened.value[file.id];
  const image = isInlineImage(note.type);
  const [undecodable, setUndecodable] = useState(false);
  useEffect(() => {
    if (image) void openEncrypted(file, note);
  }, [file.id, image]);
  const url = state !== undefined && 'url' in state ? state.url : null;
  if (image && (undecodable || (state !== undefined && 'error' in state))) {
    return (
      <div class="file-chip" data-file-id={file.id}>
        <BrokenImage
          name={note.name}
          reason={state !== undefined && 'error' in state ? state.error : undefined}
          download={url !== null ? { href: url, name: note.name } : undefined}
          onRetry={url === null ? () => void retryEncrypted(file, note) : undefined}
        />
        {note.caption !== '' && <p class="message-text">{note.caption}</p>}
      </div>
    );
  }
  return (
    <div class="file-chip" data-file-id={file.id}>
      {image && url !== null && <ImageThumb image={{ file, note, name: note.name, sender: null, createdAt: null }} src={url} onBroken={() => setUndecodable(true)} />}
      {image && state === undefined && <p class="muted">{t('files.decryptingImage')}</p>}
      {url !== null ? (
        <a class="file-link" href={url} download={note.name}>
          {note.name}
        </a>
      ) : (
        <button type="button" class="link-button file-link" onClick={() => void openEncrypted(file, note)}>
          {note.name}
        </button>
      )}{' '}
      <span class="muted">{formatSize(note.size)}</span>
      {state !== undefined && 'error' in state && <Alert tone="error">{state.error}</Alert>}
      {note.caption !== '' && <p class="message-text">{note.caption}</p>}
    </div>
  );
}

/** The file note of an encrypted message, when it is one. */
export function noteOf(message: Message): FileNote | null {
  const result = decrypted.value[message.id];
  // The envelope says whether it is a file note (format 2); a message the
  // server attaches a file to is not made one by that.
  if (message.file == null || result?.kind !== 'text' || (result.what !== null && result.what !== 'file')) return null;
  return parseFileNote(result.text, message.file.id);
}

/** Uploads of this channel: a progress bar with Cancel, or why it failed. */
export function UploadList({ channelId }: { channelId: number }) {
  const mine = uploads.value.filter((u) => u.channel_id === channelId);
  if (mine.length === 0) return null;
  return (
    <ul class="uploads" aria-label={t('files.uploads')}>
      {mine.map((u) => (
        <li key={u.id} class="upload" data-phase={u.phase}>
          <span class="upload-name">{u.name}</span>
          {u.phase === 'failed' ? (
            <>
              <Alert tone="error">{t('files.uploadFailed', { error: u.error })}</Alert>
              <button type="button" class="link-button" onClick={() => dismissUpload(u.id)}>
                {t('files.dismiss')}
              </button>
            </>
          ) : (
            <>
              <progress class="upload-progress" max={100} value={u.phase === 'encrypting' ? undefined : percent(u)} aria-label={t('files.uploading', { name: u.name })} />
              <span class="muted upload-status">{u.phase === 'encrypting' ? t('files.encrypting') : u.phase === 'sending' ? t('files.sending') : t('files.percent', { percent: percent(u) })}</span>
              <button type="button" class="link-button" onClick={() => cancelUpload(u.id)}>
                {t('common.cancel')}
              </button>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

/** The files of a channel, newest first. Encrypted files are named from their decrypted messages. */
export function FilesPanel({ channel, messages, onClose }: { channel: Channel; messages: readonly Message[]; onClose: () => void }) {
  const [files, setFiles] = useState<FileInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setFiles(null);
    filesApi
      .channelFiles(channel.id)
      .then(setFiles)
      .catch((err: unknown) => setError(describeError(err)));
  }, [channel.id, messages.length]);
  const notes = new Map<number, FileNote>();
  for (const m of messages) {
    const note = channel.is_encrypted ? noteOf(m) : null;
    if (note !== null) notes.set(note.file_id, note);
  }
  return (
    <aside class="side-panel files-panel" aria-labelledby="files-title">
      <div class="members-head">
        <h2 id="files-title">{t('files.title')}</h2>
        <button type="button" class="button button-secondary" onClick={onClose}>
          {t('common.close')}
        </button>
      </div>
      {error !== null && <Alert tone="error">{error}</Alert>}
      {files === null && error === null && <p class="muted">{t('files.loading')}</p>}
      {files !== null && files.length === 0 && <p class="muted">{t('files.none')}</p>}
      <ul class="file-list">
        {files?.map((f) => {
          const note = notes.get(f.id);
          const attachment: Attachment = { id: f.id, name: f.name, content_type: f.content_type, size: f.size, sha256: f.sha256, encrypted: f.encrypted, url: f.url };
          return (
            <li key={f.id}>
              {f.encrypted ? note !== undefined ? <EncryptedFile file={attachment} note={note} /> : <span class="muted">{t('files.encryptedUnreadable', { size: formatSize(f.size) })}</span> : <PlainFile file={attachment} />}
            </li>
          );
        })}
      </ul>
    </aside>
  );
}

const EMPTY_FIELDS: ResourceFields = { title: '', url: '', description: '', pinned: false };

/** The room's shared links: search, add, and edit/remove/pin by the author or an admin. */
export function ResourcesPanel({ room, myId, onClose }: { room: RoomWithChannels; myId: number; onClose: () => void }) {
  const [list, setList] = useState<Resource[] | null>(null);
  const [query, setQuery] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<number | 'new' | null>(null);
  const version = resourcesVersion.value[room.id] ?? 0;
  const isAdmin = room.my_role === 'owner' || room.my_role === 'admin';

  useEffect(() => {
    let live = true;
    filesApi
      .listResources(room.id, query)
      .then((r) => {
        if (live) setList(r);
      })
      .catch((err: unknown) => {
        if (live) setError(describeError(err));
      });
    return () => {
      live = false;
    };
  }, [room.id, query, version]);

  async function act(action: () => Promise<unknown>) {
    setError(null);
    try {
      await action();
      setEditing(null);
      setList(await filesApi.listResources(room.id, query));
    } catch (err) {
      setError(describeError(err));
    }
  }

  // Room-wide resources are plaintext; sealed ones (of encrypted channels) are listed without content.
  const shown = [...(list ?? [])].sort((a, b) => Number(b.pinned) - Number(a.pinned));
  return (
    <aside class="side-panel resources-panel" aria-labelledby="resources-title">
      <div class="members-head">
        <h2 id="resources-title">{t('resources.title')}</h2>
        <button type="button" class="button button-secondary" onClick={onClose}>
          {t('common.close')}
        </button>
      </div>
      <label class="visually-hidden" for="resource-search">
        {t('resources.search')}
      </label>
      <input id="resource-search" type="search" placeholder={t('resources.search')} value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
      {error !== null && <Alert tone="error">{error}</Alert>}
      {editing === 'new' ? (
        <ResourceForm initial={EMPTY_FIELDS} onCancel={() => setEditing(null)} onSave={(f) => act(() => filesApi.addResource(room.id, f))} />
      ) : (
        <button type="button" class="button button-primary" onClick={() => setEditing('new')}>
          {t('resources.add')}
        </button>
      )}
      {list !== null && shown.length === 0 && <p class="muted">{query !== '' ? t('resources.noneMatch') : t('resources.noneYet')}</p>}
      <ul class="resource-list">
        {shown.map((r) => {
          const mayChange = isAdmin || r.created_by === myId;
          if (editing === r.id) {
            const initial = { title: r.title ?? '', url: r.url ?? '', description: r.description ?? '', pinned: r.pinned };
            return (
              <li key={r.id}>
                <ResourceForm initial={initial} onCancel={() => setEditing(null)} onSave={(f) => act(() => filesApi.updateResource(room.id, r.id, f))} />
              </li>
            );
          }
          return (
            <li key={r.id} class="resource" data-resource-id={r.id}>
              {r.pinned && <span class="pin" title={t('resources.pinned')}>📌 </span>}
              {r.envelope !== null ? (
                <span class="muted">{t('resources.encrypted')}</span>
              ) : r.url !== null && isWebLink(r.url) ? (
                <a href={r.url} target="_blank" rel="noopener noreferrer">
                  {r.title !== null && r.title !== '' ? r.title : r.url}
                </a>
              ) : (
                <strong>{r.title}</strong>
              )}
              {r.description !== null && r.description !== '' && <p class="muted">{r.description}</p>}
              <p class="muted resource-meta">{t('resources.addedBy', { name: r.created_by_username !== null ? personName(r.created_by, r.created_by_username) : t('resources.someone') })}</p>
              {mayChange && r.envelope === null && (
                <div class="message-actions">
                  <button type="button" class="link-button" onClick={() => setEditing(r.id)}>
                    {t('resources.edit')}
                  </button>
                  <button type="button" class="link-button" onClick={() => void act(() => filesApi.updateResource(room.id, r.id, { title: r.title ?? '', url: r.url ?? '', description: r.description ?? '', pinned: !r.pinned }))}>
                    {r.pinned ? t('resources.unpin') : t('resources.pin')}
                  </button>
                  <button
                    type="button"
                    class="link-button"
                    onClick={() =>
                      void confirmAction({ title: t('resources.removeTitle'), message: t('resources.removeMessage'), action: t('resources.removeAction') }).then((yes) => {
                        if (yes) void act(() => filesApi.removeResource(room.id, r.id));
                      })
                    }
                  >
                    {t('resources.remove')}
                  </button>
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </aside>
  );
}

function ResourceForm({ initial, onSave, onCancel }: { initial: ResourceFields; onSave: (f: ResourceFields) => Promise<void>; onCancel: () => void }) {
  const [fields, setFields] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="resource-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!isWebLink(fields.url.trim())) {
          setError(t('resources.onlyWeb'));
          return;
        }
        void onSave({ ...fields, title: fields.title.trim(), url: fields.url.trim(), description: fields.description.trim() });
      }}
    >
      <label>
        {t('resources.fieldTitle')}
        <input name="title" value={fields.title} required maxLength={200} onInput={(e) => setFields({ ...fields, title: e.currentTarget.value })} />
      </label>
      <label>
        {t('resources.fieldLink')}
        <input name="url" type="url" value={fields.url} required placeholder="https://" onInput={(e) => setFields({ ...fields, url: e.currentTarget.value })} />
      </label>
      <label>
        {t('resources.fieldDescription')}
        <input name="description" value={fields.description} maxLength={1000} onInput={(e) => setFields({ ...fields, description: e.currentTarget.value })} />
      </label>
      <label class="checkbox">
        <input type="checkbox" checked={fields.pinned} onChange={(e) => setFields({ ...fields, pinned: e.currentTarget.checked })} /> {t('resources.fieldPinned')}
      </label>
      {error !== null && <Alert tone="error">{error}</Alert>}
      <div class="message-actions">
        <button type="submit" class="button button-primary">
          {t('resources.save')}
        </button>
        <button type="button" class="button button-secondary" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}
