// Account → Encryption: this browser's keys, the person's fingerprint, the
// key backup, and what can be done with them (make it with a recovery key
// or a passphrase, test or replace it; restore from it, or start over, when
// this browser has no keys).

import { useState } from 'preact/hooks';
import { backupProblem, backupState, backupUpdatedAt, pendingKey, restoreWith, storedKind, testBackup } from '../e2ee/backup.ts';
import { identityStatus, startOver } from '../e2ee/engine.ts';
import { Alert } from './Alert.tsx';
import { BackupSetup } from './BackupSetup.tsx';
import { LinkThisDevice } from './LinkThisDevice.tsx';
import { confirmAction } from './ConfirmDialog.tsx';
import { SubmitButton } from './SubmitButton.tsx';
import { TextField } from './TextField.tsx';
import { useSubmit } from './useSubmit.ts';
import { formatDateTime } from '../i18n/format.ts';
import { t } from '../i18n/index.ts';
import { withParts } from '../i18n/rich.tsx';

type IdentityStatus = typeof identityStatus.value;

export function EncryptionCard() {
  const status = identityStatus.value;
  const backup = backupState.value;
  const problem = backupProblem.value;
  // Outlives the form that reported it (a first backup swaps the forms shown).
  const [done, setDone] = useState<string | null>(null);
  return (
    <section class="card encryption" id="encryption" aria-labelledby="encryption-title">
      <h2 id="encryption-title">{t('encryption.title')}</h2>
      <p class="muted">{t('encryption.intro')}</p>
      <dl class="facts">
        <div>
          <dt>{t('encryption.thisBrowser')}</dt>
          <dd>
            <BrowserState status={status} />
          </dd>
        </div>
        {status.kind === 'ready' && (
          <div>
            <dt>{t('encryption.fingerprint')}</dt>
            <dd class="fingerprint">{status.fingerprint}</dd>
          </div>
        )}
        <div>
          <dt>{t('encryption.keyBackup')}</dt>
          <dd>
            {backup === 'stored' ? (
              withParts(
                storedKind.value === 'passphrase'
                  ? t('encryption.storedPassphrase', { skipInterpolation: true })
                  : storedKind.value === 'recovery_key'
                    ? t('encryption.storedKey', { skipInterpolation: true })
                    : t('encryption.storedEither', { skipInterpolation: true }),
                {
                  stored: <strong>{t('encryption.stored')}</strong>,
                  saved: backupUpdatedAt.value !== null ? t('encryption.savedOn', { date: savedOn(backupUpdatedAt.value) }) : '',
                },
              )
            ) : backup === 'none' ? (
              <>
                <strong>{t('encryption.notStored')}</strong> {t('encryption.notStoredNote')}
              </>
            ) : problem !== null ? (
              <strong>{t('encryption.unknown')}</strong>
            ) : status.kind === 'ready' || status.kind === 'needs-restore' ? (
              t('encryption.checking')
            ) : (
              t('encryption.unknownUntilLoaded')
            )}
          </dd>
        </div>
      </dl>
      {problem !== null && <Alert tone="error">{t('encryption.checkFailed', { problem })}</Alert>}
      {done !== null && <Alert tone="success">{done}</Alert>}
      {status.kind === 'ready' && backup === 'none' && (
        <>
          <h3 id="backup-first-title">{t('encryption.makeBackup')}</h3>
          <BackupSetup prefix="backup-first" replacing={false} onDone={setDone} />
        </>
      )}
      {status.kind === 'ready' && backup === 'stored' && (
        <>
          {pendingKey.value === null && <TestBackupForm kind={storedKind.value} onStart={() => setDone(null)} />}
          <h3 id="backup-new-title">{t('encryption.replaceBackup')}</h3>
          <BackupSetup prefix="backup-new" replacing={true} onDone={setDone} />
        </>
      )}
      {status.kind === 'needs-restore' && <RestoreForms backup={backup} />}
    </section>
  );
}

function BrowserState({ status }: { status: IdentityStatus }) {
  switch (status.kind) {
    case 'ready':
      return (
        <>
          <strong>{t('encryption.ready')}</strong> {t('encryption.readyNote')}
        </>
      );
    case 'needs-restore':
      return status.revoked === true ? (
        <>
          <strong>{t('encryption.revoked')}</strong> {t('encryption.revokedNote')}
        </>
      ) : (
        <>
          <strong>{t('encryption.needsRestore')}</strong> {t('encryption.needsRestoreNote')}
        </>
      );
    case 'loading':
      return <>{t('encryption.loadingKeys')}</>;
    case 'error':
      return (
        <>
          <strong>{t('encryption.notSetUp')}</strong> {t('encryption.unavailable', { message: status.message })}
        </>
      );
    case 'off':
      return (
        <>
          <strong>{t('encryption.notSetUp')}</strong>
        </>
      );
  }
}

function savedOn(iso: string): string {
  return formatDateTime(iso) ?? t('encryption.earlier');
}

/** Tries the recovery key or passphrase on the stored backup, here in the browser. */
function TestBackupForm({ kind, onStart }: { kind: 'recovery_key' | 'passphrase' | null; onStart: () => void }) {
  const words = kind === 'recovery_key';
  const [passphrase, setPassphrase] = useState('');
  const [opens, setOpens] = useState<boolean | null>(null);
  const submission = useSubmit();

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    onStart();
    setOpens(null);
    await submission.run(async () => setOpens(await testBackup(passphrase)));
  }

  return (
    <form onSubmit={(e) => void onSubmit(e)} noValidate aria-labelledby="backup-test-title">
      <h3 id="backup-test-title">{t('backupTest.title')}</h3>
      <p>{words ? t('backupTest.introKey') : t('backupTest.introPassphrase')}</p>
      <TextField
        id="backup-test-passphrase"
        label={words ? t('backupTest.labelKey') : t('backupTest.labelPassphrase')}
        type={words ? 'text' : 'password'}
        autoComplete="off"
        value={passphrase}
        onValue={(value) => {
          setPassphrase(value);
          setOpens(null);
        }}
        error={undefined}
      />
      {opens === true && <Alert tone="success">{words ? t('backupTest.opensKey') : t('backupTest.opensPassphrase')}</Alert>}
      {opens === false && (
        <Alert tone="error">{words ? t('backupTest.failsKey') : t('backupTest.failsPassphrase')}</Alert>
      )}
      {submission.error !== null && <Alert tone="error">{t('backupTest.failed', { error: submission.error })}</Alert>}
      <SubmitButton pending={submission.pending} label={t('backupTest.submit')} pendingLabel={t('backupTest.pending')} variant="secondary" />
    </form>
  );
}

/** This browser has no keys but the account has some: restore them, or start over. */
function RestoreForms({ backup }: { backup: 'unknown' | 'none' | 'stored' }) {
  const [passphrase, setPassphrase] = useState('');
  const kind = storedKind.value;
  const restoring = useSubmit();
  const starting = useSubmit();

  async function onRestore(event: SubmitEvent) {
    event.preventDefault();
    await restoring.run(() => restoreWith(passphrase, kind ?? 'passphrase'));
  }

  return (
    <>
      <LinkThisDevice prefix="account" />
      {backup === 'stored' ? (
        <form onSubmit={(e) => void onRestore(e)} noValidate aria-labelledby="restore-backup-title">
          <h3 id="restore-backup-title">{t('restore.title')}</h3>
          <p>{kind === 'recovery_key' ? t('restore.introKey') : t('restore.introPassphrase')}</p>
          <TextField
            id="restore-backup-passphrase"
            label={kind === 'recovery_key' ? t('restore.labelKey') : t('restore.labelPassphrase')}
            type={kind === 'recovery_key' ? 'text' : 'password'}
            autoComplete="off"
            value={passphrase}
            onValue={setPassphrase}
            error={undefined}
          />
          {restoring.error !== null && (
            <Alert tone="error">{kind === 'recovery_key' ? t('restore.failedKey', { error: restoring.error }) : t('restore.failedPassphrase', { error: restoring.error })}</Alert>
          )}
          <SubmitButton pending={restoring.pending} label={t('restore.submit')} pendingLabel={t('restore.pending')} />
        </form>
      ) : backup === 'none' ? (
        <Alert tone="info">{t('restore.nothing')}</Alert>
      ) : null}
      <div class="start-over" role="group" aria-labelledby="start-over-title">
        <h3 id="start-over-title">{t('startOver.title')}</h3>
        <p>{t('startOver.text')}</p>
        {starting.error !== null && <Alert tone="error">{t('startOver.failed', { error: starting.error })}</Alert>}
        <button
          type="button"
          class="button button-secondary"
          disabled={starting.pending}
          onClick={() =>
            void confirmAction({
              title: t('startOver.confirmTitle'),
              message: t('startOver.confirmMessage'),
              action: t('startOver.confirmAction'),
            }).then((yes) => {
              if (yes) void starting.run(startOver);
            })
          }
        >
          {starting.pending ? t('startOver.pending') : t('startOver.button')}
        </button>
      </div>
    </>
  );
}
