//! Key material from outside the data directory: a file readable only by the service, or a
//! command (a secret manager, a KMS client) that prints it. Shared by the audit key and the
//! store's master key, so both read their keys alike. The bytes are never logged.

use std::path::{Path, PathBuf};

/// The shortest key accepted (bytes).
pub const MIN_KEY_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{what} file {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} command {command:?}: {message}")]
    Command {
        what: &'static str,
        command: String,
        message: String,
    },
    #[error("the {what} has {len} bytes; at least {MIN_KEY_BYTES} are needed")]
    TooShort { what: &'static str, len: usize },
}

/// A key from a file's or a command's bytes: 64+ hex digits (`openssl rand -hex 32`,
/// surrounding whitespace ignored) are decoded; anything else is used as it is.
pub fn material(what: &'static str, bytes: &[u8]) -> Result<Vec<u8>, KeyError> {
    let decoded = std::str::from_utf8(bytes.trim_ascii())
        .ok()
        .filter(|s| s.len() >= 2 * MIN_KEY_BYTES)
        .and_then(|s| hex::decode(s).ok());
    let material = decoded.unwrap_or_else(|| bytes.to_vec());
    if material.len() < MIN_KEY_BYTES {
        return Err(KeyError::TooShort {
            what,
            len: material.len(),
        });
    }
    Ok(material)
}

pub fn from_file(what: &'static str, path: &Path) -> Result<Vec<u8>, KeyError> {
    let bytes = std::fs::read(path).map_err(|source| KeyError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })?;
    material(what, &bytes)
}

/// The key a command prints (`sh -c`); its stderr is discarded so a key never reaches a log.
pub fn from_command(what: &'static str, command: &str) -> Result<Vec<u8>, KeyError> {
    let failed = |message: String| KeyError::Command {
        what,
        command: command.to_string(),
        message,
    };
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|e| failed(e.to_string()))?;
    if !out.status.success() {
        return Err(failed(format!("exited with {}", out.status)));
    }
    material(what, &out.stdout)
}

/// `<PREFIX>_FILE`, else `<PREFIX>_COMMAND`, else none. Read from the environment so every
/// deskmail process opening a data directory (the daemon, `serve`, the CLI) uses the same key.
pub fn from_env(what: &'static str, prefix: &str) -> Result<Option<Vec<u8>>, KeyError> {
    if let Some(path) = std::env::var_os(format!("{prefix}_FILE")).filter(|p| !p.is_empty()) {
        return from_file(what, Path::new(&path)).map(Some);
    }
    match std::env::var(format!("{prefix}_COMMAND")) {
        Ok(c) if !c.trim().is_empty() => from_command(what, &c).map(Some),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_decoded_raw_bytes_are_kept_and_short_keys_are_refused() {
        let hex_key = "ab".repeat(32);
        assert_eq!(material("k", hex_key.as_bytes()).unwrap(), vec![0xab; 32]);
        assert_eq!(material("k", &[7u8; 40]).unwrap(), vec![7u8; 40]);
        assert!(matches!(
            material("k", b"short"),
            Err(KeyError::TooShort { len: 5, .. })
        ));
    }

    #[test]
    fn a_failing_command_names_the_command_not_the_key() {
        let e = from_command("store key", "exit 3").unwrap_err();
        assert!(
            e.to_string().contains("store key command \"exit 3\""),
            "{e}"
        );
    }
}
