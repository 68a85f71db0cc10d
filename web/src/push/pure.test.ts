import { describe, expect, it } from 'vitest';
import { base64UrlBytes } from './client.ts';
import { messageInAddress } from './address.ts';

describe('the page side of Web Push', () => {
  it('reads the VAPID key (base64url, no padding) into its bytes', () => {
    expect([...base64UrlBytes('BAEC_-8')]).toEqual([4, 1, 2, 255, 239]);
    expect(base64UrlBytes('BAEC_-8').length).toBe(5);
  });

  it('finds the message a notification opens in the address, and nothing else', () => {
    expect(messageInAddress('/channels/3', '?message=17')).toEqual({ channelId: 3, messageId: 17 });
    expect(messageInAddress('/channels/3', '')).toBeNull();
    expect(messageInAddress('/account', '?message=17')).toBeNull();
    for (const bad of ['?message=0', '?message=-1', '?message=1e3', '?message=abc', '?message=99999999999999999']) expect(messageInAddress('/channels/3', bad)).toBeNull();
  });
});
