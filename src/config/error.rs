use std::fmt;
use std::path::PathBuf;

/// A configuration problem, naming the file, the context and the key at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: Option<PathBuf>,
    pub origin: Option<String>,
    pub context: Option<String>,
    pub key: Option<String>,
    pub message: String,
}

impl ConfigError {
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError { file: None, origin: None, context: None, key: None, message: message.into() }
    }
    pub fn file(mut self, file: impl Into<PathBuf>) -> Self {
        self.file = Some(file.into());
        self
    }
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }
    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.context = Some(context.into());
        self
    }
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(file) = &self.file {
            parts.push(format!("kubeconfig {}", file.display()));
        } else if let Some(origin) = &self.origin {
            parts.push(origin.clone());
        }
        if let Some(ctx) = &self.context {
            parts.push(format!("context '{ctx}'"));
        }
        if let Some(key) = &self.key {
            parts.push(format!("key '{key}'"));
        }
        if parts.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", parts.join(", "), self.message)
        }
    }
}

impl std::error::Error for ConfigError {}
