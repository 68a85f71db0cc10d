import { describe, expect, it } from 'vitest';
import { encodeFileNote, formatSize, isInlineImage, isWebLink, parseFileNote, percent, toHex, updateUpload, type FileNote, type Upload } from './attachment.ts';

const note: FileNote = { file_id: 7, key: 'k3y', name: 'cat.png', type: 'image/png', size: 1234, sha256: 'a'.repeat(64), caption: 'look' };

describe('file notes', () => {
  it('round-trips through the message plaintext', () => {
    expect(parseFileNote(encodeFileNote(note), 7)).toEqual(note);
  });

  it('refuses a note for another file than the one attached', () => {
    expect(parseFileNote(encodeFileNote(note), 8)).toBeNull();
    expect(parseFileNote(encodeFileNote(note), null)).toBeNull();
  });

  it('treats ordinary text and foreign JSON as not a note', () => {
    expect(parseFileNote('hello', 7)).toBeNull();
    expect(parseFileNote('{"file_id":7}', 7)).toBeNull();
    expect(parseFileNote(JSON.stringify({ ...JSON.parse(encodeFileNote(note)), sha256: 'nothex' }), 7)).toBeNull();
  });
});

describe('inline images', () => {
  it('allows raster images only', () => {
    expect(isInlineImage('image/png')).toBe(true);
    expect(isInlineImage('IMAGE/JPEG')).toBe(true);
    expect(isInlineImage('image/svg+xml')).toBe(false);
    expect(isInlineImage('text/html')).toBe(false);
  });
});

describe('sizes and hex', () => {
  it('formats sizes for people', () => {
    expect(formatSize(532)).toBe('532 B');
    expect(formatSize(2048)).toBe('2.0 KB');
    expect(formatSize(30 * 1024 * 1024)).toBe('30 MB');
  });

  it('hex-encodes bytes', () => {
    expect(toHex(new Uint8Array([0, 15, 255]))).toBe('000fff');
  });
});

describe('upload progress', () => {
  const base: Upload = { id: 'u1', channel_id: 1, name: 'a', sent: 0, total: 200, phase: 'uploading' };

  it('computes whole percents within 0..100', () => {
    expect(percent({ sent: 50, total: 200 })).toBe(25);
    expect(percent({ sent: 300, total: 200 })).toBe(100);
    expect(percent({ sent: 0, total: 0 })).toBe(0);
  });

  it('updates only the named upload and never moves progress backwards', () => {
    const list = [base, { ...base, id: 'u2' }];
    const once = updateUpload(list, 'u1', { sent: 150 });
    expect(once[0]?.sent).toBe(150);
    expect(once[1]?.sent).toBe(0);
    expect(updateUpload(once, 'u1', { sent: 100 })[0]?.sent).toBe(150);
    expect(updateUpload(once, 'u1', { phase: 'failed', error: 'no' })[0]).toMatchObject({ phase: 'failed', error: 'no', sent: 150 });
  });
});

describe('resource links', () => {
  it('accepts http(s) only', () => {
    expect(isWebLink('https://example.org/a')).toBe(true);
    expect(isWebLink('http://example.org')).toBe(true);
    expect(isWebLink('javascript:alert(1)')).toBe(false);
    expect(isWebLink('data:text/html,x')).toBe(false);
    expect(isWebLink('not a url')).toBe(false);
  });
});
