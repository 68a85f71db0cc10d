// An image attachment in the timeline: a thumbnail that opens the image
// viewer, or, when the image cannot be shown, one compact row that says so
// (instead of an empty box the size of a thumbnail).

import { knownSizes, openViewer, type GalleryImage } from '../../files/gallery.ts';
import './images.css';
import { t } from '../../i18n/index.ts';

/**
 * The thumbnail, as a button that opens the viewer. Its width and height
 * are set once the image's natural size is known in this page, so that the
 * browser reserves its aspect ratio and the timeline does not jump.
 */
export function ImageThumb({ image, src, onBroken }: { image: GalleryImage; src: string; onBroken: () => void }) {
  const size = knownSizes.get(image.file.id);
  return (
    <button type="button" class="file-thumb-button" data-viewer-file={image.file.id} aria-label={t('image.view', { name: image.name })} onClick={(e) => openViewer(image, e.currentTarget)}>
      <img
        class="file-thumb"
        src={src}
        alt={image.name}
        width={size?.width}
        height={size?.height}
        loading="lazy"
        onLoad={(e) => {
          const img = e.currentTarget;
          if (img.naturalWidth > 0) knownSizes.set(image.file.id, { width: img.naturalWidth, height: img.naturalHeight });
        }}
        onError={onBroken}
      />
    </button>
  );
}

interface BrokenProps {
  name: string;
  /** Why, when more is known than "it could not be shown" (e.g. a failed decryption). */
  reason?: string | undefined;
  /** The file to save instead, when there is one. */
  download?: { href: string; name: string } | undefined;
  onRetry?: (() => void) | undefined;
}

/** An image that could not be shown: its name, the reason, and Download and Retry where they help. */
export function BrokenImage({ name, reason, download, onRetry }: BrokenProps) {
  return (
    <div class="image-broken" role="group" aria-label={name}>
      <span class="image-broken-icon" aria-hidden="true">
        🖼
      </span>
      <span class="image-broken-name">{name}</span>
      <span class="muted">{t('image.broken')}</span>
      {reason !== undefined && <span class="image-broken-reason muted">{reason}</span>}
      {download !== undefined && (
        <a class="link-button" href={download.href} download={download.name}>
          {t('image.download')}
        </a>
      )}
      {onRetry !== undefined && (
        <button type="button" class="link-button" onClick={onRetry}>
          {t('image.retry')}
        </button>
      )}
    </div>
  );
}
