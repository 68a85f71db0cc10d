// The images of a channel as the image viewer pages through them, the
// viewer's open/closed state, and the zoom steps. Pure rules, apart from the
// one signal that says which image is open.
//
// The viewer never fetches an encrypted image itself: it shows the `blob:`
// URL the page made when it decrypted the file (files/uploads.ts), so the
// decrypted bytes stay in this page.

import { signal } from '@preact/signals';
import type { Attachment, Message } from '../api/messages.ts';
import { type FileNote, isInlineImage } from './attachment.ts';

/** One image the viewer can show. */
export interface GalleryImage {
  file: Attachment;
  /** The file note of an encrypted image (its key, name and type), else null. */
  note: FileNote | null;
  name: string;
  /** Who sent it and when; null for a file whose message is not loaded. */
  sender: string | null;
  createdAt: string | null;
}

/**
 * The images of a channel's messages, oldest first: raster images only
 * (never SVG), deleted messages left out, and an encrypted file only once
 * its message is decrypted into a note that names it.
 */
export function galleryOf(messages: readonly Message[], noteOf: (m: Message) => FileNote | null): GalleryImage[] {
  const images: GalleryImage[] = [];
  for (const m of messages) {
    const file = m.file;
    if (m.deleted || file == null) continue;
    const sender = m.sender_username ?? 'unknown';
    if (file.encrypted) {
      const note = noteOf(m);
      if (note !== null && isInlineImage(note.type)) images.push({ file, note, name: note.name, sender, createdAt: m.created_at });
    } else if (isInlineImage(file.content_type)) {
      images.push({ file, note: null, name: file.name ?? 'image', sender, createdAt: m.created_at });
    }
  }
  return images;
}

/** What the viewer has open: the image clicked, and where the focus goes back to. */
export interface Viewing {
  fileId: number;
  /** Shown alone when the file's message is not among the loaded ones (e.g. from the Files panel). */
  fallback: GalleryImage;
  opener: HTMLElement | null;
}

export const viewing = signal<Viewing | null>(null);

export function openViewer(image: GalleryImage, opener: HTMLElement | null): void {
  viewing.value = { fileId: image.file.id, fallback: image, opener };
}

/**
 * The list the viewer pages through and where the open image is in it: the
 * channel's images when the file is among them, else the clicked image alone.
 */
export function place(images: readonly GalleryImage[], fileId: number, fallback: GalleryImage): { list: readonly GalleryImage[]; index: number } {
  const index = images.findIndex((image) => image.file.id === fileId);
  return index === -1 ? { list: [fallback], index: 0 } : { list: images, index };
}

/** Natural sizes of the images seen in this page, so that a thumbnail shown again keeps its place before it loads. */
export const knownSizes = new Map<number, { width: number; height: number }>();

export const MIN_ZOOM = 0.1;
export const MAX_ZOOM = 8;
const STEP = 1.5;

/** The scale at which an image fits the stage (never above its natural size). */
export function fitScale(natural: { width: number; height: number }, stage: { width: number; height: number }): number {
  if (natural.width <= 0 || natural.height <= 0) return 1;
  return Math.min(1, stage.width / natural.width, stage.height / natural.height);
}

/**
 * One zoom step in (+1) or out (-1) from the current scale. Zooming out to
 * the fitted size or below goes back to "fit" (null).
 */
export function zoomStep(current: number, direction: 1 | -1, fit: number): number | null {
  const next = direction === 1 ? Math.min(MAX_ZOOM, current * STEP) : Math.max(MIN_ZOOM, current / STEP);
  if (direction === -1 && next <= fit) return null;
  return next;
}
