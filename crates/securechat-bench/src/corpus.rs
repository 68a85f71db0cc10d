//! Chat text for the search scenario: words drawn with a Zipf-like
//! frequency (a few words in a large share of messages, a long tail of
//! words in a handful), a share of the messages in Chinese (written without
//! spaces, as Chinese is), and one rare word planted in a known number of
//! messages so a search for it has an exact expected answer.
//!
//! Deterministic: the same seed gives the same messages, so runs compare.

/// The head of the English vocabulary, most frequent first (chat words).
/// Avoids the words other scenarios write ("message", "history",
/// "throughput", "written"), so their rows are never candidates here.
const ENGLISH_HEAD: &[&str] = &[
    "the",
    "to",
    "i",
    "a",
    "and",
    "is",
    "it",
    "you",
    "we",
    "that",
    "for",
    "on",
    "in",
    "this",
    "be",
    "with",
    "can",
    "have",
    "just",
    "not",
    "but",
    "so",
    "will",
    "what",
    "do",
    "if",
    "are",
    "at",
    "all",
    "from",
    "deploy",
    "thanks",
    "today",
    "build",
    "review",
    "fixed",
    "branch",
    "release",
    "meeting",
    "tomorrow",
    "check",
    "server",
    "issue",
    "looks",
    "good",
    "please",
    "update",
    "test",
    "tests",
    "merge",
    "ready",
    "config",
    "staging",
    "database",
    "error",
    "logs",
    "ticket",
    "customer",
    "design",
    "docs",
    "someone",
    "anyone",
    "lunch",
    "coffee",
    "rollback",
    "latency",
    "dashboard",
    "alert",
    "monday",
    "friday",
    "migration",
    "schema",
    "backup",
    "restore",
    "cluster",
    "network",
    "timeout",
    "retry",
    "cache",
    "invoice",
    "roadmap",
    "sprint",
    "standup",
    "demo",
    "feedback",
    "draft",
    "approved",
    "blocked",
    "pipeline",
    "runner",
    "certificate",
    "password",
    "rotation",
    "keyboard",
    "laptop",
    "office",
    "remote",
    "weekend",
    "holiday",
    "budget",
    "hiring",
    "interview",
    "onboarding",
];

/// Chinese words (two to four characters), most frequent first. Messages
/// join them without spaces, with Chinese punctuation.
const CHINESE: &[&str] = &[
    "我们",
    "今天",
    "已经",
    "部署",
    "服务器",
    "问题",
    "明天",
    "会议",
    "测试",
    "版本",
    "发布",
    "数据库",
    "修复",
    "一下",
    "检查",
    "客户",
    "需要",
    "谢谢",
    "性能测试",
    "配置",
    "日志",
    "迁移",
    "备份",
    "恢复",
    "网络",
    "超时",
    "缓存",
    "文档",
    "设计",
    "评审",
    "分支",
    "合并",
    "证书",
    "密钥",
    "轮换",
    "周末",
    "午饭",
    "咖啡",
    "预算",
    "招聘",
    "面试",
    "上线",
    "回滚",
    "监控",
    "告警",
    "集群",
    "延迟",
    "流水线",
    "仪表盘",
    "端到端加密",
];

/// Syllables the long tail of English-like words is made of.
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ter", "van", "sol", "ru", "dex", "pli", "gor", "nu", "bex", "tra", "vel",
    "quo", "ran", "fi", "zen", "mor", "tak",
];

/// The planted rare word: no vocabulary word or tail word contains it.
pub const RARE_WORD: &str = "quetzalcoatl";

/// The queries the search scenario measures, and what each is.
pub struct Queries {
    /// The most frequent English word of three letters or more.
    pub common: &'static str,
    /// A Chinese word of two characters (below a trigram: the `LIKE` path).
    pub cjk2: &'static str,
    /// A Chinese phrase of four characters (the trigram index).
    pub cjk4: &'static str,
    /// A mid-frequency word for the `from:` filter query.
    pub filtered: &'static str,
}

pub const QUERIES: Queries = Queries {
    common: "the",
    cjk2: "部署",
    cjk4: "性能测试",
    filtered: "deploy",
};

/// splitmix64: fast, reproducible, good enough for picking words.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Words with Zipf weights (rank r drawn with weight 1 / r^s).
struct Zipf {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(words: Vec<String>, s: f64) -> Self {
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|r| {
                total += 1.0 / (r as f64).powf(s);
                total
            })
            .collect();
        Self { words, cumulative }
    }

    fn pick(&self, rng: &mut Rng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.unit() * total;
        let i = self.cumulative.partition_point(|&c| c <= x);
        &self.words[i.min(self.words.len() - 1)]
    }
}

/// Generates the messages.
pub struct Corpus {
    english: Zipf,
    chinese: Zipf,
    rng: Rng,
    /// Every `rare_every`-th message carries [`RARE_WORD`].
    rare_every: u64,
    /// One message in `chinese_one_in` is Chinese.
    chinese_one_in: u64,
    made: u64,
}

/// English-like tail words: `count` distinct two- and three-syllable words.
fn tail_words(count: usize) -> Vec<String> {
    let endings = SYLLABLES.iter().map(|s| Some(*s)).chain([None]);
    SYLLABLES
        .iter()
        .flat_map(|a| SYLLABLES.iter().map(move |b| format!("{a}{b}")))
        .flat_map(|ab| {
            endings
                .clone()
                .map(move |c| format!("{ab}{}", c.unwrap_or_default()))
        })
        .take(count)
        .collect()
}

impl Corpus {
    /// `messages` in all, `rare` of them with the rare word.
    pub fn new(messages: u64, rare: u64) -> Self {
        let mut words: Vec<String> = ENGLISH_HEAD.iter().map(|w| (*w).to_owned()).collect();
        words.extend(tail_words(8_000));
        Self {
            english: Zipf::new(words, 1.0),
            chinese: Zipf::new(CHINESE.iter().map(|w| (*w).to_owned()).collect(), 1.0),
            rng: Rng::new(0x5EA2_C4B3_0000_0001),
            rare_every: (messages / rare.max(1)).max(1),
            chinese_one_in: 8,
            made: 0,
        }
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// The next message's text.
    pub fn next_message(&mut self) -> String {
        self.made += 1;
        let mut text = if self.rng.below(self.chinese_one_in) == 0 {
            self.chinese_message()
        } else {
            self.english_message()
        };
        if self.made % self.rare_every == self.rare_every / 2 {
            text.push_str(" (");
            text.push_str(RARE_WORD);
            text.push(')');
        }
        text
    }

    /// Whether the `n`-th message (from 1) carries the rare word.
    #[cfg(test)]
    fn carries_rare(&self, n: u64) -> bool {
        n % self.rare_every == self.rare_every / 2
    }

    fn english_message(&mut self) -> String {
        let len = 3 + self.rng.below(14);
        let mut text = String::new();
        for i in 0..len {
            if i > 0 {
                text.push(' ');
            }
            let word = self.english.pick(&mut self.rng).to_owned();
            text.push_str(&word);
        }
        if self.rng.below(3) == 0 {
            text.push('?');
        }
        text
    }

    fn chinese_message(&mut self) -> String {
        let len = 2 + self.rng.below(8);
        let mut text = String::new();
        for i in 0..len {
            if i > 0 && self.rng.below(4) == 0 {
                text.push('，');
            }
            let word = self.chinese.pick(&mut self.rng).to_owned();
            text.push_str(&word);
        }
        text.push('。');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequencies_are_zipf_like_and_the_rare_word_is_planted_as_counted() {
        let n = 20_000;
        let mut corpus = Corpus::new(n, 7);
        let messages: Vec<String> = (0..n).map(|_| corpus.next_message()).collect();
        let share =
            |needle: &str| messages.iter().filter(|m| m.contains(needle)).count() as f64 / n as f64;
        assert!(share(QUERIES.common) > 0.3, "{}", share(QUERIES.common));
        assert!(share(QUERIES.cjk2) > 0.005 && share(QUERIES.cjk2) < 0.2);
        assert!(share(QUERIES.cjk4) > 0.001);
        assert!(share(QUERIES.filtered) > 0.01 && share(QUERIES.filtered) < 0.3);
        let rare = messages.iter().filter(|m| m.contains(RARE_WORD)).count();
        let counted = (1..=n).filter(|&i| corpus.carries_rare(i)).count();
        assert_eq!(rare, 7);
        assert_eq!(counted, 7);
        // The rare word occurs nowhere by chance.
        assert!(!tail_words(8_000).iter().any(|w| w.contains("quetz")));
    }
}
