//! The desktop viewer, run for real: `goroscope FILE --screenshot-to PNG` under Xvfb with a
//! software renderer, and the screenshot's pixels checked for drawn lanes.
//!
//! Needs `xvfb-run` (Debian: `xvfb xauth`) and a Vulkan or GL driver (Mesa's lavapipe:
//! `mesa-vulkan-drivers libvulkan1`). Without `xvfb-run` the test is skipped with a message,
//! unless `GOROSCOPE_REQUIRE_GUI` is set (CI), which makes it fail.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn xvfb_available() -> bool {
    Command::new("xvfb-run")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("goroscope-viewer-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// Runs the viewer on `trace` under Xvfb and returns the screenshot path. Settings live in
/// `config/` next to it.
fn screenshot(trace: &Path, name: &str) -> Option<PathBuf> {
    screenshot_args(&[trace.as_os_str()], name, |_| {}).map(|(png, _)| png)
}

/// Runs `goroscope ARGS --screenshot-to PNG` under Xvfb (settings in `config/` next to the
/// PNG, after `prepare` has had the scratch directory) and returns the screenshot path and
/// what the viewer wrote on standard error.
fn screenshot_args(
    args: &[&std::ffi::OsStr],
    name: &str,
    prepare: impl FnOnce(&Path),
) -> Option<(PathBuf, String)> {
    if !xvfb_available() {
        assert!(
            std::env::var_os("GOROSCOPE_REQUIRE_GUI").is_none(),
            "xvfb-run is missing and GOROSCOPE_REQUIRE_GUI is set"
        );
        eprintln!("skipping {name}: xvfb-run not found (apt-get install xvfb xauth)");
        return None;
    }
    let dir = scratch(name);
    let out = dir.join("shot.png");
    prepare(&dir);
    let runtime = dir.join("xdg");
    std::fs::create_dir_all(&runtime).expect("runtime dir");
    let mut child = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1600x1000x24"])
        .arg(env!("CARGO_BIN_EXE_goroscope"))
        .args(args)
        .arg("--screenshot-to")
        .arg(&out)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("GOROSCOPE_CONFIG_DIR", dir.join("config"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run xvfb-run");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(180) {
            child.kill().ok();
            panic!("the viewer did not exit within 180 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        std::io::Read::read_to_string(&mut e, &mut err).ok();
    }
    assert!(status.success(), "viewer failed: {status}\n{err}");
    assert!(out.exists(), "no screenshot written\n{err}");
    Some((out, err))
}

/// Pixels per colour (quantised to 4 bits per channel) within a rectangle.
fn colours(img: &image::RgbaImage, x0: u32, y0: u32, x1: u32, y1: u32) -> HashMap<[u8; 3], u32> {
    let mut out = HashMap::new();
    for y in y0..y1.min(img.height()) {
        for x in x0..x1.min(img.width()) {
            let p = img.get_pixel(x, y).0;
            *out.entry([p[0] >> 4, p[1] >> 4, p[2] >> 4]).or_insert(0) += 1;
        }
    }
    out
}

#[test]
fn viewer_screenshot_shows_lanes() {
    let trace = goroscope_testkit::fixtures_dir()
        .join("traces")
        .join("sched-go1.27.3.trace");
    let Some(png) = screenshot(&trace, "sched") else {
        return;
    };
    let img = image::open(&png).expect("a PNG").to_rgba8();
    assert!(
        img.width() >= 1000 && img.height() >= 600,
        "{}x{}",
        img.width(),
        img.height()
    );
    // The lane area (right of the lane names, below the toolbar and ruler).
    let lanes = colours(&img, 200, 60, img.width() - 20, img.height() - 10);
    let mut big: Vec<_> = lanes.iter().filter(|(_, n)| **n >= 300).collect();
    big.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
    assert!(
        big.len() >= 8,
        "expected many distinct span colours in the lanes, got {}: {big:?}",
        big.len()
    );
    // Not a blank window: no colour covers almost everything.
    let total: u32 = lanes.values().sum();
    let top = big.first().map_or(0, |(_, n)| **n);
    assert!(
        top < total * 7 / 10,
        "one colour covers {top} of {total} pixels"
    );
    // State colours are there: running green and waiting-on-sync red in goroutine lanes.
    let has = |r: u8, g: u8, b: u8| {
        lanes
            .get(&[r >> 4, g >> 4, b >> 4])
            .is_some_and(|n| *n > 50)
    };
    assert!(has(215, 75, 75), "no 'waiting (sync)' red");
    assert!(has(235, 175, 45), "no 'runnable' amber");
    // The trace is remembered in the recent files, in the configuration directory given.
    let dir = png.parent().expect("dir");
    let settings = std::fs::read_to_string(dir.join("config").join("settings.toml"))
        .expect("settings written");
    assert!(
        settings.contains("sched-go1.27.3.trace"),
        "recent files: {settings}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn viewer_without_a_file_shows_the_start_screen_with_recent_files() {
    let trace = goroscope_testkit::fixtures_dir()
        .join("traces")
        .join("sched-go1.27.3.trace");
    let settings = format!(
        "theme = \"light\"\nrecent = [{:?}]\n",
        trace.display().to_string()
    );
    let Some((png, _)) = screenshot_args(&["view".as_ref()], "start", |dir| {
        let config = dir.join("config");
        std::fs::create_dir_all(&config).expect("config dir");
        std::fs::write(config.join("settings.toml"), settings).expect("settings");
    }) else {
        return;
    };
    let img = image::open(&png).expect("a PNG").to_rgba8();
    // The light theme from the settings: mostly light pixels.
    let all = colours(&img, 0, 0, img.width(), img.height());
    let total: u32 = all.values().sum();
    let light: u32 = all
        .iter()
        .filter(|(c, _)| c.iter().all(|v| *v >= 0xc))
        .map(|(_, n)| *n)
        .sum();
    assert!(light > total * 3 / 4, "{light} of {total} light pixels");
    // Some text was drawn (the heading, the Open button, the recent file).
    assert!(all.len() >= 3, "{all:?}");
    // The settings file was not rewritten with anything lost.
    let dir = png.parent().expect("dir");
    let after = std::fs::read_to_string(dir.join("config").join("settings.toml")).expect("kept");
    assert!(after.contains("sched-go1.27.3.trace"), "{after}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn viewer_reports_an_unreadable_trace() {
    if !xvfb_available() {
        eprintln!("skipping: xvfb-run not found");
        return;
    }
    let dir = scratch("bad");
    let bad = dir.join("bad.trace");
    std::fs::write(&bad, b"not a trace at all").expect("write");
    let runtime = dir.join("xdg");
    std::fs::create_dir_all(&runtime).expect("runtime dir");
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1024x768x24"])
        .arg(env!("CARGO_BIN_EXE_goroscope"))
        .arg(&bad)
        .arg("--screenshot-to")
        .arg(dir.join("never.png"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("GOROSCOPE_CONFIG_DIR", dir.join("config"))
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.trace"));
    assert!(!dir.join("never.png").exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn viewer_ignores_a_corrupt_settings_file() {
    let trace = goroscope_testkit::fixtures_dir()
        .join("traces")
        .join("sched-go1.27.3.trace");
    let Some((png, err)) =
        screenshot_args(&["view".as_ref(), trace.as_os_str()], "corrupt", |dir| {
            let config = dir.join("config");
            std::fs::create_dir_all(&config).expect("config dir");
            std::fs::write(config.join("settings.toml"), "theme = [[[").expect("settings");
        })
    else {
        return;
    };
    assert!(err.contains("ignoring unreadable settings"), "{err}");
    assert!(err.contains("settings.toml"), "{err}");
    // Replaced by valid settings remembering the trace.
    let dir = png.parent().expect("dir");
    let after = std::fs::read_to_string(dir.join("config").join("settings.toml")).expect("kept");
    assert!(after.contains("sched-go1.27.3.trace"), "{after}");
    std::fs::remove_dir_all(dir).ok();
}
