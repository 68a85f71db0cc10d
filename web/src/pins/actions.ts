// The message menu's Pin/Unpin and Save actions, and the channel view's
// hook that loads the channel's pins (which say whether the reader may pin).

import { useEffect } from 'preact/hooks';
import { describeError } from '../api/errors.ts';
import type { Message } from '../api/messages.ts';
import * as pinsApi from '../api/pins.ts';
import type { MessageAction } from '../components/chat/MessageActions.tsx';
import { t } from '../i18n/index.ts';
import { loadPins, pinLists, togglePin } from './state.ts';

/** Loads the channel's pins when it opens. */
export function usePins(channelId: number): void {
  useEffect(() => {
    void loadPins(channelId).catch(() => undefined);
  }, [channelId]);
}

/** Pin or Unpin (when the reader may), and Save. */
export function pinActions(message: Message, onError: (error: string) => void): MessageAction[] {
  const list = pinLists.value[message.channel_id];
  const pinned = list?.pins.some((p) => p.message.id === message.id) === true;
  const fail = (err: unknown) => onError(describeError(err));
  return [
    {
      label: pinned ? t('pins.unpin') : t('pins.pin'),
      run: () => void togglePin(message.channel_id, message.id, !pinned).catch(fail),
      shown: list?.may_pin === true,
    },
    { label: t('pins.save'), run: () => void pinsApi.setSaved(message.id, true).catch(fail) },
  ];
}
