import { describe, expect, it } from 'vitest';
import type { Attachment, Message } from '../api/messages.ts';
import { message } from '../test-support.ts';
import type { FileNote } from './attachment.ts';
import { fitScale, galleryOf, place, zoomStep } from './gallery.ts';

function file(id: number, content_type: string, encrypted = false): Attachment {
  return { id, name: encrypted ? null : `f${id}.png`, content_type, size: 10, sha256: '', encrypted, url: `/api/files/${id}` };
}

function withFile(id: number, attachment: Attachment | null, deleted = false): Message {
  return message(id, { content: null, file: attachment, deleted });
}

describe('the images of a channel', () => {
  it('keeps raster images in order and leaves out other files, SVG and deleted messages', () => {
    const messages = [withFile(1, file(11, 'image/png')), withFile(2, file(12, 'text/plain')), withFile(3, file(13, 'image/svg+xml')), withFile(4, file(14, 'image/jpeg'), true), withFile(5, null), withFile(6, file(16, 'image/webp'))];
    const images = galleryOf(messages, () => null);
    expect(images.map((i) => i.file.id)).toEqual([11, 16]);
    expect(images[0]).toMatchObject({ name: 'f11.png', sender: 'alice', createdAt: '2026-01-01T10:00:00Z', note: null });
  });

  it('takes an encrypted image only once its note names an image', () => {
    const note = (id: number, type: string): FileNote => ({ file_id: id, key: 'k', name: `secret${id}`, type, size: 1, sha256: 'a'.repeat(64), caption: '' });
    const messages = [withFile(1, file(21, '', true)), withFile(2, file(22, '', true)), withFile(3, file(23, '', true))];
    const notes = new Map([
      [1, note(21, 'image/png')],
      [2, note(22, 'application/pdf')],
    ]);
    const images = galleryOf(messages, (m) => notes.get(m.id) ?? null);
    expect(images.map((i) => [i.file.id, i.name])).toEqual([[21, 'secret21']]);
  });

  it('places the open image in the list, or alone when its message is not loaded', () => {
    const images = galleryOf([withFile(1, file(11, 'image/png')), withFile(2, file(12, 'image/png'))], () => null);
    expect(place(images, 12, images[0]!).index).toBe(1);
    const alone = { ...images[0]!, file: file(99, 'image/png') };
    expect(place(images, 99, alone)).toEqual({ list: [alone], index: 0 });
  });
});

describe('zoom', () => {
  it('fits an image into the stage without enlarging it', () => {
    expect(fitScale({ width: 2000, height: 1000 }, { width: 1000, height: 800 })).toBe(0.5);
    expect(fitScale({ width: 100, height: 100 }, { width: 1000, height: 800 })).toBe(1);
  });

  it('steps in up to 800% and back out to "fit"', () => {
    expect(zoomStep(1, 1, 0.5)).toBe(1.5);
    expect(zoomStep(6, 1, 0.5)).toBe(8);
    expect(zoomStep(1, -1, 0.5)).toBeCloseTo(2 / 3);
    expect(zoomStep(0.6, -1, 0.5)).toBeNull();
  });
});
