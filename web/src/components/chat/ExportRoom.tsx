import { useState } from 'preact/hooks';
import { exportRoom, type RoomWithChannels } from '../../api/rooms.ts';
import { identityStatus } from '../../e2ee/engine.ts';
import { decryptedArchive } from '../../e2ee/roomExport.ts';
import { saveBlob } from '../../files/save.ts';
import { t } from '../../i18n/index.ts';
import { Alert } from '../Alert.tsx';
import { PasswordConfirmForm } from '../PasswordConfirmForm.tsx';
import { useArchiveDownload } from '../useArchiveDownload.ts';
import { useSubmit } from '../useSubmit.ts';

/**
 * The owner's "Export this room": the password, then a zip of the room's
 * channels (JSON, and a page per plaintext channel to browse offline) and
 * files. Encrypted channels are in it as the server keeps them: encrypted.
 */
export function ExportRoom({ room }: { room: RoomWithChannels }) {
  const archive = useArchiveDownload((password) => exportRoom(room.id, password), `securechat-room-${room.id}.zip`, {
    missing: t('roomExport.passwordMissing'),
    done: t('roomExport.done'),
  });

  return (
    <section aria-labelledby="room-export-title">
      <h3 class="settings-title" id="room-export-title">
        {t('roomExport.title')}
      </h3>
      <p class="muted">{t('roomExport.explain')}</p>
      <PasswordConfirmForm
        id="room-export-password"
        label={t('exportData.password')}
        value={archive.password}
        onValue={archive.setPassword}
        submitLabel={t('roomExport.submit')}
        pendingLabel={t('exportData.pending')}
        pending={archive.pending}
        onSubmit={archive.onSubmit}
      />
      {archive.notice !== null && <Alert tone="success">{archive.notice}</Alert>}
      {archive.error !== null && <Alert tone="error">{archive.error}</Alert>}
      {room.channels.some((c) => c.is_encrypted) && <ExportDecrypted room={room} />}
    </section>
  );
}

/**
 * The encrypted channels, decrypted in this browser with the keys it holds
 * (e2ee/roomExport.ts): a zip made here, with progress while it reads.
 */
function ExportDecrypted({ room }: { room: RoomWithChannels }) {
  const [progress, setProgress] = useState<number | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const submit = useSubmit();
  const ready = identityStatus.value.kind === 'ready';

  const run = () => {
    setNotice(null);
    void submit.run(async () => {
      setProgress(0);
      try {
        const { blob, count, unreadable } = await decryptedArchive(room, setProgress);
        saveBlob(blob, `securechat-room-${room.id}-decrypted.zip`);
        setNotice(t('roomExport.decryptedDone', { count, unreadable }));
      } finally {
        setProgress(null);
      }
    });
  };

  return (
    <div class="form-actions">
      <p class="muted">{ready ? t('roomExport.decryptedExplain') : t('roomExport.decryptedNeedsKeys')}</p>
      <button type="button" class="button button-secondary" disabled={!ready || submit.pending} aria-busy={submit.pending} onClick={run}>
        {t('roomExport.decryptedSubmit')}
      </button>
      {progress !== null && (
        <p role="status" class="muted">
          {t('roomExport.decryptedProgress', { count: progress })}
        </p>
      )}
      {notice !== null && <Alert tone="success">{notice}</Alert>}
      {submit.error !== null && <Alert tone="error">{submit.error}</Alert>}
    </div>
  );
}
