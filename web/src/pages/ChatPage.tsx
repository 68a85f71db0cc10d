import { useEffect, useState } from 'preact/hooks';
import type { User } from '../api/auth.ts';
import { AppHeader } from '../components/AppHeader.tsx';
import { Alert } from '../components/Alert.tsx';
import { ChannelView } from '../components/chat/ChannelView.tsx';
import { ConnectionBanner } from '../components/chat/ConnectionBanner.tsx';
import { E2eePanels } from '../components/chat/E2eePanels.tsx';
import { MembersPanel } from '../components/chat/MembersPanel.tsx';
import { Sidebar } from '../components/chat/Sidebar.tsx';
import { activeChannel, chatNotice, openChannel, roomsLoaded } from '../chat/store.ts';
import { HOME_PATH, navigate } from '../router.ts';

/** The chat screen: sidebar, the open channel, and its members panel. */
export function ChatPage({ user, channelId }: { user: User; channelId: number | null }) {
  const [membersOpen, setMembersOpen] = useState(false);
  useEffect(() => {
    openChannel(channelId);
    setMembersOpen(false);
    return () => openChannel(null);
  }, [channelId]);

  const active = activeChannel.value;
  useEffect(() => {
    if (active !== null) document.title = `${active.room.kind === 'dm' ? (active.room.dm_peer?.username ?? active.room.name) : `#${active.channel.name} · ${active.room.name}`} · Securechat`;
  }, [active?.channel.id, active?.channel.name]);

  const notice = chatNotice.value;
  return (
    <div class="app-shell">
      <AppHeader user={user} />
      <ConnectionBanner />
      {notice !== null && (
        <div class="notice-bar">
          <Alert tone="info">
            {notice}{' '}
            <button type="button" class="link-button" onClick={() => (chatNotice.value = null)}>
              Dismiss
            </button>
          </Alert>
        </div>
      )}
      <E2eePanels />
      <div class={`chat${channelId !== null ? ' has-channel' : ''}${membersOpen ? ' has-members' : ''}`}>
        <Sidebar myId={user.id} />
        <main class="chat-main">
          {active !== null ? (
            <ChannelView room={active.room} channel={active.channel} user={user} onShowMembers={() => setMembersOpen((open) => !open)} onBack={() => navigate(HOME_PATH)} />
          ) : channelId !== null && roomsLoaded.value ? (
            <div class="empty-state">
              <h1>Channel not found</h1>
              <p class="muted">It does not exist, or you are not a member of its room.</p>
            </div>
          ) : (
            <div class="empty-state">
              <h1>Welcome, {user.username}</h1>
              <p class="muted">Pick a channel on the left, browse the public rooms, or start a direct message.</p>
            </div>
          )}
        </main>
        {membersOpen && active !== null && <MembersPanel room={active.room} myId={user.id} onClose={() => setMembersOpen(false)} />}
      </div>
    </div>
  );
}
