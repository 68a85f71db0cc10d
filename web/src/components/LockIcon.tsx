/**
 * A padlock drawn in SVG: emoji fonts are not everywhere (headless and
 * minimal Linux browsers show a blank box), and the lock must always show.
 */
export function LockIcon({ label }: { label?: string }) {
  return (
    <svg
      class="lock-icon"
      viewBox="0 0 16 16"
      width="14"
      height="14"
      focusable="false"
      role={label === undefined ? undefined : 'img'}
      aria-label={label}
      aria-hidden={label === undefined ? true : undefined}
    >
      {label !== undefined && <title>{label}</title>}
      <path d="M4.5 7V5a3.5 3.5 0 0 1 7 0v2" fill="none" stroke="currentColor" stroke-width="1.6" />
      <rect x="2.5" y="7" width="11" height="8" rx="1.5" fill="currentColor" />
    </svg>
  );
}
