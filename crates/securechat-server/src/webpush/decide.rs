//! Whether one person gets a push about one new message: a pure function
//! of the message, the person's settings, the time and whether they are
//! looking at the channel, so every rule is a unit test here.
//!
//! The rules, in order: never for one's own message; not while a tab of
//! theirs shows the channel; not while the channel is muted; not in their
//! do-not-disturb hours; then by the channel's level — `all`, `mentions`
//! or `none`, by default every message of a DM and mentions elsewhere. In
//! an encrypted channel the server cannot see a mention, so `mentions`
//! there still sends the push (which carries ids only) and the service
//! worker decides after decrypting; the push itself reveals nothing about
//! who was mentioned. What a mention is — code excluded, the channel-wide
//! names included — is `securechat_search::mention`'s rule, the one the
//! browser runs too.

/// How much of a channel a person wants to hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    All,
    Mentions,
    None,
}

impl Level {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "all" => Some(Self::All),
            "mentions" => Some(Self::Mentions),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Mentions => "mentions",
            Self::None => "none",
        }
    }

    /// The level of a channel whose member never chose one.
    pub fn default_for(is_dm: bool) -> Self {
        if is_dm { Self::All } else { Self::Mentions }
    }
}

/// Minutes in a day.
pub const DAY_MINUTES: i64 = 24 * 60;

/// Do-not-disturb hours: from `start` to `end`, minutes after midnight in
/// the person's time (`utc_offset` minutes from UTC); a window with
/// `start > end` runs over midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dnd {
    pub start: i64,
    pub end: i64,
    pub utc_offset: i64,
}

impl Dnd {
    /// Whether `now` (UTC milliseconds) falls inside the hours.
    pub fn covers(&self, now: i64) -> bool {
        let local = (now.div_euclid(60_000) + self.utc_offset).rem_euclid(DAY_MINUTES);
        if self.start <= self.end {
            self.start <= local && local < self.end
        } else {
            local >= self.start || local < self.end
        }
    }
}

/// The new message, as far as the decision needs it.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub sender_id: i64,
    pub is_dm: bool,
    pub encrypted: bool,
    /// The text of a plaintext message (`None` in encrypted channels, and
    /// for a file without a caption).
    pub text: Option<&'a str>,
    /// A thread reply kept in its thread (not also sent to the channel).
    pub in_thread: bool,
}

/// One member, as far as the decision needs them.
#[derive(Debug, Clone, Copy)]
pub struct Person<'a> {
    pub user_id: i64,
    pub username: &'a str,
    /// Their level for this channel (`None`: never chosen).
    pub level: Option<Level>,
    pub mute_until: Option<i64>,
    pub dnd: Option<Dnd>,
    /// A tab of theirs shows this channel and is visible.
    pub viewing: bool,
    /// They follow the thread of a reply kept in its thread.
    pub follows_thread: bool,
}

/// Why no push is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    OwnMessage,
    Viewing,
    Muted,
    DoNotDisturb,
    LevelNone,
    NotMentioned,
    /// A reply kept in a thread the person does not follow, without their
    /// name in it.
    NotFollowing,
}

/// Whether `person` gets a push about `message` at `now`.
pub fn decide(message: &Message<'_>, person: &Person<'_>, now: i64) -> Result<(), Skip> {
    if message.sender_id == person.user_id {
        return Err(Skip::OwnMessage);
    }
    if person.viewing {
        return Err(Skip::Viewing);
    }
    if person.mute_until.is_some_and(|until| until > now) {
        return Err(Skip::Muted);
    }
    if person.dnd.is_some_and(|dnd| dnd.covers(now)) {
        return Err(Skip::DoNotDisturb);
    }
    let level = person.level.unwrap_or(Level::default_for(message.is_dm));
    if message.in_thread && !person.follows_thread && level != Level::None {
        // A thread's replies are for its followers; anyone else hears only
        // of a reply that names them, which only a plaintext text shows
        // (an id-only push would make the device show a thread it left).
        return match message.text {
            Some(text) if securechat_search::mentions(text, person.username) => Ok(()),
            _ => Err(Skip::NotFollowing),
        };
    }
    match level {
        Level::None => Err(Skip::LevelNone),
        Level::All => Ok(()),
        Level::Mentions if message.encrypted => Ok(()),
        Level::Mentions => match message.text {
            Some(text) if securechat_search::mentions(text, person.username) => Ok(()),
            _ => Err(Skip::NotMentioned),
        },
    }
}

/// Whether the server itself knows that `person` wants to hear about
/// `message`, once [`decide`] said yes: not in an encrypted channel on
/// `mentions`, where a push goes out with ids only and the person's device
/// decides after decrypting. Email digests, which no device filters, skip
/// those messages.
pub fn server_can_tell(message: &Message<'_>, person: &Person<'_>) -> bool {
    !(message.encrypted
        && person.level.unwrap_or(Level::default_for(message.is_dm)) == Level::Mentions)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000; // 2027-01-15T08:00:00Z

    fn message(text: Option<&str>) -> Message<'_> {
        Message {
            sender_id: 1,
            is_dm: false,
            encrypted: false,
            text,
            in_thread: false,
        }
    }

    fn bob() -> Person<'static> {
        Person {
            user_id: 2,
            username: "bob",
            level: None,
            mute_until: None,
            dnd: None,
            viewing: false,
            follows_thread: false,
        }
    }

    #[test]
    fn defaults_are_every_dm_message_and_mentions_elsewhere() {
        let hello = message(Some("hello all"));
        assert_eq!(decide(&hello, &bob(), NOW), Err(Skip::NotMentioned));
        let dm = Message {
            is_dm: true,
            ..hello
        };
        assert_eq!(decide(&dm, &bob(), NOW), Ok(()));
        let mention = message(Some("ping @Bob, look"));
        assert_eq!(decide(&mention, &bob(), NOW), Ok(()));
        let file_only = message(None);
        assert_eq!(decide(&file_only, &bob(), NOW), Err(Skip::NotMentioned));
    }

    #[test]
    fn the_channel_level_decides_after_the_other_rules() {
        let hello = message(Some("hello"));
        let all = Person {
            level: Some(Level::All),
            ..bob()
        };
        assert_eq!(decide(&hello, &all, NOW), Ok(()));
        let none = Person {
            level: Some(Level::None),
            ..bob()
        };
        assert_eq!(
            decide(&message(Some("@bob")), &none, NOW),
            Err(Skip::LevelNone)
        );
        let dm_none = Message {
            is_dm: true,
            ..hello
        };
        assert_eq!(decide(&dm_none, &none, NOW), Err(Skip::LevelNone));
        let mentions = Person {
            level: Some(Level::Mentions),
            ..bob()
        };
        let dm = Message {
            is_dm: true,
            ..hello
        };
        assert_eq!(decide(&dm, &mentions, NOW), Err(Skip::NotMentioned));
    }

    #[test]
    fn encrypted_channels_push_ids_to_mentions_only_people_and_let_the_device_decide() {
        let sealed = Message {
            encrypted: true,
            text: None,
            ..message(None)
        };
        assert_eq!(decide(&sealed, &bob(), NOW), Ok(()));
        let none = Person {
            level: Some(Level::None),
            ..bob()
        };
        assert_eq!(decide(&sealed, &none, NOW), Err(Skip::LevelNone));
        // Only the device can tell a mention there; a DM (all, by
        // default) or a channel set to all the server can tell itself.
        assert!(!server_can_tell(&sealed, &bob()));
        let all = Person {
            level: Some(Level::All),
            ..bob()
        };
        assert!(server_can_tell(&sealed, &all));
        let sealed_dm = Message {
            is_dm: true,
            ..sealed
        };
        assert!(server_can_tell(&sealed_dm, &bob()));
        assert!(server_can_tell(&message(Some("@bob")), &bob()));
    }

    #[test]
    fn own_messages_visible_channels_and_mutes_never_push() {
        let mention = message(Some("@bob"));
        let me = Person {
            user_id: 1,
            level: Some(Level::All),
            ..bob()
        };
        assert_eq!(decide(&mention, &me, NOW), Err(Skip::OwnMessage));
        let looking = Person {
            viewing: true,
            ..bob()
        };
        assert_eq!(decide(&mention, &looking, NOW), Err(Skip::Viewing));
        let muted = Person {
            mute_until: Some(NOW + 1),
            ..bob()
        };
        assert_eq!(decide(&mention, &muted, NOW), Err(Skip::Muted));
        let mute_over = Person {
            mute_until: Some(NOW),
            ..bob()
        };
        assert_eq!(decide(&mention, &mute_over, NOW), Ok(()));
    }

    #[test]
    fn do_not_disturb_hours_are_in_the_persons_time_and_may_cross_midnight() {
        // NOW is 08:00 UTC.
        let mention = message(Some("@bob"));
        let at = |start, end, utc_offset| Person {
            dnd: Some(Dnd {
                start,
                end,
                utc_offset,
            }),
            ..bob()
        };
        // 22:00–07:00 in UTC: 08:00 is outside.
        assert_eq!(decide(&mention, &at(22 * 60, 7 * 60, 0), NOW), Ok(()));
        // The same hours at UTC-2 (06:00 there): inside, across midnight.
        assert_eq!(
            decide(&mention, &at(22 * 60, 7 * 60, -120), NOW),
            Err(Skip::DoNotDisturb)
        );
        // 09:00–17:00 at UTC+1 (09:00 there): inside; at UTC+0: outside.
        assert_eq!(
            decide(&mention, &at(9 * 60, 17 * 60, 60), NOW),
            Err(Skip::DoNotDisturb)
        );
        assert_eq!(decide(&mention, &at(9 * 60, 17 * 60, 0), NOW), Ok(()));
        // The end is excluded, the start included.
        assert!(
            Dnd {
                start: 480,
                end: 600,
                utc_offset: 0
            }
            .covers(NOW)
        );
        assert!(
            !Dnd {
                start: 400,
                end: 480,
                utc_offset: 0
            }
            .covers(NOW)
        );
        // UTC+14 wraps to the next day: 22:00 there.
        assert!(
            Dnd {
                start: 21 * 60,
                end: 23 * 60,
                utc_offset: 14 * 60
            }
            .covers(NOW)
        );
    }

    #[test]
    fn thread_replies_reach_followers_and_the_people_they_name() {
        let reply = Message {
            in_thread: true,
            ..message(Some("done, see the doc"))
        };
        let all = Person {
            level: Some(Level::All),
            ..bob()
        };
        assert_eq!(decide(&reply, &all, NOW), Err(Skip::NotFollowing));
        let follower = Person {
            follows_thread: true,
            ..all
        };
        assert_eq!(decide(&reply, &follower, NOW), Ok(()));
        // A follower on mentions still needs their name.
        let quiet_follower = Person {
            level: Some(Level::Mentions),
            follows_thread: true,
            ..bob()
        };
        assert_eq!(
            decide(&reply, &quiet_follower, NOW),
            Err(Skip::NotMentioned)
        );
        let naming = Message {
            text: Some("@bob can you check?"),
            ..reply
        };
        assert_eq!(decide(&naming, &bob(), NOW), Ok(()));
        let none = Person {
            level: Some(Level::None),
            ..bob()
        };
        assert_eq!(decide(&naming, &none, NOW), Err(Skip::LevelNone));
        // Sealed: only followers, the device deciding as in the channel.
        let sealed = Message {
            encrypted: true,
            text: None,
            ..reply
        };
        assert_eq!(decide(&sealed, &all, NOW), Err(Skip::NotFollowing));
        assert_eq!(decide(&sealed, &follower, NOW), Ok(()));
        // Also sent to the channel: an ordinary channel message.
        let in_channel = Message {
            in_thread: false,
            ..reply
        };
        assert_eq!(decide(&in_channel, &all, NOW), Ok(()));
    }
}
