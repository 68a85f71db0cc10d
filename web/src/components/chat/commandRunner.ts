// Runs what a composer command line asks for (chat/commands.ts plans it):
// the built-ins through the same calls as the rest of the interface (the
// room's membership changes through e2ee/membership.ts, signed in
// encrypted rooms), registered commands through the server. Authorization
// is the server's: a refusal comes back as its message. The answer is a
// notice for me only (an ephemeral answer, help, a refusal), or null.

import { runCommand, type CommandInfo } from '../../api/commands.ts';
import { describeError } from '../../api/errors.ts';
import { createReminder } from '../../api/reminders.ts';
import type { Channel } from '../../api/rooms.ts';
import * as roomsApi from '../../api/rooms.ts';
import { BUILT_INS, BUILT_IN_HINTS, meText, type Plan } from '../../chat/commands.ts';
import { refreshRooms, roomOfChannel, sendMessage } from '../../chat/store.ts';
import * as membership from '../../e2ee/membership.ts';
import { formatDateTime } from '../../i18n/format.ts';
import { t } from '../../i18n/index.ts';
import { saveChannelNotifications } from '../../push/api.ts';
import { authenticated } from '../../state/session.ts';

/** `/help`: every command with its hint, one a line. */
export function helpText(commands: readonly CommandInfo[]): string {
  const lines = BUILT_INS.map((name) => `/${name}${BUILT_IN_HINTS[name] === '' ? '' : ` ${BUILT_IN_HINTS[name]}`} — ${t(`commands.builtIn.${name}`)}`);
  for (const c of commands) lines.push(`/${c.trigger}${c.usage_hint === '' ? '' : ` ${c.usage_hint}`}${c.description === '' ? '' : ` — ${c.description}`}`);
  return `${t('commands.helpTitle')}\n${lines.join('\n')}`;
}

export async function runPlan(plan: Plan, channel: Channel, commands: readonly CommandInfo[], replyTo?: number): Promise<string | null> {
  const room = roomOfChannel(channel.id);
  try {
    switch (plan.kind) {
      case 'me':
        sendMessage(channel.id, meText(plan.text), replyTo);
        return null;
      case 'topic':
        await authenticated(() => roomsApi.updateChannel(channel.id, { topic: plan.topic }));
        await refreshRooms();
        return plan.topic === '' ? t('commands.topicCleared') : t('commands.topicSet', { topic: plan.topic });
      case 'invite':
        if (room === null) return null;
        await membership.addByName(room, plan.username);
        return t('commands.invited', { name: plan.username });
      case 'kick': {
        if (room === null) return null;
        const { members } = await authenticated(() => roomsApi.members(room.id));
        const member = members.find((m) => m.username.toLowerCase() === plan.username.toLowerCase());
        if (member === undefined) return t('commands.notMember', { name: plan.username });
        await membership.kick(room, member.user_id);
        return t('commands.kicked', { name: member.username });
      }
      case 'leave':
        if (room === null) return null;
        await membership.leave(room);
        await refreshRooms();
        return null;
      case 'mute':
        await authenticated(() => saveChannelNotifications(channel.id, { level: 'none', mute_until: null }));
        return t('commands.muted', { channel: channel.name });
      case 'remind': {
        await authenticated(() => createReminder(channel.id, plan.dueAt, channel.is_encrypted || plan.note === '' ? null : plan.note));
        const time = formatDateTime(new Date(plan.dueAt)) ?? '';
        return channel.is_encrypted && plan.note !== '' ? t('commands.reminderSetEncrypted', { time, channel: channel.name }) : t('commands.reminderSet', { time, channel: channel.name });
      }
      case 'help':
        return helpText(commands);
      case 'usage':
        return t('commands.usage', { command: `/${plan.name} ${plan.hint}` });
      case 'unknown':
        return t('commands.unknown', { command: `/${plan.name}` });
      case 'encrypted':
        return t('commands.encrypted', { command: `/${plan.name}` });
      case 'registered': {
        const ran = await authenticated(() => runCommand(channel.id, plan.name, plan.text));
        return ran.response_type === 'ephemeral' && ran.text !== null ? t('commands.answer', { command: `/${plan.name}`, text: ran.text }) : null;
      }
    }
  } catch (err) {
    return t('commands.failed', { command: 'name' in plan ? `/${plan.name}` : `/${plan.kind}`, error: describeError(err) });
  }
}
