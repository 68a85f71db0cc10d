// A plaintext channel's integrations, in the room settings for its owner
// and admins: incoming webhooks (make one, its URL shown once with a copy
// button, list, delete) and outgoing webhooks (register a URL with
// keywords, its signing secret shown once, list, delete, and each one's
// delivery log). The server decides who may (docs/PERMISSIONS.md).

import { useEffect, useState } from 'preact/hooks';
import * as api from '../../api/webhooks.ts';
import type { Delivery, IncomingWebhook, OutgoingWebhook } from '../../api/webhooks.ts';
import type { Channel } from '../../api/rooms.ts';
import { authenticated } from '../../state/session.ts';
import { Alert } from '../Alert.tsx';
import { confirmAction } from '../ConfirmDialog.tsx';
import { ShownOnce } from '../ShownOnce.tsx';
import { useSubmit } from '../useSubmit.ts';
import { t } from '../../i18n/index.ts';

export function Integrations({ channel }: { channel: Channel }) {
  const [incoming, setIncoming] = useState<IncomingWebhook[]>([]);
  const [outgoing, setOutgoing] = useState<OutgoingWebhook[]>([]);
  const [shown, setShown] = useState<{ label: string; value: string } | null>(null);
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [keywords, setKeywords] = useState('');
  const submission = useSubmit();

  async function reload() {
    const [a, b] = await Promise.all([authenticated(() => api.listIncoming(channel.id)), authenticated(() => api.listOutgoing(channel.id))]);
    setIncoming(a);
    setOutgoing(b);
  }
  useEffect(() => {
    void submission.run(reload);
  }, [channel.id]);

  async function makeIncoming(event: Event) {
    event.preventDefault();
    await submission.run(async () => {
      const made = await authenticated(() => api.createIncoming(channel.id, name));
      setShown({ label: t('webhooks.url'), value: made });
      setName('');
      await reload();
    });
  }

  async function makeOutgoing(event: Event) {
    event.preventDefault();
    const words = keywords.split(/[\s,]+/).filter((w) => w !== '');
    await submission.run(async () => {
      const secret = await authenticated(() => api.createOutgoing(channel.id, url, words));
      setShown({ label: t('webhooks.secret'), value: secret });
      setUrl('');
      setKeywords('');
      await reload();
    });
  }

  async function remove(kind: 'incoming' | 'outgoing', id: number, label: string) {
    if (!(await confirmAction({ title: t('webhooks.deleteTitle', { name: label }), message: t('webhooks.deleteMessage'), action: t('webhooks.delete') }))) return;
    await submission.run(async () => {
      await authenticated(() => (kind === 'incoming' ? api.deleteIncoming(channel.id, id) : api.deleteOutgoing(channel.id, id)));
      await reload();
    });
  }

  const prefix = `integrations-${channel.id}`;
  return (
    <details class="settings-integrations">
      <summary>{t('webhooks.title')}</summary>
      {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
      {shown !== null && <ShownOnce label={shown.label} value={shown.value} />}
      <h4>{t('webhooks.incoming')}</h4>
      <ul aria-label={t('webhooks.incoming')}>
        {incoming.map((w) => (
          <li key={w.id}>
            <strong>{w.name}</strong> <span class="muted">{w.creator_username ?? ''}</span>{' '}
            <button type="button" class="button button-secondary danger" onClick={() => void remove('incoming', w.id, w.name)}>
              {t('webhooks.delete')}
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => void makeIncoming(e)} aria-label={t('webhooks.newIncoming')}>
        <div class="field">
          <label for={`${prefix}-name`}>{t('webhooks.name')}</label>
          <input id={`${prefix}-name`} value={name} required maxLength={64} onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <button type="submit" class="button button-primary" disabled={submission.pending}>
          {t('webhooks.create')}
        </button>
      </form>
      <h4>{t('webhooks.outgoing')}</h4>
      <ul aria-label={t('webhooks.outgoing')}>
        {outgoing.map((w) => (
          <li key={w.id}>
            <code>{w.url}</code> {w.keywords.length > 0 && <span class="muted">{w.keywords.join(', ')}</span>}{' '}
            <button type="button" class="button button-secondary danger" onClick={() => void remove('outgoing', w.id, w.url)}>
              {t('webhooks.delete')}
            </button>
            <DeliveryLog channelId={channel.id} webhookId={w.id} />
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => void makeOutgoing(e)} aria-label={t('webhooks.newOutgoing')}>
        <div class="field">
          <label for={`${prefix}-url`}>{t('webhooks.targetUrl')}</label>
          <input id={`${prefix}-url`} type="url" value={url} required maxLength={2048} onInput={(e) => setUrl(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for={`${prefix}-keywords`}>{t('webhooks.keywords')}</label>
          <input id={`${prefix}-keywords`} value={keywords} maxLength={700} onInput={(e) => setKeywords(e.currentTarget.value)} />
        </div>
        <button type="submit" class="button button-primary" disabled={submission.pending}>
          {t('webhooks.register')}
        </button>
      </form>
    </details>
  );
}

/** An outgoing webhook's delivery log, loaded when opened. */
function DeliveryLog({ channelId, webhookId }: { channelId: number; webhookId: number }) {
  const [rows, setRows] = useState<Delivery[] | null>(null);
  const submission = useSubmit();
  return (
    <details
      onToggle={(e) => {
        if (e.currentTarget.open) void submission.run(async () => setRows(await authenticated(() => api.deliveries(channelId, webhookId))));
      }}
    >
      <summary>{t('webhooks.deliveries')}</summary>
      {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
      {rows !== null && rows.length === 0 && <p class="muted">{t('webhooks.noDeliveries')}</p>}
      <ul>
        {(rows ?? []).map((d) => (
          <li key={d.id}>
            {t(`webhooks.status.${d.status}`)} · {t('webhooks.attempts', { count: d.attempts })}
            {d.last_status !== null && ` · HTTP ${d.last_status}`}
            {d.last_error !== null && ` · ${d.last_error}`}
          </li>
        ))}
      </ul>
    </details>
  );
}
