import { useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import { ApiError, describeError } from '../api/errors.ts';
import { saveBlob } from '../files/save.ts';
import { t } from '../i18n/index.ts';
import { useSubmit } from './useSubmit.ts';

/**
 * An archive downloaded once the password is confirmed (the data export, a
 * room's export): the form's state, its submit handler, and what to show.
 * `missing` and `done` are the texts for an empty password and a finished
 * download; a wrong password and a busy server have their own.
 */
export function useArchiveDownload(fetchArchive: (password: string) => Promise<Blob>, fileName: string, texts: { missing: string; done: string }) {
  const [password, setPassword] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = useSubmit();

  const onSubmit = (event: TargetedEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(null);
    setNotice(null);
    if (password === '') {
      setError(texts.missing);
      return;
    }
    void submit.run(async () => {
      try {
        saveBlob(await fetchArchive(password), fileName);
        setPassword('');
        setNotice(texts.done);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'invalid_credentials') setError(t('exportData.wrongPassword'));
        else if (err instanceof ApiError && err.status === 503) setError(t('exportData.busy'));
        else setError(describeError(err));
      }
    });
  };

  return { password, setPassword, notice, error, pending: submit.pending, onSubmit };
}
