//! A token read from a file that may be rotated under us (projected service-account
//! tokens, EKS/GKE tokens written by a sidecar). Like client-go: re-read when the cached
//! value is older than a minute, and on a 401; keep the last good token if a read fails.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::secret::SecretString;

pub const REREAD_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct TokenFile {
    path: PathBuf,
    reread_after: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    token: SecretString,
    read_at: Instant,
}

impl TokenFile {
    /// Reads the file once; a file that cannot be read at start is an error.
    pub fn open(path: &Path) -> Result<TokenFile, Error> {
        Self::with_interval(path, REREAD_AFTER)
    }

    pub fn with_interval(path: &Path, reread_after: Duration) -> Result<TokenFile, Error> {
        let token = read_token(path)?;
        Ok(TokenFile { path: path.to_path_buf(), reread_after, state: Mutex::new(State { token, read_at: Instant::now() }) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The token to use now, re-reading the file when the cached one is stale.
    pub fn current(&self) -> Result<SecretString, Error> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.read_at.elapsed() >= self.reread_after {
            if let Ok(token) = read_token(&self.path) {
                state.token = token;
            }
            // On failure keep the last good token, and try again at the next interval.
            state.read_at = Instant::now();
        }
        Ok(state.token.clone())
    }

    /// Re-reads the file now; true if it holds a different token than the cached one.
    pub fn reload_if_changed(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match read_token(&self.path) {
            Ok(token) => {
                state.read_at = Instant::now();
                let changed = token != state.token;
                state.token = token;
                changed
            }
            Err(_) => false,
        }
    }
}

fn read_token(path: &Path) -> Result<SecretString, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Auth(format!("cannot read token file {}: {e}", path.display())))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::Auth(format!("token file {} is empty", path.display())));
    }
    Ok(SecretString::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rereads_and_keeps_last_good() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("token");
        std::fs::write(&p, "one\n").unwrap();
        let tf = TokenFile::with_interval(&p, Duration::ZERO).unwrap();
        assert_eq!(tf.current().unwrap().expose(), "one");
        std::fs::write(&p, "two").unwrap();
        assert_eq!(tf.current().unwrap().expose(), "two");
        std::fs::remove_file(&p).unwrap();
        assert_eq!(tf.current().unwrap().expose(), "two", "a failed read keeps the last good token");
        std::fs::write(&p, "").unwrap();
        assert_eq!(tf.current().unwrap().expose(), "two", "an empty file keeps the last good token");
    }

    #[test]
    fn reload_reports_change() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("token");
        std::fs::write(&p, "one").unwrap();
        let tf = TokenFile::open(&p).unwrap();
        assert!(!tf.reload_if_changed());
        std::fs::write(&p, "two").unwrap();
        assert!(tf.reload_if_changed());
        assert_eq!(tf.current().unwrap().expose(), "two");
    }

    #[test]
    fn missing_file_at_start_is_an_error_naming_it() {
        let err = TokenFile::open(Path::new("/nonexistent/token")).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/token"), "{err}");
    }
}
