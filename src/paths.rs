//! Where opsdeck keeps its files: the configuration, data (audit log) and
//! state (opsdeck's own log) directories.

use std::path::{Path, PathBuf};

/// Environment variable overriding the configuration directory.
pub const ENV_CONFIG_DIR: &str = "OPSDECK_CONFIG_DIR";
/// Environment variable overriding the data directory (audit log).
pub const ENV_DATA_DIR: &str = "OPSDECK_DATA_DIR";
/// Environment variable overriding the state directory (tracing log).
pub const ENV_STATE_DIR: &str = "OPSDECK_STATE_DIR";

/// Where opsdeck keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// `config.toml`, `themes/`, `keymaps/`, `runbooks/`.
    pub config_dir: PathBuf,
    /// The audit log (`audit.jsonl`).
    pub data_dir: PathBuf,
    /// The tracing log file (`opsdeck.log`).
    pub state_dir: PathBuf,
}

impl Paths {
    /// The platform directories (`ProjectDirs` for `dev.opsdeck.opsdeck`),
    /// each overridable by `OPSDECK_CONFIG_DIR`, `OPSDECK_DATA_DIR` and
    /// `OPSDECK_STATE_DIR`; `config_dir` (`--config-dir`) beats them all
    /// for the config directory. Fails (no panic) when there is no home
    /// directory and not every directory is given.
    pub fn resolve(config_dir: Option<&Path>) -> Result<Paths, String> {
        Paths::resolve_with(config_dir, |k| std::env::var_os(k))
    }

    /// [`Paths::resolve`] with the flag and environment passed in (for tests).
    pub fn resolve_with(
        config_dir: Option<&Path>,
        env: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Paths, String> {
        let var = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let config = config_dir
            .map(Path::to_path_buf)
            .or_else(|| var(ENV_CONFIG_DIR));
        let (data, state) = (var(ENV_DATA_DIR), var(ENV_STATE_DIR));
        if let (Some(config_dir), Some(data_dir), Some(state_dir)) = (&config, &data, &state) {
            return Ok(Paths {
                config_dir: config_dir.clone(),
                data_dir: data_dir.clone(),
                state_dir: state_dir.clone(),
            });
        }
        let dirs = directories::ProjectDirs::from("dev", "opsdeck", "opsdeck").ok_or_else(|| {
            format!(
                "cannot find the home directory; set {ENV_CONFIG_DIR}, {ENV_DATA_DIR} and {ENV_STATE_DIR}"
            )
        })?;
        Ok(Paths {
            config_dir: config.unwrap_or_else(|| dirs.config_dir().to_path_buf()),
            data_dir: data.unwrap_or_else(|| dirs.data_dir().to_path_buf()),
            state_dir: state.unwrap_or_else(|| {
                dirs.state_dir()
                    .unwrap_or_else(|| dirs.data_local_dir())
                    .to_path_buf()
            }),
        })
    }

    /// `<data_dir>/audit.jsonl`.
    pub fn audit_log(&self) -> PathBuf {
        self.data_dir.join("audit.jsonl")
    }

    /// `<state_dir>/opsdeck.log`.
    pub fn log_file(&self) -> PathBuf {
        self.state_dir.join("opsdeck.log")
    }

    /// `<config_dir>/config.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn env_overrides_paths() {
        let env = |k: &str| match k {
            ENV_CONFIG_DIR => Some(OsString::from("/c")),
            ENV_DATA_DIR => Some(OsString::from("/d")),
            ENV_STATE_DIR => Some(OsString::from("/s")),
            _ => None,
        };
        let p = Paths::resolve_with(None, env).unwrap();
        assert_eq!(p.config_dir, PathBuf::from("/c"));
        assert_eq!(p.audit_log(), PathBuf::from("/d/audit.jsonl"));
        assert_eq!(p.log_file(), PathBuf::from("/s/opsdeck.log"));
    }

    #[test]
    fn empty_env_value_is_ignored() {
        // OPSDECK_CONFIG_DIR is set but empty; the other two are given.
        let env = |k: &str| match k {
            ENV_CONFIG_DIR => Some(OsString::new()),
            ENV_DATA_DIR => Some(OsString::from("/d")),
            ENV_STATE_DIR => Some(OsString::from("/s")),
            _ => None,
        };
        // The empty value is passed over for the platform's directory, or
        // (without a home directory) for the error that says what to set.
        let platform = directories::ProjectDirs::from("dev", "opsdeck", "opsdeck")
            .map(|d| d.config_dir().to_path_buf());
        match (Paths::resolve_with(None, env), platform) {
            (Ok(p), Some(dir)) => {
                assert_eq!(p.config_dir, dir);
                assert_eq!(p.data_dir, PathBuf::from("/d"));
                assert_eq!(p.state_dir, PathBuf::from("/s"));
            }
            (Err(e), None) => assert!(e.contains("set OPSDECK_CONFIG_DIR"), "{e}"),
            (got, platform) => panic!("{got:?} with platform directory {platform:?}"),
        }
    }

    #[test]
    fn config_dir_flag_beats_env() {
        let env = |k: &str| Some(OsString::from(format!("/{k}")));
        let p = Paths::resolve_with(Some(Path::new("/flag")), env).unwrap();
        assert_eq!(p.config_dir, PathBuf::from("/flag"));
        assert_eq!(p.data_dir, PathBuf::from(format!("/{ENV_DATA_DIR}")));
    }
}
