// How far this browser's index of encrypted messages is, with Pause and
// Resume: the backfill reads every encrypted channel's history once.

import { backfillView } from '../../search/backfill.ts';
import { indexState, localBackfill } from '../../search/local.ts';
import { formatNumber } from '../../i18n/format.ts';
import { t } from '../../i18n/index.ts';

export function IndexProgress() {
  const state = indexState.value;
  const view = backfillView.value;
  const backfill = localBackfill();
  if (state.kind === 'off') return null;
  if (state.kind === 'opening') return <p class="search-index muted" role="status">{t('search.opening')}</p>;
  if (state.kind === 'error') {
    return (
      <p class="search-index muted" role="status">
        {t('search.indexUnavailable', { message: state.message })}
      </p>
    );
  }
  const counts = { indexed: formatNumber(view.indexed), estimate: formatNumber(Math.max(view.estimate, view.indexed)) };
  return (
    <div class="search-index" role="status" data-spent={JSON.stringify(view.spent)}>
      {view.state === 'done' ? (
        <p class="muted">{t('search.indexed', { indexed: counts.indexed })}</p>
      ) : view.state === 'paused' ? (
        <p class="muted">{t('search.paused', counts)}</p>
      ) : view.state === 'error' ? (
        <p class="muted">{t('search.stopped', { error: view.error })}</p>
      ) : (
        <p class="muted">{t('search.indexing', counts)}</p>
      )}
      {view.locked > 0 && <p class="muted search-locked">{t('search.locked', { locked: formatNumber(view.locked) })}</p>}
      {backfill !== null && view.state !== 'done' && (
        <button type="button" class="link-button" onClick={() => (view.state === 'paused' || view.state === 'error' ? backfill.resume() : backfill.pause())}>
          {view.state === 'paused' || view.state === 'error' ? t('search.resume') : t('search.pause')}
        </button>
      )}
    </div>
  );
}
