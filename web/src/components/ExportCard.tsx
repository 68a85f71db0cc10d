import { useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import { exportMyData } from '../api/account.ts';
import { saveBlob } from '../files/save.ts';
import { ApiError, describeError } from '../api/errors.ts';
import { t } from '../i18n/index.ts';
import { Alert } from './Alert.tsx';
import { PasswordConfirmForm } from './PasswordConfirmForm.tsx';
import { useSubmit } from './useSubmit.ts';

/**
 * The Account page's "Export my data" card: the password, then a zip of
 * the account, the messages and reactions one made and one's uploads.
 * Messages of encrypted channels are in it as the server keeps them,
 * encrypted.
 */
export function ExportCard({ username }: { username: string }) {
  const [password, setPassword] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = useSubmit();

  const onSubmit = (event: TargetedEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(null);
    setNotice(null);
    if (password === '') {
      setError(t('exportData.passwordMissing'));
      return;
    }
    void submit.run(async () => {
      try {
        const archive = await exportMyData(password);
        saveBlob(archive, `securechat-export-${username}.zip`);
        setPassword('');
        setNotice(t('exportData.done'));
      } catch (err) {
        if (err instanceof ApiError && err.code === 'invalid_credentials') setError(t('exportData.wrongPassword'));
        else if (err instanceof ApiError && err.status === 503) setError(t('exportData.busy'));
        else setError(describeError(err));
      }
    });
  };

  return (
    <section class="card" aria-labelledby="export-title">
      <h2 id="export-title">{t('exportData.title')}</h2>
      <p class="muted">{t('exportData.explain')}</p>
      <PasswordConfirmForm
        id="export-password"
        label={t('exportData.password')}
        value={password}
        onValue={setPassword}
        submitLabel={t('exportData.submit')}
        pendingLabel={t('exportData.pending')}
        pending={submit.pending}
        onSubmit={onSubmit}
      />
      {notice !== null && <Alert tone="success">{notice}</Alert>}
      {error !== null && <Alert tone="error">{error}</Alert>}
    </section>
  );
}
