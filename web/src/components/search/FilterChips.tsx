// The query's filters (from:, in:, before:, after:, has:) as chips; removing
// one takes exactly its token out of the query text.

import { filterOf, searchRulesLoaded, tokens, withoutToken } from '../../search/text.ts';
import { t } from '../../i18n/index.ts';

export function FilterChips({ query, onChange }: { query: string; onChange: (query: string) => void }) {
  // Before the rules' module has loaded (just after sign-in) there are no
  // chips yet; the results arriving once it has redraw the panel with them.
  const chips = searchRulesLoaded() ? tokens(query).filter((t) => filterOf(t) !== null) : [];
  if (chips.length === 0) return null;
  return (
    <ul class="search-chips" aria-label={t('search.filters')}>
      {chips.map((chip) => (
        <li key={`${chip.start}:${chip.text}`}>
          <button type="button" class="search-chip" aria-label={t('search.removeFilter', { filter: chip.text })} onClick={() => onChange(withoutToken(query, chip))}>
            <span>{chip.text}</span>
            <span aria-hidden="true">×</span>
          </button>
        </li>
      ))}
    </ul>
  );
}
