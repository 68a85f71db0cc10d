import { useEffect, useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import { UserFacingError } from '../api/errors.ts';
import { addPasskey, isCancelled, listPasskeys, passkeysSupported, removePasskey, type PasskeyInfo } from '../api/passkeys.ts';
import { t } from '../i18n/index.ts';
import { Alert } from './Alert.tsx';
import { SubmitButton } from './SubmitButton.tsx';
import { TextField } from './TextField.tsx';
import { useSubmit } from './useSubmit.ts';

/**
 * The browser's refusals as sentences: cancelled, timed out or no passkey;
 * or, when adding one, this device already holding a passkey for the
 * account. Other failures stay as they are.
 */
export function passkeyFailure(err: unknown): unknown {
  if (err instanceof DOMException && err.name === 'InvalidStateError') return new UserFacingError(t('passkeys.alreadyOnDevice'));
  return isCancelled(err) ? new UserFacingError(t('passkeys.cancelled')) : err;
}

/**
 * Passkeys on the Account page, next to two-factor sign-in: the list, adding
 * one (the current password first, then the browser's own passkey dialog)
 * and removing one. A passkey signs in without a password, and answers the
 * second step of a password sign-in when two-factor sign-in is on.
 */
export function PasskeysCard() {
  const [passkeys, setPasskeys] = useState<PasskeyInfo[] | null>(null);
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const submit = useSubmit();
  const supported = passkeysSupported();

  const reload = () =>
    listPasskeys()
      .then(setPasskeys)
      .catch(() => setPasskeys(null));
  useEffect(() => {
    void reload();
  }, []);

  const onAdd = (event: TargetedEvent<HTMLFormElement>) => {
    event.preventDefault();
    setNotice(null);
    void submit.run(async () => {
      try {
        const added = await addPasskey(password, name.trim());
        setNotice(t('passkeys.added', { name: added.name }));
        setName('');
      } catch (err) {
        throw passkeyFailure(err);
      } finally {
        setPassword('');
      }
      await reload();
    });
  };

  const onRemove = (passkey: PasskeyInfo) => {
    setNotice(null);
    void submit.run(async () => {
      await removePasskey(passkey.id);
      setNotice(t('passkeys.removed', { name: passkey.name }));
      await reload();
    });
  };

  return (
    <section class="card" aria-labelledby="passkeys-title">
      <h2 id="passkeys-title">{t('passkeys.title')}</h2>
      <p class="muted">{t('passkeys.explain')}</p>
      {passkeys !== null && passkeys.length === 0 && <p>{t('passkeys.none')}</p>}
      {passkeys !== null && passkeys.length > 0 && (
        <ul class="passkey-list">
          {passkeys.map((p) => (
            <li key={p.id}>
              <strong>{p.name}</strong>{' '}
              <span class="muted">
                {p.last_used_at === null
                  ? t('passkeys.neverUsed', { added: new Date(p.created_at).toLocaleDateString() })
                  : t('passkeys.lastUsed', { used: new Date(p.last_used_at).toLocaleString() })}
              </span>{' '}
              <button type="button" class="button button-secondary" disabled={submit.pending} aria-label={t('passkeys.removeNamed', { name: p.name })} onClick={() => onRemove(p)}>
                {t('passkeys.remove')}
              </button>
            </li>
          ))}
        </ul>
      )}
      {supported ? (
        <>
          <h3>{t('passkeys.addTitle')}</h3>
          <form onSubmit={onAdd} noValidate>
            <TextField id="passkey-name" label={t('passkeys.nameLabel')} value={name} onValue={setName} autoComplete="off" error={undefined} />
            <TextField
              id="passkey-password"
              label={t('passkeys.passwordLabel')}
              value={password}
              onValue={setPassword}
              type="password"
              autoComplete="current-password"
              error={undefined}
            />
            <SubmitButton pending={submit.pending} label={t('passkeys.add')} pendingLabel={t('passkeys.working')} />
          </form>
        </>
      ) : (
        <Alert tone="info">{t('passkeys.unsupported')}</Alert>
      )}
      {notice !== null && <Alert tone="success">{notice}</Alert>}
      {submit.error !== null && <Alert tone="error">{submit.error}</Alert>}
    </section>
  );
}
