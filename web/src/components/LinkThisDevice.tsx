// "Link this browser": a new browser shows a code (and a QR code of a URL
// carrying it) to enter on a device that has the person's keys, then the
// short string both must show, and takes the keys once the person confirmed
// that the strings match on both. A reload goes on with the same link.

import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/errors.ts';
import { cancelLink, finishLink, linkSas, linkUrl, resumableLink, startLink } from '../e2ee/engine.ts';
import { Alert } from './Alert.tsx';
import { QrCode } from './QrCode.tsx';
import { formatShortTime } from '../i18n/format.ts';
import { t } from '../i18n/index.ts';
import { withParts } from '../i18n/rich.tsx';

/** How often the relay is asked whether the other device answered. */
const POLL_MS = 1500;

type Step =
  | { kind: 'idle' }
  | { kind: 'starting' }
  | { kind: 'waiting'; code: string; expires: string }
  | { kind: 'compare'; code: string; sas: string }
  | { kind: 'finishing'; code: string; sas: string }
  | { kind: 'mismatch' };

export function LinkThisDevice({ prefix }: { prefix: string }) {
  const [step, setStep] = useState<Step>({ kind: 'idle' });
  const [error, setError] = useState<string | null>(null);

  // A link started before a reload goes on.
  useEffect(() => {
    let live = true;
    void resumableLink()
      .then((open) => {
        if (live && open !== null) setStep({ kind: 'waiting', code: open.code, expires: open.expires_at });
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);

  // Waiting for the other device: its answer gives the string to compare; after the
  // person confirmed, its payload brings the keys.
  useEffect(() => {
    if (step.kind !== 'waiting' && step.kind !== 'finishing') return;
    let live = true;
    const tick = async () => {
      try {
        if (step.kind === 'waiting') {
          const sas = await linkSas(step.code);
          if (live && sas !== null) setStep({ kind: 'compare', code: step.code, sas });
        } else if ((await finishLink(step.code)) !== false) {
          live = false;
        }
      } catch (err) {
        if (live) setError(describeError(err));
      }
    };
    void tick();
    const timer = setInterval(() => void tick(), POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [step]);

  async function start() {
    setError(null);
    setStep({ kind: 'starting' });
    try {
      const opened = await startLink();
      setStep({ kind: 'waiting', code: opened.code, expires: opened.expires_at });
    } catch (err) {
      setError(describeError(err));
      setStep({ kind: 'idle' });
    }
  }

  const titleId = `${prefix}-link-title`;
  return (
    <section class="link-device" aria-labelledby={titleId}>
      <h3 id={titleId}>{t('link.title')}</h3>
      {step.kind === 'idle' || step.kind === 'starting' ? (
        <>
          <p>{t('link.intro')}</p>
          <button type="button" class="button" disabled={step.kind === 'starting'} onClick={() => void start()}>
            {step.kind === 'starting' ? t('link.starting') : t('link.button')}
          </button>
        </>
      ) : step.kind === 'waiting' ? (
        <div class="link-code">
          <p>{withParts(t('link.enterCode', { skipInterpolation: true }), { place: <strong>{t('link.place')}</strong>, time: formatShortTime(step.expires) })}</p>
          <p class="code" id={`${prefix}-link-code`}>
            <span class="visually-hidden">{t('link.codeLabel')}</span>
            {step.code}
          </p>
          <QrCode text={linkUrl(step.code)} label={t('link.qrLabel', { code: step.code })} />
          <p class="muted" role="status">
            {t('link.waiting')}
          </p>
          <button
            type="button"
            class="button button-secondary"
            onClick={() => {
              void cancelLink(step.code);
              setStep({ kind: 'idle' });
            }}
          >
            {t('common.cancel')}
          </button>
        </div>
      ) : step.kind === 'compare' || step.kind === 'finishing' ? (
        <div class="link-compare">
          <p>{t('link.compare')}</p>
          <p class="sas" id={`${prefix}-link-sas`}>
            <span class="visually-hidden">{t('approve.numbers')}</span>
            {step.sas}
          </p>
          {step.kind === 'compare' ? (
            <div class="button-row">
              <button type="button" class="button" onClick={() => setStep({ kind: 'finishing', code: step.code, sas: step.sas })}>
                {t('link.match')}
              </button>
              <button
                type="button"
                class="button button-secondary"
                onClick={() => {
                  void cancelLink(step.code);
                  setStep({ kind: 'mismatch' });
                }}
              >
                {t('approve.noMatch')}
              </button>
            </div>
          ) : (
            <p role="status">{t('link.waitingApproval')}</p>
          )}
        </div>
      ) : (
        <Alert tone="error">{t('link.mismatch')}</Alert>
      )}
      {step.kind === 'mismatch' && (
        <button type="button" class="button button-secondary" onClick={() => setStep({ kind: 'idle' })}>
          {t('link.startAgain')}
        </button>
      )}
      {error !== null && <Alert tone="error">{t('link.failed', { error })}</Alert>}
    </section>
  );
}
