// The search panel: a side panel on wide screens, the whole screen on a
// phone. A query box (words, "phrases" and filters), the filters as chips,
// the order, results from the server and from this device's index of
// encrypted messages in one list grouped by channel, "Load more", errors in
// the server's words, an empty state, and the local index's progress.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Sort } from '../../search/api.ts';
import { jumpToMessage } from '../../search/jump.ts';
import { localBackfill } from '../../search/local.ts';
import { groupByChannel, type Hit, mergeHits } from '../../search/merge.ts';
import { closeSearch, searchPanel } from '../../search/panel.ts';
import { describeError } from '../../api/errors.ts';
import { Alert } from '../Alert.tsx';
import { FilterChips } from './FilterChips.tsx';
import { IndexProgress } from './IndexProgress.tsx';
import { SearchResults } from './SearchResults.tsx';
import { useSearch } from './useSearch.ts';
import './search.css';
import { t } from '../../i18n/index.ts';

/** Below this width the panel covers the screen, so a jump closes it to show the message. */
const PHONE = '(max-width: 48rem)';

export function SearchPanel() {
  const opened = searchPanel.value;
  const [text, setText] = useState(opened?.query ?? '');
  const [sort, setSort] = useState<Sort>('relevance');
  const [jumpError, setJumpError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const { state, loadMore } = useSearch(text, sort);

  // Each open (`/`, the switcher) brings its text and the focus; the index catches up on what was written since.
  useEffect(() => {
    if (opened === null) return;
    setText(opened.query);
    input.current?.focus();
    localBackfill()?.catchUp();
  }, [opened?.seq]);

  const groups = useMemo(() => groupByChannel(mergeHits(state.server, state.local, state.next === null, sort)), [state, sort]);
  const count = groups.reduce((n, g) => n + g.hits.length, 0);

  async function jump(hit: Hit) {
    setJumpError(null);
    if (window.matchMedia(PHONE).matches) closeSearch();
    try {
      await jumpToMessage(hit.channelId, hit.messageId);
    } catch (err) {
      setJumpError(describeError(err));
    }
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'Escape') {
      e.preventDefault();
      closeSearch();
    }
  }

  return (
    <aside class="search-panel" aria-labelledby="search-title" onKeyDown={onKeyDown}>
      <div class="search-head">
        <h2 id="search-title">{t('search.title')}</h2>
        <button type="button" class="button button-secondary" onClick={closeSearch}>
          {t('common.close')}
        </button>
      </div>
      <form class="search-form" role="search" onSubmit={(e) => e.preventDefault()}>
        <div class="field search-field">
          <label for="search-input" class="visually-hidden">
            {t('search.title')}
          </label>
          <input
            id="search-input"
            ref={input}
            type="search"
            autocomplete="off"
            spellcheck={false}
            placeholder={t('search.placeholder')}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </div>
        <label class="search-sort">
          <span>{t('search.order')}</span>
          <select value={sort} onChange={(e) => setSort(e.currentTarget.value === 'newest' ? 'newest' : 'relevance')}>
            <option value="relevance">{t('search.relevance')}</option>
            <option value="newest">{t('search.newest')}</option>
          </select>
        </label>
      </form>
      <FilterChips query={text} onChange={setText} />
      <IndexProgress />
      {state.error !== null && <Alert tone="error">{state.error}</Alert>}
      {jumpError !== null && <Alert tone="error">{jumpError}</Alert>}
      <p class="muted search-status" role="status" data-local-ms={state.localMs === null ? undefined : state.localMs.toFixed(1)} data-query={state.status === 'done' ? state.query : undefined}>
        {text.trim() === ''
          ? t('search.hint')
          : state.status === 'loading'
            ? t('search.searching')
            : count === 0 && state.error === null
              ? t('search.noMatch')
              : count > 0
                ? t('search.found', { count })
                : ''}
      </p>
      <SearchResults groups={groups} onJump={(hit) => void jump(hit)} />
      {state.next !== null && (
        <button type="button" class="button button-secondary search-more" onClick={() => void loadMore()}>
          {t('search.more')}
        </button>
      )}
    </aside>
  );
}
