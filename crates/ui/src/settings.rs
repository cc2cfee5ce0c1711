//! The viewer's persisted settings: theme, wall-clock ruler, recent files, window size.
//!
//! Stored as TOML in `settings.toml` under [`config_dir`]. Saving writes a temporary file
//! next to the target and renames it over, so a crash never leaves half a file; loading a
//! file that cannot be parsed gives the defaults and a warning, never an error the viewer
//! has to stop for.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How many recent files are kept.
pub const MAX_RECENT: usize = 10;

/// The environment variable naming the configuration directory (overrides the platform's).
pub const CONFIG_DIR_ENV: &str = "GOROSCOPE_CONFIG_DIR";

/// The file name of the settings inside [`config_dir`].
pub const SETTINGS_FILE: &str = "settings.toml";

/// The colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Light text on dark backgrounds.
    #[default]
    Dark,
    /// Dark text on light backgrounds.
    Light,
}

impl Theme {
    /// The matching egui theme.
    pub fn egui(self) -> egui::Theme {
        match self {
            Self::Dark => egui::Theme::Dark,
            Self::Light => egui::Theme::Light,
        }
    }

    /// The theme matching an egui theme.
    pub fn from_egui(theme: egui::Theme) -> Self {
        match theme {
            egui::Theme::Dark => Self::Dark,
            egui::Theme::Light => Self::Light,
        }
    }
}

/// Everything the viewer remembers between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The colour theme.
    pub theme: Theme,
    /// Label the time ruler with wall-clock time when the trace allows it.
    pub wall_clock: bool,
    /// Recently opened traces, most recent first, at most [`MAX_RECENT`].
    pub recent: Vec<PathBuf>,
    /// The window's inner size in points when it was last closed.
    pub window_size: Option<[f32; 2]>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            theme: Theme::Dark,
            wall_clock: true,
            recent: Vec::new(),
            window_size: None,
        }
    }
}

/// Why settings could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Reading, writing or renaming the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid settings TOML.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: toml::de::Error,
    },
    /// The settings could not be turned into TOML.
    #[error("cannot encode settings: {0}")]
    Encode(#[from] toml::ser::Error),
}

impl Settings {
    /// Reads settings from `path`. A missing file gives the defaults.
    ///
    /// # Errors
    ///
    /// When the file exists but cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(SettingsError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let mut s: Self = toml::from_str(&text).map_err(|source| SettingsError::Parse {
            path: path.to_owned(),
            source,
        })?;
        s.recent.truncate(MAX_RECENT);
        Ok(s)
    }

    /// Reads settings from `path`; when that fails, the defaults and a warning saying why.
    pub fn load_or_default(path: &Path) -> (Self, Option<String>) {
        match Self::load(path) {
            Ok(s) => (s, None),
            Err(e) => (
                Self::default(),
                Some(format!("ignoring unreadable settings: {e}")),
            ),
        }
    }

    /// Writes the settings to `path` atomically (a temporary file renamed over it), creating
    /// the directory if needed.
    ///
    /// # Errors
    ///
    /// When the directory or file cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        let text = toml::to_string_pretty(self)?;
        let io = |source| SettingsError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".{}.tmp", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            std::fs::remove_file(&tmp).ok();
            io(e)
        })
    }

    /// Puts `path` first in the recent files (once), keeping at most [`MAX_RECENT`].
    pub fn add_recent(&mut self, path: &Path) {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        self.recent.retain(|p| *p != path);
        self.recent.insert(0, path);
        self.recent.truncate(MAX_RECENT);
    }

    /// Removes `path` from the recent files (e.g. when it no longer opens).
    pub fn remove_recent(&mut self, path: &Path) {
        self.recent.retain(|p| p != path);
    }
}

/// The directory holding goroscope's settings: `$GOROSCOPE_CONFIG_DIR` if set, else the
/// platform's configuration directory (`$XDG_CONFIG_HOME/goroscope` or
/// `~/.config/goroscope` on Unix, `%APPDATA%\goroscope` on Windows, `~/Library/Application
/// Support/goroscope` on macOS). `None` when none of those is known.
pub fn config_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = var(CONFIG_DIR_ENV) {
        return Some(d);
    }
    let base = if cfg!(windows) {
        var("APPDATA")?
    } else if cfg!(target_os = "macos") {
        var("HOME")?.join("Library").join("Application Support")
    } else {
        var("XDG_CONFIG_HOME").or_else(|| var("HOME").map(|h| h.join(".config")))?
    };
    Some(base.join("goroscope"))
}

/// The settings file: [`SETTINGS_FILE`] in [`config_dir`].
pub fn settings_path() -> Option<PathBuf> {
    config_dir().map(|d| d.join(SETTINGS_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("goroscope-settings-{}-{name}", std::process::id()));
        std::fs::remove_dir_all(&d).ok();
        d
    }

    #[test]
    fn round_trips_through_a_file() {
        let dir = scratch("round");
        let path = dir.join("nested").join(SETTINGS_FILE);
        let mut s = Settings {
            theme: Theme::Light,
            wall_clock: false,
            window_size: Some([800.0, 600.0]),
            ..Settings::default()
        };
        s.add_recent(Path::new("/traces/a.trace"));
        s.add_recent(Path::new("/traces/b.out"));
        s.save(&path).expect("saved");
        assert_eq!(Settings::load(&path).expect("loaded"), s);
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, [SETTINGS_FILE]);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn missing_partial_and_corrupt_files() {
        let dir = scratch("corrupt");
        let path = dir.join(SETTINGS_FILE);
        assert_eq!(Settings::load(&path).expect("missing"), Settings::default());
        std::fs::create_dir_all(&dir).expect("dir");
        // Unknown keys are ignored and missing keys take their defaults.
        std::fs::write(&path, "theme = \"light\"\nfuture = 1\n").expect("write");
        let s = Settings::load(&path).expect("partial");
        assert_eq!(s.theme, Theme::Light);
        assert!(s.wall_clock);
        std::fs::write(&path, "theme = [[[").expect("write");
        assert!(matches!(
            Settings::load(&path),
            Err(SettingsError::Parse { .. })
        ));
        let (s, warning) = Settings::load_or_default(&path);
        assert_eq!(s, Settings::default());
        assert!(warning.expect("a warning").contains(SETTINGS_FILE));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn recent_files_are_deduplicated_and_capped() {
        let mut s = Settings::default();
        for i in 0..15 {
            s.add_recent(Path::new(&format!("/t/{i}.trace")));
        }
        s.add_recent(Path::new("/t/12.trace"));
        assert_eq!(s.recent.len(), MAX_RECENT);
        assert_eq!(s.recent[0], Path::new("/t/12.trace"));
        assert_eq!(s.recent[1], Path::new("/t/14.trace"));
        assert_eq!(
            s.recent.iter().filter(|p| p.ends_with("12.trace")).count(),
            1
        );
        s.remove_recent(Path::new("/t/12.trace"));
        assert_eq!(s.recent[0], Path::new("/t/14.trace"));
    }
}
