//! `PUSH_ALLOW_HOSTS` and `WEBHOOK_ALLOW_HOSTS`: the exceptions to the SSRF
//! guard (`outbound::guard`) for requests the server makes to URLs people
//! give it.

use std::collections::HashSet;

use super::error::ConfigError;

/// `host:port` pairs whose URLs may be on private or loopback addresses
/// and use plain `http` (tests, private deployments with their own
/// services). Hosts are lower-cased, IPv6 addresses bracketed, as a URL
/// writes them. Knows its variable's name, for the guard's refusals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowHosts {
    var: &'static str,
    hosts: HashSet<String>,
}

impl AllowHosts {
    /// None allowed; refusals name `var`.
    pub fn none(var: &'static str) -> Self {
        Self {
            var,
            hosts: HashSet::new(),
        }
    }

    /// The variable these come from.
    pub fn var(&self) -> &'static str {
        self.var
    }

    /// Whether `host` (as `url::Url::host_str` gives it) and `port` are listed.
    pub fn contains(&self, host: &str, port: u16) -> bool {
        self.hosts
            .contains(&format!("{}:{port}", host.to_ascii_lowercase()))
    }

    /// Reads `var` (a comma-separated list; unset: none).
    pub fn load(
        env: &dyn Fn(&str) -> Option<String>,
        var: &'static str,
    ) -> Result<Self, ConfigError> {
        match env(var) {
            Some(value) => Self::parse(var, &value),
            None => Ok(Self::none(var)),
        }
    }

    fn parse(var: &'static str, value: &str) -> Result<Self, ConfigError> {
        let mut hosts = HashSet::new();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let invalid = || {
                ConfigError::new(
                    var,
                    format!(
                        "{entry:?} is not host:port (e.g. hooks.internal:8080, 127.0.0.1:9000 or [::1]:9000)"
                    ),
                )
            };
            let has_port = entry
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            let url = url::Url::parse(&format!("http://{entry}/")).map_err(|_| invalid())?;
            let clean = url.path() == "/" && url.username().is_empty() && url.query().is_none();
            match (
                has_port && clean,
                url.host_str(),
                url.port_or_known_default(),
            ) {
                (true, Some(host), Some(port)) => hosts.insert(format!("{host}:{port}")),
                _ => return Err(invalid()),
            };
        }
        Ok(Self { var, hosts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_must_be_host_port() {
        for bad in [
            "push.internal",
            "http://x:80",
            "x:80/path",
            ":80",
            "x:99999",
        ] {
            let err = AllowHosts::parse("WEBHOOK_ALLOW_HOSTS", bad).unwrap_err();
            assert_eq!(err.var, "WEBHOOK_ALLOW_HOSTS", "{bad}");
        }
        let ok = AllowHosts::parse("WEBHOOK_ALLOW_HOSTS", "Hooks.Internal:8080").unwrap();
        assert!(ok.contains("hooks.internal", 8080));
        assert_eq!(ok.var(), "WEBHOOK_ALLOW_HOSTS");
    }
}
