// The merged results, grouped by channel: each with its sender, time and
// snippet (the query's words in <mark>, built as elements, never as HTML)
// and a "Jump to message" button.

import type { Group, Hit } from '../../search/merge.ts';
import type { Segment } from '../../search/text.ts';
import { formatDateTime } from '../../i18n/format.ts';
import { LockIcon } from '../LockIcon.tsx';
import { t } from '../../i18n/index.ts';

function Snippet({ segments }: { segments: readonly Segment[] }) {
  return (
    <p class="search-snippet">
      {segments.map((s, i) => (s.match ? <mark key={i}>{s.text}</mark> : <span key={i}>{s.text}</span>))}
    </p>
  );
}

function groupTitle(g: Group): string {
  return g.roomKind === 'dm' ? t('search.groupDm', { name: g.roomName }) : t('search.groupChannel', { channel: g.channelName, room: g.roomName });
}

export function SearchResults({ groups, onJump }: { groups: readonly Group[]; onJump: (hit: Hit) => void }) {
  return (
    <div class="search-results">
      {groups.map((g) => (
        <section key={g.channelId} class="search-group" aria-label={groupTitle(g)}>
          <h3 class="search-group-title">
            {g.local && <LockIcon label={t('search.foundHere')} />}
            {groupTitle(g)}
          </h3>
          <ol class="search-hits">
            {g.hits.map((h) => (
              <li key={h.messageId} class="search-hit" data-message-id={h.messageId}>
                <div class="search-hit-meta">
                  <strong>{h.sender ?? t('search.unknown')}</strong> <span class="muted">{formatDateTime(h.createdAt) ?? ''}</span>
                </div>
                <Snippet segments={h.snippet} />
                <button type="button" class="link-button search-jump" onClick={() => onJump(h)}>
                  {t('search.jump')}
                </button>
              </li>
            ))}
          </ol>
        </section>
      ))}
    </div>
  );
}
