import { exportRoom, type RoomWithChannels } from '../../api/rooms.ts';
import { t } from '../../i18n/index.ts';
import { Alert } from '../Alert.tsx';
import { PasswordConfirmForm } from '../PasswordConfirmForm.tsx';
import { useArchiveDownload } from '../useArchiveDownload.ts';

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
    </section>
  );
}
