// Account → Devices: the browsers and key stores in my identity-signed
// device list (when each was last seen, revoke), and approving a new one by
// the code it shows: compare the short string, choose which conversations'
// history it gets, approve.

import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/errors.ts';
import { rooms } from '../chat/store.ts';
import type { MyDevice } from '../e2ee/devices.ts';
import { answerLink, approveLink, carriableChannels, identityStatus, myDevices, normaliseCode, revokeDevice } from '../e2ee/engine.ts';
import { Alert } from './Alert.tsx';
import { Dialog } from './Dialog.tsx';
import { TextField } from './TextField.tsx';
import { useSubmit } from './useSubmit.ts';
import { formatDateTime } from '../i18n/format.ts';
import { t } from '../i18n/index.ts';

export function DevicesCard({ linkCode }: { linkCode: string | null }) {
  const ready = identityStatus.value.kind === 'ready';
  const [list, setList] = useState<MyDevice[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [epoch, setEpoch] = useState(0);

  useEffect(() => {
    if (!ready) return;
    let live = true;
    myDevices().then(
      (devices) => live && setList(devices),
      (err: unknown) => live && setProblem(describeError(err)),
    );
    return () => {
      live = false;
    };
  }, [ready, epoch]);

  return (
    <section class="card devices" id="devices" aria-labelledby="devices-title">
      <h2 id="devices-title">{t('devices.title')}</h2>
      <p class="muted">{t('devices.intro')}</p>
      {!ready ? (
        <p>{t('devices.notReady')}</p>
      ) : (
        <>
          {problem !== null && <Alert tone="error">{t('devices.loadFailed', { error: problem })}</Alert>}
          {list === null && problem === null && <p role="status">{t('devices.loading')}</p>}
          {list !== null && <DeviceList devices={list} onChanged={() => setEpoch((n) => n + 1)} />}
          <ApproveLink initialCode={linkCode} onLinked={() => setEpoch((n) => n + 1)} />
        </>
      )}
    </section>
  );
}

function lastSeen(iso: string | null): string {
  if (iso === null) return t('devices.notSeen');
  const date = formatDateTime(iso);
  return date === null ? t('devices.earlier') : t('devices.lastSeen', { date });
}

/** A device id is 53 bits: its last digits are enough to tell devices apart. */
function shortId(id: number): string {
  return String(id).slice(-6);
}

function DeviceList({ devices, onChanged }: { devices: MyDevice[]; onChanged: () => void }) {
  const [revoking, setRevoking] = useState<MyDevice | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const submission = useSubmit();
  if (devices.length === 0) return <p>{t('devices.none')}</p>;
  return (
    <>
      <ul class="device-list" aria-label={t('devices.listLabel')}>
        {devices.map((d) => (
          <li key={d.device_id}>
            <span>
              <strong>{d.current ? t('devices.thisBrowser') : t('devices.device', { id: shortId(d.device_id) })}</strong>{' '}
              <span class="muted">{t('devices.status', { status: d.current ? t('devices.inUse') : lastSeen(d.last_seen_at) })}</span>
            </span>
            {!d.current && (
              <button type="button" class="button button-secondary" onClick={() => setRevoking(d)}>
                {t('devices.revoke')}
              </button>
            )}
          </li>
        ))}
      </ul>
      {done !== null && <Alert tone="success">{done}</Alert>}
      {revoking !== null && (
        <Dialog title={t('devices.revokeTitle')} onClose={() => setRevoking(null)}>
          <p>{t('devices.revokeText', { id: shortId(revoking.device_id) })}</p>
          {submission.error !== null && <Alert tone="error">{t('devices.revokeFailed', { error: submission.error })}</Alert>}
          <div class="button-row">
            <button
              type="button"
              class="button danger"
              disabled={submission.pending}
              onClick={() =>
                void submission.run(async () => {
                  const rotated = await revokeDevice(revoking.device_id);
                  setRevoking(null);
                  setDone(t('devices.revoked', { id: shortId(revoking.device_id), count: rotated }));
                  onChanged();
                })
              }
            >
              {submission.pending ? t('devices.revoking') : t('devices.revokeButton')}
            </button>
            <button type="button" class="button button-secondary" onClick={() => setRevoking(null)}>
              {t('devices.keep')}
            </button>
          </div>
        </Dialog>
      )}
    </>
  );
}

type Approval = { kind: 'enter' } | { kind: 'compare'; code: string; sas: string } | { kind: 'done' } | { kind: 'mismatch' };

/** Names of the channels whose keys this browser holds, for the carry-over choice. */
function channelName(channelId: number): string {
  for (const room of rooms.value) {
    const channel = room.channels.find((c) => c.id === channelId);
    if (channel !== undefined) return room.kind === 'dm' ? t('devices.dmChannel', { name: room.name }) : t('devices.roomChannel', { room: room.name, channel: channel.name });
  }
  return t('devices.unlistedChannel', { id: channelId });
}

function ApproveLink({ initialCode, onLinked }: { initialCode: string | null; onLinked: () => void }) {
  const [code, setCode] = useState(initialCode ?? '');
  const [step, setStep] = useState<Approval>({ kind: 'enter' });
  const [carry, setCarry] = useState<Set<number>>(new Set());
  const answering = useSubmit();
  const approving = useSubmit();
  const held = step.kind === 'compare' ? carriableChannels() : [];

  async function onAnswer(event: SubmitEvent) {
    event.preventDefault();
    await answering.run(async () => {
      const normal = normaliseCode(code);
      const sas = await answerLink(normal);
      setCarry(new Set(carriableChannels()));
      setStep({ kind: 'compare', code: normal, sas });
    });
  }

  return (
    <div class="approve-link" aria-labelledby="approve-link-title" role="group">
      <h3 id="approve-link-title">{t('approve.title')}</h3>
      {step.kind === 'enter' && (
        <form onSubmit={(e) => void onAnswer(e)} noValidate>
          <p>{t('approve.intro')}</p>
          <TextField id="link-code" label={t('approve.codeLabel')} autoComplete="off" value={code} onValue={setCode} error={undefined} />
          {answering.error !== null && <Alert tone="error">{t('approve.codeFailed', { error: answering.error })}</Alert>}
          <button type="submit" class="button" disabled={answering.pending || normaliseCode(code).length !== 9}>
            {answering.pending ? t('approve.connecting') : t('approve.continue')}
          </button>
        </form>
      )}
      {step.kind === 'compare' && (
        <div class="link-compare">
          <p>{t('approve.compare')}</p>
          <p class="sas" id="approve-link-sas">
            <span class="visually-hidden">{t('approve.numbers')}</span>
            {step.sas}
          </p>
          <fieldset>
            <legend>{t('approve.history')}</legend>
            {held.length === 0 ? (
              <p class="muted">{t('approve.noKeys')}</p>
            ) : (
              <>
                <p class="muted">{t('approve.carry')}</p>
                {held.map((id) => (
                  <label key={id} class="checkbox">
                    <input
                      type="checkbox"
                      checked={carry.has(id)}
                      onChange={(e) => {
                        const next = new Set(carry);
                        if (e.currentTarget.checked) next.add(id);
                        else next.delete(id);
                        setCarry(next);
                      }}
                    />{' '}
                    {channelName(id)}
                  </label>
                ))}
              </>
            )}
          </fieldset>
          {approving.error !== null && <Alert tone="error">{t('approve.failed', { error: approving.error })}</Alert>}
          <div class="button-row">
            <button
              type="button"
              class="button"
              disabled={approving.pending}
              onClick={() =>
                void approving.run(async () => {
                  await approveLink(step.code, [...carry]);
                  setStep({ kind: 'done' });
                  setCode('');
                  onLinked();
                })
              }
            >
              {approving.pending ? t('approve.linking') : t('approve.match')}
            </button>
            <button type="button" class="button button-secondary" onClick={() => setStep({ kind: 'mismatch' })}>
              {t('approve.noMatch')}
            </button>
          </div>
        </div>
      )}
      {step.kind === 'done' && (
        <Alert tone="success">{t('approve.done')}</Alert>
      )}
      {step.kind === 'mismatch' && (
        <Alert tone="error">{t('approve.mismatch')}</Alert>
      )}
      {(step.kind === 'done' || step.kind === 'mismatch') && (
        <button type="button" class="button button-secondary" onClick={() => setStep({ kind: 'enter' })}>
          {t('approve.another')}
        </button>
      )}
    </div>
  );
}
