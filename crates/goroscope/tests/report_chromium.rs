//! The HTML report opened in headless Chromium: it loads offline with no console error and
//! no network request, its DOM has every section and chart, and the screenshot shows the
//! charts drawn in their colours.
//!
//! Needs `chromium` (Debian: `apt-get install chromium`). Without it the test is skipped
//! with a message, unless `GOROSCOPE_REQUIRE_CHROMIUM=1` (CI), which makes it fail. The
//! screenshots are left in the cargo target folder (`tmp/chromium-*/report.png`) for people
//! to look at.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Chromium binary, if one is installed.
fn chromium() -> Option<&'static str> {
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .into_iter()
    .find(|b| {
        Command::new(b)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn required() -> bool {
    std::env::var("GOROSCOPE_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1")
}

/// Runs headless Chromium on `page` with `extra` arguments, offline: every host name
/// resolves to nothing, so a request out would fail and be logged.
fn run(chrome: &str, page: &Path, dir: &Path, extra: &[&str]) -> Output {
    let profile = dir.join(format!("profile-{}", extra.len()));
    std::fs::create_dir_all(&profile).expect("profile dir");
    Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium")
}

/// Lines of Chromium's log that mean the page misbehaved: console messages (the page has
/// no script, so any is an error), failed loads, network requests.
fn page_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains(":CONSOLE")
                || l.contains("Uncaught")
                || l.contains("Failed to load resource")
                || l.contains("net::ERR_")
                || l.contains("Refused to")
        })
        .collect()
}

/// Pixels of `png` within a small distance of `rgb`.
fn pixels_like(png: &image::RgbaImage, rgb: [u8; 3]) -> usize {
    png.pixels()
        .filter(|p| p.0[..3].iter().zip(rgb).all(|(&a, b)| a.abs_diff(b) <= 6))
        .count()
}

fn check_report(chrome: &str, trace: &Path, name: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("chromium-{name}"));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let page = dir.join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_goroscope"))
        .args(["report", "--quiet", "-o"])
        .arg(&page)
        .arg(trace)
        .current_dir(root())
        .output()
        .expect("run goroscope");
    assert!(
        out.status.success(),
        "goroscope report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The DOM as Chromium parsed it.
    let dom = run(chrome, &page, &dir, &["--dump-dom"]);
    assert!(dom.status.success(), "chromium --dump-dom failed");
    let html = String::from_utf8_lossy(&dom.stdout);
    assert!(
        html.contains("Why was it slow?"),
        "{name}: page not rendered"
    );
    for id in [
        "findings",
        "blocking",
        "latency",
        "utilization",
        "stw",
        "groups",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{name}: no #{id}");
    }
    assert!(html.matches("<svg").count() >= 4, "{name}: charts missing");
    let log = String::from_utf8_lossy(&dom.stderr);
    let errors = page_errors(&log);
    assert!(
        errors.is_empty(),
        "{name}: the page logged errors:\n{errors:#?}"
    );

    // A screenshot tall enough for the whole page.
    let png = dir.join("report.png");
    let shot = run(
        chrome,
        &page,
        &dir,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1400,6000",
        ],
    );
    assert!(shot.status.success(), "chromium --screenshot failed");
    let log = String::from_utf8_lossy(&shot.stderr);
    let errors = page_errors(&log);
    assert!(
        errors.is_empty(),
        "{name}: the page logged errors:\n{errors:#?}"
    );
    let img = image::open(&png)
        .unwrap_or_else(|e| panic!("{name}: screenshot unreadable: {e}"))
        .to_rgba8();
    assert_eq!(img.width(), 1400);
    // The charts' colours: blocking bars (red), latency histogram (orange), P utilization
    // (blue running, grey idle). A bar chart that did not draw leaves none of them.
    for (what, rgb, least) in [
        ("blocking-site bars", [0xcf, 0x22, 0x2e], 500),
        ("latency histogram", [0xe1, 0x6f, 0x24], 2_000),
        ("utilization: running", [0x2f, 0x81, 0xf7], 2_000),
    ] {
        let n = pixels_like(&img, rgb);
        assert!(
            n >= least,
            "{name}: only {n} pixels of the {what} colour in {}",
            png.display()
        );
    }
    eprintln!("{name}: screenshot at {}", png.display());
}

#[test]
fn html_report_renders_offline_in_headless_chromium() {
    let Some(chrome) = chromium() else {
        assert!(
            !required(),
            "chromium is missing and GOROSCOPE_REQUIRE_CHROMIUM=1"
        );
        eprintln!("skipping: chromium not found (apt-get install chromium)");
        return;
    };
    let traces = root().join("fixtures/traces");
    check_report(chrome, &traces.join("sched-go1.27.3.trace"), "sched");
    check_report(chrome, &traces.join("mixed-go1.27.3.trace"), "mixed");

    // A damaged trace: the banner, and the charts of what was read.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chromium-damaged-input");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let damaged = dir.join("damaged.trace");
    let data = std::fs::read(traces.join("sched-go1.27.3.trace")).expect("fixture");
    std::fs::write(&damaged, &data[..30_000]).expect("write");
    check_report(chrome, &damaged, "damaged");
}
