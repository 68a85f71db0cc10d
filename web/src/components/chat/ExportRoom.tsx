import { useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import { ApiError, describeError } from '../../api/errors.ts';
import { exportRoom, type RoomWithChannels } from '../../api/rooms.ts';
import { saveBlob } from '../../files/save.ts';
import { t } from '../../i18n/index.ts';
import { Alert } from '../Alert.tsx';
import { PasswordConfirmForm } from '../PasswordConfirmForm.tsx';
import { useSubmit } from '../useSubmit.ts';

/**
 * The owner's "Export this room": the password, then a zip of the room's
 * channels (JSON, and a page per plaintext channel to browse offline) and
 * files. Encrypted channels are in it as the server keeps them: encrypted.
 */
export function ExportRoom({ room }: { room: RoomWithChannels }) {
  const [password, setPassword] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = useSubmit();

  const onSubmit = (event: TargetedEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(null);
    setNotice(null);
    if (password === '') {
      setError(t('roomExport.passwordMissing'));
      return;
    }
    void submit.run(async () => {
      try {
        saveBlob(await exportRoom(room.id, password), `securechat-room-${room.id}.zip`);
        setPassword('');
        setNotice(t('roomExport.done'));
      } catch (err) {
        if (err instanceof ApiError && err.code === 'invalid_credentials') setError(t('exportData.wrongPassword'));
        else if (err instanceof ApiError && err.status === 503) setError(t('exportData.busy'));
        else setError(describeError(err));
      }
    });
  };

  return (
    <section aria-labelledby="room-export-title">
      <h3 class="settings-title" id="room-export-title">
        {t('roomExport.title')}
      </h3>
      <p class="muted">{t('roomExport.explain')}</p>
      <PasswordConfirmForm
        id="room-export-password"
        label={t('exportData.password')}
        value={password}
        onValue={setPassword}
        submitLabel={t('roomExport.submit')}
        pendingLabel={t('exportData.pending')}
        pending={submit.pending}
        onSubmit={onSubmit}
      />
      {notice !== null && <Alert tone="success">{notice}</Alert>}
      {error !== null && <Alert tone="error">{error}</Alert>}
    </section>
  );
}
