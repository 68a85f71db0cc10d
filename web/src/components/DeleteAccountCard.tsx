import { useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import type { User } from '../api/auth.ts';
import { ApiError, describeError } from '../api/errors.ts';
import { myRooms } from '../api/rooms.ts';
import { t } from '../i18n/index.ts';
import { deleteAccount } from '../state/session.ts';
import { leaveSession } from '../state/signout.ts';
import { Alert } from './Alert.tsx';
import { confirmAction } from './ConfirmDialog.tsx';
import { PasswordConfirmForm } from './PasswordConfirmForm.tsx';
import { useSubmit } from './useSubmit.ts';

/** The names of the rooms the person owns, for the refusal that names them. */
async function ownedRooms(): Promise<string> {
  const rooms = await myRooms();
  return rooms
    .filter((r) => r.my_role === 'owner' && r.kind !== 'dm')
    .map((r) => r.name)
    .join(', ');
}

/**
 * The Account page's "Delete my account" card: the password, a last
 * question, then the account is gone. What the person sent stays, shown as
 * a deleted user's; this browser forgets their keys, search index and
 * offline copy. The server refuses while they own rooms, naming them.
 */
export function DeleteAccountCard({ user }: { user: User }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = useSubmit();

  const onSubmit = (event: TargetedEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(null);
    if (password === '') {
      setError(t('deleteAccount.passwordMissing'));
      return;
    }
    void submit.run(async () => {
      const sure = await confirmAction({ title: t('deleteAccount.confirmTitle'), message: t('deleteAccount.confirmMessage'), action: t('deleteAccount.confirmAction') });
      if (!sure) return;
      try {
        await leaveSession(user, () => deleteAccount(password), true);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'invalid_credentials') setError(t('deleteAccount.wrongPassword'));
        else if (err instanceof ApiError && err.code === 'owns_rooms') setError(t('deleteAccount.ownsRooms', { rooms: await ownedRooms().catch(() => '') }));
        else if (err instanceof ApiError && err.code === 'last_admin') setError(t('deleteAccount.lastAdmin'));
        else setError(describeError(err));
      }
    });
  };

  return (
    <section class="card" aria-labelledby="delete-account-title">
      <h2 id="delete-account-title">{t('deleteAccount.title')}</h2>
      <p class="muted">{t('deleteAccount.explain')}</p>
      <PasswordConfirmForm
        class="danger-zone"
        id="delete-account-password"
        label={t('deleteAccount.password')}
        value={password}
        onValue={setPassword}
        submitLabel={t('deleteAccount.submit')}
        pendingLabel={t('deleteAccount.pending')}
        pending={submit.pending}
        onSubmit={onSubmit}
      />
      {error !== null && <Alert tone="error">{error}</Alert>}
    </section>
  );
}
