import { useEffect, useState } from 'preact/hooks';
import type { User } from '../api/auth.ts';
import { AppHeader } from '../components/AppHeader.tsx';
import { personName } from '../chat/profiles.ts';
import { Alert } from '../components/Alert.tsx';
import { ChannelView } from '../components/chat/ChannelView.tsx';
import { composerShown } from '../components/chat/Composer.tsx';
import { ConnectionBanner } from '../components/chat/ConnectionBanner.tsx';
import { E2eePanels } from '../components/chat/E2eePanels.tsx';
import { ImageViewer } from '../components/chat/ImageViewer.tsx';
import { MembersPanel } from '../components/chat/MembersPanel.tsx';
import { QuickSwitcher, ShortcutsDialog } from '../components/chat/QuickSwitcher.tsx';
import { ReminderBanner } from '../components/chat/ReminderBanner.tsx';
import { Sidebar } from '../components/chat/Sidebar.tsx';
import { ThreadPanel, ThreadsList } from '../components/chat/ThreadPanel.tsx';
import { openThread, threadsListOpen } from '../threads/state.ts';
import { SearchPanel } from '../components/search/SearchPanel.tsx';
import { openSearch, searchPanel } from '../search/panel.ts';
import { activeChannel, activeChannelId, chatNotice, openChannel, rooms, roomsLoaded } from '../chat/store.ts';
import { neighbourChannel, sidebarChannelIds } from '../chat/switcher.ts';
import { channelPath, HOME_PATH, navigate } from '../router.ts';
import { language, t } from '../i18n/index.ts';

type Overlay = 'switcher' | 'shortcuts' | null;

/** Whether a key pressed here is typing (a field, an editable element). */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

/**
 * The chat screen's shortcuts: Ctrl/Cmd+K opens the quick switcher,
 * Alt+Up/Down move through the sidebar's channels, `/` (when not typing)
 * opens message search, `?` (when not typing) shows the shortcuts. Not while another dialog is open.
 */
function useShortcuts(open: (overlay: Overlay) => void) {
  useEffect(() => {
    function onKeyDown(e: KeyboardEvent) {
      if (e.defaultPrevented || document.querySelector('dialog[open]') !== null) return;
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        open('switcher');
      } else if (e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
        const next = neighbourChannel(sidebarChannelIds(rooms.value), activeChannelId.value, e.key === 'ArrowUp' ? -1 : 1);
        if (next === null) return;
        e.preventDefault();
        navigate(channelPath(next));
      } else if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !isTyping(e.target)) {
        e.preventDefault();
        if (searchPanel.value === null) openSearch();
        else document.getElementById('search-input')?.focus();
      } else if (e.key === '?' && !e.ctrlKey && !e.metaKey && !e.altKey && !isTyping(e.target)) {
        e.preventDefault();
        open('shortcuts');
      }
    }
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}

/** The skip link's target: focus the composer (a hash change would go through the router). */
function skipToComposer(e: MouseEvent) {
  e.preventDefault();
  document.getElementById('composer-input')?.focus();
}

/** The chat screen: sidebar, the open channel, and its members panel. */
export function ChatPage({ user, channelId }: { user: User; channelId: number | null }) {
  const [membersOpen, setMembersOpen] = useState(false);
  const [overlay, setOverlay] = useState<Overlay>(null);
  useShortcuts(setOverlay);
  useEffect(() => {
    openChannel(channelId);
    setMembersOpen(false);
    return () => openChannel(null);
  }, [channelId]);

  const active = activeChannel.value;
  const peer = active?.room.dm_peer ?? null;
  const dmName = peer !== null ? personName(peer.id, peer.username) : (active?.room.name ?? '');
  useEffect(() => {
    if (active !== null) {
      document.title = active.room.kind === 'dm' ? t('chat.titleDm', { name: dmName }) : t('chat.titleChannel', { channel: active.channel.name, room: active.room.name });
    }
  }, [active?.channel.id, active?.channel.name, dmName, language.value]);

  const notice = chatNotice.value;
  const threadShown = openThread.value !== null || threadsListOpen.value;
  return (
    <div class="app-shell">
      {active !== null && composerShown(active.channel) && (
        <a href="#composer-input" class="skip-link" onClick={skipToComposer}>
          {t('chat.skip')}
        </a>
      )}
      <AppHeader user={user} />
      <ConnectionBanner />
      {notice !== null && (
        <div class="notice-bar">
          <Alert tone="info">
            {notice}{' '}
            <button type="button" class="link-button" onClick={() => (chatNotice.value = null)}>
              {t('chat.dismiss')}
            </button>
          </Alert>
        </div>
      )}
      <ReminderBanner />
      <E2eePanels />
      <div class={`chat${channelId !== null ? ' has-channel' : ''}${membersOpen ? ' has-members' : ''}${searchPanel.value !== null ? ' has-search' : ''}${threadShown ? ' has-thread' : ''}`}>
        <Sidebar myId={user.id} onJump={() => setOverlay('switcher')} />
        <main class="chat-main">
          {active !== null ? (
            <ChannelView room={active.room} channel={active.channel} user={user} onShowMembers={() => setMembersOpen((open) => !open)} onBack={() => navigate(HOME_PATH)} />
          ) : channelId !== null && roomsLoaded.value ? (
            <div class="empty-state">
              <h1>{t('chat.notFound')}</h1>
              <p class="muted">{t('chat.notFoundText')}</p>
            </div>
          ) : (
            <div class="empty-state">
              <h1>{t('chat.welcome', { name: personName(user.id, user.username) })}</h1>
              <p class="muted">{t('chat.welcomeText')}</p>
            </div>
          )}
        </main>
        {membersOpen && active !== null && <MembersPanel room={active.room} myId={user.id} onClose={() => setMembersOpen(false)} />}
        {searchPanel.value !== null && <SearchPanel />}
        {openThread.value !== null ? <ThreadPanel user={user} /> : threadsListOpen.value && <ThreadsList />}
      </div>
      {overlay === 'switcher' && <QuickSwitcher myId={user.id} onClose={() => setOverlay(null)} />}
      {overlay === 'shortcuts' && <ShortcutsDialog onClose={() => setOverlay(null)} />}
      <ImageViewer />
    </div>
  );
}
