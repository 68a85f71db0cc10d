// The image viewer: a modal dialog over the chat that shows one image of the
// open channel fitted to the screen, zooms (buttons, + and - keys, a
// 100%/fit toggle; a zoomed image pans by scrolling or dragging), pages
// through the channel's images (buttons, ← and → keys), downloads the
// original file and closes on Escape or Close, giving the focus back to the
// thumbnail that opened it.
//
// Encrypted images are the `blob:` URLs the page made when it decrypted them:
// nothing decrypted leaves the page, and Download saves that same blob.

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Message } from '../../api/messages.ts';
import { timelines } from '../../chat/store.ts';
import { fitScale, galleryOf, knownSizes, place, viewing, zoomStep, type GalleryImage, type Viewing } from '../../files/gallery.ts';
import { openEncrypted, opened, retryEncrypted } from '../../files/uploads.ts';
import { noteOf } from './FilePanels.tsx';
import { BrokenImage } from './ImageThumb.tsx';
import './images.css';
import { formatDateTime } from '../../i18n/format.ts';
import { t } from '../../i18n/index.ts';

/** Mounted once on the chat page: the viewer, while an image is open. */
export function ImageViewer() {
  const state = viewing.value;
  return state === null ? null : <ViewerDialog key={state.fileId} state={state} />;
}

/** The loaded messages of the channel that holds this file (file ids are unique). */
function messagesWith(fileId: number): readonly Message[] {
  for (const timeline of Object.values(timelines.value)) {
    if (timeline.messages.some((m) => m.file?.id === fileId)) return timeline.messages;
  }
  return [];
}

type Source = { kind: 'src'; src: string } | { kind: 'error'; error: string } | { kind: 'decrypting' };

/** Where an image's pixels come from, or why they cannot be shown. */
function sourceOf(image: GalleryImage): Source {
  if (image.note === null) return { kind: 'src', src: `${image.file.url}?inline=true` };
  const state = opened.value[image.file.id];
  if (state === undefined) return { kind: 'decrypting' };
  return 'url' in state ? { kind: 'src', src: state.url } : { kind: 'error', error: state.error };
}

function when(iso: string): string {
  return formatDateTime(iso) ?? '';
}

/** Gives the focus back to the thumbnail that opened the viewer (or the same image's thumbnail, if it was drawn again). */
function restoreFocus(state: Viewing): void {
  const target = state.opener?.isConnected === true ? state.opener : document.querySelector<HTMLElement>(`[data-viewer-file="${state.fileId}"]`);
  target?.focus();
}

function ViewerDialog({ state }: { state: Viewing }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const stage = useRef<HTMLDivElement>(null);
  const [fileId, setFileId] = useState(state.fileId);
  // null: fitted to the stage; a number: that many image pixels per CSS pixel.
  const [zoom, setZoom] = useState<number | null>(null);
  const [natural, setNatural] = useState<{ width: number; height: number } | null>(knownSizes.get(state.fileId) ?? null);
  const [failed, setFailed] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const drag = useRef<{ x: number; y: number } | null>(null);

  const { list, index } = place(galleryOf(messagesWith(state.fileId), noteOf), fileId, state.fallback);
  const image = list[index] ?? state.fallback;
  const source = sourceOf(image);

  useEffect(() => {
    const el = dialog.current;
    if (el !== null && !el.open) el.showModal();
    return () => el?.close();
  }, []);

  // An encrypted image that was not opened yet (paging to it) is decrypted here, in the page.
  useEffect(() => {
    if (image.note !== null) void openEncrypted(image.file, image.note);
  }, [image.file.id]);

  // Keep the middle of what is shown in the middle when the zoom changes.
  const centre = useRef<{ x: number; y: number } | null>(null);
  useLayoutEffect(() => {
    const el = stage.current;
    const c = centre.current;
    if (el === null || c === null) return;
    el.scrollLeft = c.x * el.scrollWidth - el.clientWidth / 2;
    el.scrollTop = c.y * el.scrollHeight - el.clientHeight / 2;
    centre.current = null;
  }, [zoom]);

  // The keys work wherever the focus is while the viewer is open (it is modal).
  const keys = useRef(onKeyDown);
  keys.current = onKeyDown;
  useEffect(() => {
    const listener = (e: KeyboardEvent) => keys.current(e);
    document.addEventListener('keydown', listener);
    return () => document.removeEventListener('keydown', listener);
  }, []);

  function close() {
    viewing.value = null;
    // After the dialog is gone (the browser may move the focus itself when it closes).
    requestAnimationFrame(() => restoreFocus(state));
  }

  function go(to: number) {
    const next = list[to];
    if (next === undefined) return;
    setFileId(next.file.id);
    setZoom(null);
    setFailed(false);
    setNatural(knownSizes.get(next.file.id) ?? null);
    // At an end the button just used is disabled: the focus moves to the other one instead of leaving the viewer.
    requestAnimationFrame(() => {
      const active = document.activeElement;
      const lost = active === null || active === document.body || (active instanceof HTMLButtonElement && active.disabled);
      if (!lost) return;
      dialog.current?.querySelector<HTMLElement>('.viewer-tools button:not([disabled])')?.focus();
    });
  }

  function currentScale(): number {
    if (zoom !== null) return zoom;
    const el = stage.current;
    if (natural === null || el === null) return 1;
    return fitScale(natural, { width: el.clientWidth, height: el.clientHeight });
  }

  function setZoomKeepingCentre(next: number | null) {
    const el = stage.current;
    if (el !== null && el.scrollWidth > 0) {
      centre.current = { x: (el.scrollLeft + el.clientWidth / 2) / el.scrollWidth, y: (el.scrollTop + el.clientHeight / 2) / el.scrollHeight };
    }
    setZoom(next);
  }

  function zoomBy(direction: 1 | -1) {
    const scale = currentScale();
    const el = stage.current;
    const fit = natural !== null && el !== null ? fitScale(natural, { width: el.clientWidth, height: el.clientHeight }) : 1;
    setZoomKeepingCentre(zoomStep(scale, direction, fit));
  }

  const toggle = () => setZoomKeepingCentre(zoom === null ? 1 : null);

  function onKeyDown(e: KeyboardEvent) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    // In the zoomed stage the arrow keys pan (the browser scrolls it).
    const panning = zoom !== null && e.target === stage.current;
    if (e.key === 'ArrowLeft' && !panning) {
      e.preventDefault();
      go(index - 1);
    } else if (e.key === 'ArrowRight' && !panning) {
      e.preventDefault();
      go(index + 1);
    } else if (e.key === '+' || e.key === '=') {
      e.preventDefault();
      zoomBy(1);
    } else if (e.key === '-') {
      e.preventDefault();
      zoomBy(-1);
    } else if (e.key === '0') {
      e.preventDefault();
      toggle();
    } else if (e.key === 'Tab') {
      trapTab(e);
    }
  }

  /** The focus cycles inside the viewer: from the last control to the first, and back. */
  function trapTab(e: KeyboardEvent) {
    const el = dialog.current;
    if (el === null) return;
    const focusable = Array.from(el.querySelectorAll<HTMLElement>('button:not([disabled]), a[href], [tabindex="0"]'));
    const first = focusable[0];
    const last = focusable.at(-1);
    if (first === undefined || last === undefined) return;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }

  // A plaintext image is asked for again; an encrypted one is downloaded and decrypted again after a failure.
  const note = image.note;
  const retry =
    note === null
      ? () => {
          setFailed(false);
          setAttempt(attempt + 1);
        }
      : source.kind === 'error'
        ? () => void retryEncrypted(image.file, note)
        : undefined;

  const shownScale = zoom ?? (natural !== null ? currentScale() : null);
  const zoomed = zoom !== null;
  const download = image.note === null ? image.file.url : source.kind === 'src' ? source.src : null;

  return (
    <dialog
      ref={dialog}
      class="viewer"
      aria-labelledby="viewer-title"
      aria-describedby="viewer-meta"
      onCancel={(e) => {
        e.preventDefault();
        close();
      }}
    >
      <div class="viewer-bar">
        <div class="viewer-info">
          <h2 id="viewer-title">{image.name}</h2>
          <p id="viewer-meta" class="muted">
            {image.sender !== null && image.createdAt !== null ? (
              <>
                <span class="viewer-sender">{image.sender}</span> · <time dateTime={image.createdAt}>{when(image.createdAt)}</time>
              </>
            ) : (
              t('image.fallbackMeta')
            )}
          </p>
        </div>
        <p class="viewer-count" aria-live="polite">
          {t('image.count', { n: index + 1, total: list.length })}
        </p>
        <div class="viewer-tools" role="group" aria-label={t('image.tools')}>
          <button type="button" class="button button-secondary" aria-label={t('image.previous')} title={t('image.previousTitle')} disabled={index === 0} onClick={() => go(index - 1)}>
            <span aria-hidden="true">‹</span>
          </button>
          <button type="button" class="button button-secondary" aria-label={t('image.next')} title={t('image.nextTitle')} disabled={index >= list.length - 1} onClick={() => go(index + 1)}>
            <span aria-hidden="true">›</span>
          </button>
          <button type="button" class="button button-secondary" aria-label={t('image.zoomOut')} title={t('image.zoomOutTitle')} disabled={!zoomed} onClick={() => zoomBy(-1)}>
            <span aria-hidden="true">−</span>
          </button>
          <output class="viewer-zoom" aria-label={t('image.zoomLevel')}>
            {shownScale !== null ? `${Math.round(shownScale * 100)}%` : ''}
          </output>
          <button type="button" class="button button-secondary" aria-label={t('image.zoomIn')} title={t('image.zoomInTitle')} onClick={() => zoomBy(1)}>
            <span aria-hidden="true">+</span>
          </button>
          <button type="button" class="button button-secondary" aria-pressed={zoomed} onClick={toggle} title={zoomed ? t('image.fitTitle') : t('image.actualTitle')}>
            {zoomed ? t('image.fit') : '100%'}
          </button>
          {download !== null && (
            <a class="button button-secondary" href={download} download={image.name}>
              {t('image.download')}
            </a>
          )}
          <button type="button" class="button button-primary" onClick={close}>
            {t('image.close')}
          </button>
        </div>
      </div>
      <div
        ref={stage}
        class={`viewer-stage${zoomed ? ' zoomed' : ''}`}
        // Zoomed, the stage scrolls: it takes the focus so that the keyboard can pan it too.
        role={zoomed ? 'group' : undefined}
        aria-label={zoomed ? t('image.pan') : undefined}
        tabIndex={zoomed ? 0 : undefined}
        onPointerDown={(e) => {
          if (!zoomed) return;
          drag.current = { x: e.clientX, y: e.clientY };
          e.currentTarget.setPointerCapture(e.pointerId);
        }}
        onPointerMove={(e) => {
          const from = drag.current;
          if (from === null) return;
          e.currentTarget.scrollLeft -= e.clientX - from.x;
          e.currentTarget.scrollTop -= e.clientY - from.y;
          drag.current = { x: e.clientX, y: e.clientY };
        }}
        onPointerUp={() => (drag.current = null)}
        onPointerCancel={() => (drag.current = null)}
      >
        {source.kind === 'decrypting' ? (
          <p class="muted viewer-message">{t('image.decrypting')}</p>
        ) : source.kind === 'error' || failed ? (
          <div class="viewer-message">
            <BrokenImage
              name={image.name}
              reason={source.kind === 'error' ? source.error : undefined}
              download={download !== null ? { href: download, name: image.name } : undefined}
              onRetry={retry}
            />
          </div>
        ) : (
          <img
            key={`${image.file.id}-${attempt}`}
            class="viewer-image"
            src={attempt > 0 ? `${source.src}&attempt=${attempt}` : source.src}
            alt={image.name}
            draggable={false}
            style={zoomed && natural !== null ? { width: `${natural.width * zoom}px`, height: `${natural.height * zoom}px` } : undefined}
            onLoad={(e) => {
              const img = e.currentTarget;
              const size = { width: img.naturalWidth, height: img.naturalHeight };
              knownSizes.set(image.file.id, size);
              setNatural(size);
            }}
            onError={() => setFailed(true)}
          />
        )}
      </div>
    </dialog>
  );
}
