import { exportMyData } from '../api/account.ts';
import { t } from '../i18n/index.ts';
import { Alert } from './Alert.tsx';
import { PasswordConfirmForm } from './PasswordConfirmForm.tsx';
import { useArchiveDownload } from './useArchiveDownload.ts';

/**
 * The Account page's "Export my data" card: the password, then a zip of
 * the account, the messages and reactions one made and one's uploads.
 * Messages of encrypted channels are in it as the server keeps them,
 * encrypted.
 */
export function ExportCard({ username }: { username: string }) {
  const archive = useArchiveDownload(exportMyData, `securechat-export-${username}.zip`, { missing: t('exportData.passwordMissing'), done: t('exportData.done') });

  return (
    <section class="card" aria-labelledby="export-title">
      <h2 id="export-title">{t('exportData.title')}</h2>
      <p class="muted">{t('exportData.explain')}</p>
      <PasswordConfirmForm
        id="export-password"
        label={t('exportData.password')}
        value={archive.password}
        onValue={archive.setPassword}
        submitLabel={t('exportData.submit')}
        pendingLabel={t('exportData.pending')}
        pending={archive.pending}
        onSubmit={archive.onSubmit}
      />
      {archive.notice !== null && <Alert tone="success">{archive.notice}</Alert>}
      {archive.error !== null && <Alert tone="error">{archive.error}</Alert>}
    </section>
  );
}
