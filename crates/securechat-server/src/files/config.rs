//! File settings from the environment: where blobs go and how big they may be.

use std::path::{Path, PathBuf};

use crate::config::error::ConfigError;

const MIB: u64 = 1024 * 1024;

/// Where uploaded bytes are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// A directory (default `DATA_DIR/files`); several nodes may share it
    /// over a network file system.
    Local(PathBuf),
    /// An S3-compatible bucket, for nodes that share nothing on disk.
    S3 {
        bucket: String,
        /// For MinIO, Garage, Ceph and the like; AWS when absent.
        endpoint: Option<String>,
        region: String,
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesConfig {
    pub store: StoreConfig,
    /// Largest upload, in bytes (`MAX_UPLOAD_MB`).
    pub max_upload: u64,
    /// Bytes one user may keep stored (`USER_QUOTA_MB`).
    pub quota: u64,
}

fn megabytes(
    env: &dyn Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    match env(var).filter(|v| !v.trim().is_empty()) {
        None => Ok(default * MIB),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n * MIB),
            _ => Err(ConfigError::new(
                var,
                format!("{v:?} is not a whole number of megabytes from 1 to {max}"),
            )),
        },
    }
}

/// Reads `MAX_UPLOAD_MB` (default 25), `USER_QUOTA_MB` (default 1024),
/// `FILE_STORE` (`local`, the default, or `s3`), `FILES_DIR`, and for S3
/// `S3_BUCKET`, `S3_ENDPOINT`, `S3_REGION`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`.
pub fn load(
    env: &dyn Fn(&str) -> Option<String>,
    data_dir: &Path,
) -> Result<FilesConfig, ConfigError> {
    let max_upload = megabytes(env, "MAX_UPLOAD_MB", 25, 4096)?;
    let quota = megabytes(env, "USER_QUOTA_MB", 1024, 1024 * 1024)?;
    let kind = env("FILE_STORE").unwrap_or_default();
    let store = match kind.trim().to_ascii_lowercase().as_str() {
        "" | "local" => StoreConfig::Local(
            env("FILES_DIR")
                .filter(|v| !v.trim().is_empty())
                .map_or_else(|| data_dir.join("files"), PathBuf::from),
        ),
        "s3" => StoreConfig::S3 {
            bucket: env("S3_BUCKET")
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| {
                    ConfigError::new("S3_BUCKET", "must name the bucket when FILE_STORE=s3")
                })?,
            endpoint: env("S3_ENDPOINT").filter(|v| !v.trim().is_empty()),
            region: env("S3_REGION")
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| "us-east-1".into()),
            access_key_id: env("AWS_ACCESS_KEY_ID").filter(|v| !v.is_empty()),
            secret_access_key: env("AWS_SECRET_ACCESS_KEY").filter(|v| !v.is_empty()),
        },
        other => {
            return Err(ConfigError::new(
                "FILE_STORE",
                format!("{other:?} is not local or s3"),
            ));
        }
    };
    Ok(FilesConfig {
        store,
        max_upload,
        quota,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_with(vars: &[(&str, &str)]) -> Result<FilesConfig, ConfigError> {
        let env = |k: &str| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        };
        load(&env, Path::new("/data"))
    }

    #[test]
    fn defaults_keep_files_beside_the_database() {
        let c = load_with(&[]).unwrap();
        assert_eq!(c.store, StoreConfig::Local("/data/files".into()));
        assert_eq!(c.max_upload, 25 * MIB);
        assert_eq!(c.quota, 1024 * MIB);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (vars, var) in [
            (vec![("MAX_UPLOAD_MB", "0")], "MAX_UPLOAD_MB"),
            (vec![("MAX_UPLOAD_MB", "lots")], "MAX_UPLOAD_MB"),
            (vec![("USER_QUOTA_MB", "-1")], "USER_QUOTA_MB"),
            (vec![("FILE_STORE", "ftp")], "FILE_STORE"),
            (vec![("FILE_STORE", "s3")], "S3_BUCKET"),
        ] {
            assert_eq!(load_with(&vars).unwrap_err().var, var);
        }
    }

    #[test]
    fn s3_takes_bucket_endpoint_and_credentials() {
        let c = load_with(&[
            ("FILE_STORE", "S3"),
            ("S3_BUCKET", "chat"),
            ("S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("AWS_ACCESS_KEY_ID", "id"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ])
        .unwrap();
        assert_eq!(
            c.store,
            StoreConfig::S3 {
                bucket: "chat".into(),
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: "us-east-1".into(),
                access_key_id: Some("id".into()),
                secret_access_key: Some("secret".into()),
            }
        );
    }
}
