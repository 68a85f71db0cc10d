//! `OIDC_*`: single sign-on's settings. Sign-on is on when `OIDC_ISSUER`
//! is set; the client id and secret are then required, and the redirect
//! URI is `PUBLIC_URL` + [`CALLBACK_PATH`] unless `OIDC_REDIRECT_URL`
//! says otherwise (it must end with that path, since that is where the
//! callback is served).

use zeroize::Zeroizing;

use crate::config::error::ConfigError;

/// Where the provider sends people back.
pub const CALLBACK_PATH: &str = "/api/auth/oidc/callback";
/// Longest issuer URL accepted (and stored with each identity).
pub const ISSUER_MAX: usize = 512;
/// Longest sign-in button label.
const LABEL_MAX: usize = 40;

/// Single sign-on with one OpenID provider.
#[derive(Clone)]
pub struct OidcConfig {
    /// `OIDC_ISSUER`: discovery starts at its `/.well-known/openid-configuration`.
    pub issuer: String,
    /// `OIDC_CLIENT_ID`.
    pub client_id: String,
    /// `OIDC_CLIENT_SECRET`. Never printed.
    pub client_secret: Zeroizing<String>,
    /// Where the provider redirects back to.
    pub redirect_url: String,
    /// `OIDC_ALLOWED_DOMAINS`: lower-case email domains whose people may
    /// sign on (empty: any, and no email is needed).
    pub allowed_domains: Vec<String>,
    /// `OIDC_LABEL`: the provider's name on the sign-in button ("SSO").
    pub label: String,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("redirect_url", &self.redirect_url)
            .field("allowed_domains", &self.allowed_domains)
            .finish_non_exhaustive()
    }
}

impl OidcConfig {
    /// Whether people with this email address may sign on.
    pub fn allows(&self, email: Option<&str>) -> bool {
        if self.allowed_domains.is_empty() {
            return true;
        }
        let Some(domain) = email.and_then(|e| e.rsplit_once('@')).map(|(_, d)| d) else {
            return false;
        };
        let domain = domain.to_ascii_lowercase();
        self.allowed_domains.contains(&domain)
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn http_url(var: &'static str, value: &str) -> Result<url::Url, ConfigError> {
    let url = url::Url::parse(value)
        .map_err(|e| ConfigError::new(var, format!("{value:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::new(
            var,
            format!("{value:?} must be an http(s) URL"),
        ));
    }
    Ok(url)
}

/// Reads the `OIDC_*` variables (`None`: `OIDC_ISSUER` unset, no sign-on).
pub fn load(
    env: &dyn Fn(&str) -> Option<String>,
    public_origin: Option<&str>,
) -> Result<Option<OidcConfig>, ConfigError> {
    let Some(issuer) = non_empty(env("OIDC_ISSUER")) else {
        return Ok(None);
    };
    if issuer.len() > ISSUER_MAX {
        return Err(ConfigError::new("OIDC_ISSUER", "is too long"));
    }
    http_url("OIDC_ISSUER", &issuer)?;
    let client_id = non_empty(env("OIDC_CLIENT_ID"))
        .ok_or_else(|| ConfigError::new("OIDC_CLIENT_ID", "must be set with OIDC_ISSUER"))?;
    let client_secret = non_empty(env("OIDC_CLIENT_SECRET"))
        .ok_or_else(|| ConfigError::new("OIDC_CLIENT_SECRET", "must be set with OIDC_ISSUER"))?;
    let redirect_url = match (non_empty(env("OIDC_REDIRECT_URL")), public_origin) {
        (Some(url), _) => {
            if http_url("OIDC_REDIRECT_URL", &url)?.path() != CALLBACK_PATH {
                return Err(ConfigError::new(
                    "OIDC_REDIRECT_URL",
                    format!("must end with {CALLBACK_PATH}"),
                ));
            }
            url
        }
        (None, Some(origin)) => format!("{origin}{CALLBACK_PATH}"),
        (None, None) => {
            return Err(ConfigError::new(
                "OIDC_REDIRECT_URL",
                "must be set with OIDC_ISSUER when PUBLIC_URL is not",
            ));
        }
    };
    let allowed_domains = non_empty(env("OIDC_ALLOWED_DOMAINS"))
        .map(|list| {
            list.split(',')
                .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let label = non_empty(env("OIDC_LABEL")).unwrap_or_else(|| "SSO".to_owned());
    if label.chars().count() > LABEL_MAX {
        return Err(ConfigError::new(
            "OIDC_LABEL",
            format!("must be at most {LABEL_MAX} characters"),
        ));
    }
    Ok(Some(OidcConfig {
        issuer,
        client_id,
        client_secret: Zeroizing::new(client_secret),
        redirect_url,
        allowed_domains,
        label,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_with(
        vars: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Result<Option<OidcConfig>, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        load(
            &|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            origin,
        )
    }

    const BASE: [(&str, &str); 3] = [
        ("OIDC_ISSUER", "https://id.example.com"),
        ("OIDC_CLIENT_ID", "chat"),
        ("OIDC_CLIENT_SECRET", "s3cret"),
    ];

    #[test]
    fn off_without_issuer_and_redirect_from_public_url() {
        assert!(load_with(&[], None).unwrap().is_none());
        let cfg = load_with(&BASE, Some("https://chat.example.com"))
            .unwrap()
            .unwrap();
        assert_eq!(
            cfg.redirect_url,
            "https://chat.example.com/api/auth/oidc/callback"
        );
        assert!(cfg.allows(None));
        assert_eq!(load_with(&BASE, None).unwrap_err().var, "OIDC_REDIRECT_URL");
        assert_eq!(
            load_with(&BASE[..2], Some("https://c.example"))
                .unwrap_err()
                .var,
            "OIDC_CLIENT_SECRET"
        );
    }

    #[test]
    fn allowed_domains_are_matched_case_insensitively() {
        let mut vars = BASE.to_vec();
        vars.push(("OIDC_ALLOWED_DOMAINS", " Example.com, @corp.example "));
        let cfg = load_with(&vars, Some("https://c.example"))
            .unwrap()
            .unwrap();
        assert!(cfg.allows(Some("a@EXAMPLE.com")));
        assert!(cfg.allows(Some("b@corp.example")));
        assert!(!cfg.allows(Some("c@evil.example")));
        assert!(!cfg.allows(Some("example.com")));
        assert!(!cfg.allows(None));
    }
}
