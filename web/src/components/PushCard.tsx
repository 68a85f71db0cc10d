// The Account page's "Notifications" card: Web Push on this browser (the
// browser's permission is asked for only when "Turn on" is clicked), the
// account's "no message text" choice and do-not-disturb hours.

import { useEffect, useState } from 'preact/hooks';
import { describeError, UserFacingError } from '../api/errors.ts';
import { authenticated } from '../state/session.ts';
import * as api from '../push/api.ts';
import { disablePush, enablePush, PushFailure, pushState, refreshPushState } from '../push/client.ts';
import { browserUtcOffset, dndFromForm, formFromDnd, offsetLabel, type DndForm } from '../push/dnd.ts';
import { t } from '../i18n/index.ts';
import { Alert } from './Alert.tsx';
import { useSubmit } from './useSubmit.ts';

export function PushCard() {
  return (
    <section class="card" aria-labelledby="notifications-title">
      <h2 id="notifications-title">{t('push.title')}</h2>
      <p class="muted">{t('push.intro')}</p>
      <ThisBrowser />
      <AccountSettings />
    </section>
  );
}

/** Push on this browser: its state, and the button that changes it. */
function ThisBrowser() {
  const state = pushState.value;
  const toggle = useSubmit();
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    void refreshPushState().catch(() => undefined);
  }, []);
  const turnOn = () =>
    void toggle.run(async () => {
      setFailure(null);
      try {
        await enablePush();
      } catch (err) {
        if (err instanceof PushFailure) setFailure(err.reason === 'denied' ? t('push.denied') : t('push.subscribeFailed', { error: err.message }));
        else throw err;
      }
    });
  const turnOff = () => void toggle.run(() => disablePush());
  return (
    <div class="push-browser">
      <p role="status" class="push-state">
        {state === null ? '' : t(`push.${state}`)}
      </p>
      {state === 'off' && (
        <button type="button" class="button button-primary" disabled={toggle.pending} onClick={turnOn}>
          {t('push.enable')}
        </button>
      )}
      {state === 'on' && (
        <button type="button" class="button button-secondary" disabled={toggle.pending} onClick={turnOff}>
          {t('push.disable')}
        </button>
      )}
      {failure !== null && <Alert tone="error">{failure}</Alert>}
      {toggle.error !== null && <Alert tone="error">{toggle.error}</Alert>}
    </div>
  );
}

/** The account's settings: no message text, do-not-disturb hours (in this browser's time zone). */
function AccountSettings() {
  const offset = browserUtcOffset();
  const [noContent, setNoContent] = useState(false);
  const [form, setForm] = useState<DndForm>({ from: '', to: '' });
  const [loaded, setLoaded] = useState(false);
  const [saved, setSaved] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const submission = useSubmit();
  useEffect(() => {
    authenticated(() => api.settings())
      .then((s) => {
        setNoContent(s.no_content);
        setForm(formFromDnd(s.dnd, offset));
        setLoaded(true);
      })
      .catch((err: unknown) => setLoadError(describeError(err)));
  }, []);
  const save = (e: Event) => {
    e.preventDefault();
    setSaved(false);
    void submission.run(async () => {
      let dnd: api.DndHours | null;
      try {
        dnd = dndFromForm(form, offset);
      } catch (err) {
        throw new UserFacingError(err instanceof Error && err.message === 'same' ? t('push.dndSame') : t('push.dndIncomplete'));
      }
      const stored = await authenticated(() => api.saveSettings({ no_content: noContent, dnd }));
      setNoContent(stored.no_content);
      setForm(formFromDnd(stored.dnd, offset));
      setSaved(true);
    });
  };
  if (loadError !== null) return <Alert tone="error">{loadError}</Alert>;
  if (!loaded) return null;
  return (
    <form class="push-settings" onSubmit={save}>
      <label class="check">
        <input type="checkbox" checked={noContent} aria-describedby="push-no-content-hint" onChange={(e) => setNoContent(e.currentTarget.checked)} /> {t('push.noContent')}
      </label>
      <p id="push-no-content-hint" class="field-hint">
        {t('push.noContentHint')}
      </p>
      <fieldset class="push-dnd" aria-describedby="push-dnd-hint">
        <legend>{t('push.dndTitle')}</legend>
        <div class="field">
          <label for="push-dnd-from">{t('push.dndFrom')}</label>
          <input id="push-dnd-from" type="time" value={form.from} onInput={(e) => setForm({ ...form, from: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="push-dnd-to">{t('push.dndTo')}</label>
          <input id="push-dnd-to" type="time" value={form.to} onInput={(e) => setForm({ ...form, to: e.currentTarget.value })} />
        </div>
        <p id="push-dnd-hint" class="field-hint">
          {t('push.dndHint', { offset: offsetLabel(offset) })}
        </p>
      </fieldset>
      {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
      {saved && <Alert tone="success">{t('push.saved')}</Alert>}
      <button type="submit" class="button button-secondary" disabled={submission.pending}>
        {t('push.save')}
      </button>
    </form>
  );
}
