//! Small inline SVG charts for the HTML report: stacked areas over time, histograms,
//! horizontal bars, stacked bars and interval strips. Every chart is a self-contained
//! `<svg>` element with a `viewBox`, so it scales with the page; text is real text (readable,
//! selectable); every mark has a `<title>` tooltip.

use std::fmt::Write as _;

use crate::units::duration;

/// Escapes text for HTML and SVG.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Round tick positions covering `[0, max]`: about `n` steps of 1, 2 or 5 × 10^k.
pub fn ticks(max: f64, n: usize) -> Vec<f64> {
    if max <= 0.0 || !max.is_finite() {
        return vec![0.0];
    }
    let raw = max / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut out = vec![0.0];
    let mut v = 0.0;
    while v < max * 0.999_999 {
        v += step;
        out.push(v);
    }
    out
}

/// A series of a stacked chart.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    /// Its name, for the legend.
    pub name: &'a str,
    /// A CSS colour.
    pub color: &'a str,
    /// One value per x position.
    pub values: Vec<f64>,
}

const FONT: &str = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\"";

fn open(out: &mut String, w: f64, h: f64, label: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"{}\" {FONT} font-size=\"12\">",
        esc(label)
    );
}

fn legend(out: &mut String, x: f64, y: f64, items: &[(&str, &str)]) {
    let mut cx = x;
    for (name, color) in items {
        let _ = write!(
            out,
            "<rect x=\"{cx}\" y=\"{}\" width=\"12\" height=\"12\" rx=\"2\" fill=\"{color}\"/><text x=\"{}\" y=\"{}\" fill=\"#333\">{}</text>",
            y - 10.0,
            cx + 16.0,
            y,
            esc(name)
        );
        cx += 28.0 + 7.0 * name.chars().count() as f64;
    }
}

/// A stacked area chart of fractions (0–1) over time: `starts` are the x positions (ns
/// since the trace start), each window `window` long, up to `end`.
pub fn stacked_area(
    title: &str,
    starts: &[i64],
    window: i64,
    end: i64,
    series: &[Series<'_>],
) -> String {
    let (w, h) = (1100.0, 300.0);
    let (l, r, t, b) = (52.0, 16.0, 34.0, 34.0);
    let (pw, ph) = (w - l - r, h - t - b);
    let span = end.max(1) as f64;
    let x = |ns: f64| l + pw * (ns / span).clamp(0.0, 1.0);
    let y = |f: f64| t + ph * (1.0 - f.clamp(0.0, 1.0));
    let mut out = String::new();
    open(&mut out, w, h, title);
    let items: Vec<(&str, &str)> = series.iter().map(|s| (s.name, s.color)).collect();
    legend(&mut out, l, 18.0, &items);
    // Grid and y axis.
    for f in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            out,
            "<line x1=\"{l}\" x2=\"{}\" y1=\"{y0}\" y2=\"{y0}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#555\">{}%</text>",
            l + pw,
            l - 6.0,
            y(f) + 4.0,
            (f * 100.0) as i64,
            y0 = y(f)
        );
    }
    // Areas, bottom series first.
    let n = starts.len();
    let mut base = vec![0f64; n];
    for s in series {
        let mut top = base.clone();
        for (tv, v) in top.iter_mut().zip(&s.values) {
            *tv += v;
        }
        let mut d = String::new();
        for i in 0..n {
            let x0 = starts[i] as f64;
            let x1 = (starts[i] + window).min(end) as f64;
            let _ = write!(
                d,
                "{}{:.1},{:.1} L{:.1},{:.1} ",
                if i == 0 { "M" } else { "L" },
                x(x0),
                y(top[i]),
                x(x1),
                y(top[i])
            );
        }
        for i in (0..n).rev() {
            let x0 = starts[i] as f64;
            let x1 = (starts[i] + window).min(end) as f64;
            let _ = write!(
                d,
                "L{:.1},{:.1} L{:.1},{:.1} ",
                x(x1),
                y(base[i]),
                x(x0),
                y(base[i])
            );
        }
        let total: f64 = s.values.iter().sum::<f64>() / n.max(1) as f64;
        let _ = write!(
            out,
            "<path d=\"{d}Z\" fill=\"{}\" stroke=\"none\"><title>{}: {:.1}% on average</title></path>",
            s.color,
            esc(s.name),
            total * 100.0
        );
        base = top;
    }
    time_axis(&mut out, l, pw, t + ph, end);
    out.push_str("</svg>");
    out
}

/// Ticks and labels of a time axis under a plot of width `pw` at `x0`, baseline `y0`.
fn time_axis(out: &mut String, x0: f64, pw: f64, y0: f64, end: i64) {
    let _ = write!(
        out,
        "<line x1=\"{x0}\" x2=\"{}\" y1=\"{y0}\" y2=\"{y0}\" stroke=\"#888\"/>",
        x0 + pw
    );
    for v in ticks(end as f64, 8) {
        let x = x0 + pw * v / end.max(1) as f64;
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{y0}\" y2=\"{}\" stroke=\"#888\"/><text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            y0 + 5.0,
            y0 + 18.0,
            duration(v as i64)
        );
    }
}

/// A bar per bucket: `(label, count, tooltip)`, with a logarithmic y axis of counts (so
/// that a long tail of rare, slow buckets stays visible next to the common ones) and each
/// bar's count above it.
pub fn histogram(title: &str, bars: &[(String, u64, String)], color: &str) -> String {
    let (w, h) = (1100.0, 300.0);
    let (l, r, t, b) = (60.0, 16.0, 22.0, 48.0);
    let (pw, ph) = (w - l - r, h - t - b);
    let max = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1) as f64;
    let decades = max.log10().ceil().max(1.0);
    // Height of a count on the log scale: 0 for 0, 1 → a sliver, 10^decades → the top.
    let height = |c: u64| {
        if c == 0 {
            0.0
        } else {
            ph * ((c as f64).log10() + 0.15).min(decades) / decades
        }
    };
    let mut out = String::new();
    open(&mut out, w, h, title);
    for d in 0..=(decades as u32) {
        let v = 10u64.pow(d);
        let y = t + ph - height(v);
        let _ = write!(
            out,
            "<line x1=\"{l}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#555\">{v}</text>",
            l + pw,
            l - 6.0,
            y + 4.0,
        );
    }
    let n = bars.len().max(1) as f64;
    let slot = pw / n;
    let every = ((bars.len() as f64 / 16.0).ceil() as usize).max(1);
    for (i, (label, count, tip)) in bars.iter().enumerate() {
        let bh = height(*count);
        let x = l + slot * i as f64;
        let _ = write!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{color}\"><title>{}</title></rect>",
            x + slot * 0.1,
            t + ph - bh,
            slot * 0.8,
            esc(tip)
        );
        if *count > 0 {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333\" font-size=\"11\">{count}</text>",
                x + slot / 2.0,
                t + ph - bh - 4.0
            );
        }
        if i % every == 0 {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
                x + slot / 2.0,
                t + ph + 16.0,
                esc(label)
            );
        }
    }
    let _ = write!(
        out,
        "<line x1=\"{l}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#888\"/>",
        l + pw,
        y = t + ph
    );
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
        l + pw / 2.0,
        h - 6.0,
        esc(title)
    );
    out.push_str("</svg>");
    out
}

/// Horizontal bars: `(label, value in ns, tooltip)`, longest first as given.
pub fn hbars(title: &str, rows: &[(String, i64, String)], color: &str) -> String {
    let row_h = 24.0;
    let label_w = 430.0;
    let w = 1100.0;
    let h = 12.0 + row_h * rows.len().max(1) as f64;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1) as f64;
    let bw = w - label_w - 110.0;
    let mut out = String::new();
    open(&mut out, w, h, title);
    for (i, (label, v, tip)) in rows.iter().enumerate() {
        let y = 6.0 + row_h * i as f64;
        let len = bw * (*v as f64 / max);
        let shown: String = if label.chars().count() > 64 {
            crate::text::elide(label, 64)
        } else {
            label.clone()
        };
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#222\">{}<title>{}</title></text><rect x=\"{}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{}\" rx=\"2\" fill=\"{color}\"><title>{}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#333\">{}</text>",
            label_w - 8.0,
            y + 15.0,
            esc(&shown),
            esc(label),
            label_w,
            y + 3.0,
            len.max(1.0),
            row_h - 6.0,
            esc(tip),
            label_w + len.max(1.0) + 6.0,
            y + 15.0,
            duration(*v)
        );
    }
    out.push_str("</svg>");
    out
}

/// Stacked horizontal bars of time per category: rows of `(label, [(category, ns)])`, each
/// row scaled to the longest row; `colors` gives each category's colour.
pub fn stacked_hbars(
    title: &str,
    rows: &[(String, Vec<(&str, i64)>)],
    colors: &dyn Fn(&str) -> &'static str,
) -> String {
    let row_h = 30.0;
    let label_w = 190.0;
    let w = 1100.0;
    let mut cats: Vec<&str> = Vec::new();
    for (_, parts) in rows {
        for (c, v) in parts {
            if *v > 0 && !cats.contains(c) {
                cats.push(c);
            }
        }
    }
    let h = 40.0 + row_h * rows.len().max(1) as f64;
    let max = rows
        .iter()
        .map(|r| r.1.iter().map(|p| p.1).sum::<i64>())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let bw = w - label_w - 100.0;
    let mut out = String::new();
    open(&mut out, w, h, title);
    let items: Vec<(&str, &str)> = cats.iter().map(|c| (*c, colors(c))).collect();
    legend(&mut out, label_w, 18.0, &items);
    for (i, (label, parts)) in rows.iter().enumerate() {
        let y = 32.0 + row_h * i as f64;
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#222\">{}</text>",
            label_w - 8.0,
            y + 17.0,
            esc(label)
        );
        let total: i64 = parts.iter().map(|p| p.1).sum();
        let mut x = label_w;
        for (c, v) in parts {
            if *v <= 0 {
                continue;
            }
            let len = bw * (*v as f64 / max);
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{len:.1}\" height=\"{}\" fill=\"{}\"><title>{}: {} ({:.1}%)</title></rect>",
                y + 3.0,
                row_h - 8.0,
                colors(c),
                esc(c),
                duration(*v),
                100.0 * *v as f64 / total.max(1) as f64
            );
            if len > 70.0 {
                let _ = write!(
                    out,
                    "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#fff\" font-size=\"11\">{}</text>",
                    x + 4.0,
                    y + 18.0,
                    esc(&duration(*v))
                );
            }
            x += len;
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#333\">{}</text>",
            x + 6.0,
            y + 17.0,
            duration(total)
        );
    }
    out.push_str("</svg>");
    out
}

/// A strip showing intervals `(start, end, tooltip)` (ns since the trace start) across the
/// trace, each at least a hairline wide.
pub fn strip(title: &str, intervals: &[(i64, i64, String)], end: i64, color: &str) -> String {
    let (w, h) = (1100.0, 78.0);
    let (l, r) = (52.0, 16.0);
    let pw = w - l - r;
    let span = end.max(1) as f64;
    let mut out = String::new();
    open(&mut out, w, h, title);
    let _ = write!(
        out,
        "<rect x=\"{l}\" y=\"8\" width=\"{pw}\" height=\"34\" fill=\"#f3f4f6\" stroke=\"#ddd\"/>"
    );
    for (a, b, tip) in intervals {
        let x = l + pw * (*a as f64 / span);
        let len = (pw * ((b - a) as f64 / span)).max(1.5);
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"8\" width=\"{len:.1}\" height=\"34\" fill=\"{color}\"><title>{}</title></rect>",
            esc(tip)
        );
    }
    time_axis(&mut out, l, pw, 42.0, end);
    out.push_str("</svg>");
    out
}

/// A column per window of time: `(window start, value in ns)` for the windows that have a
/// value, each `window` long, with a y axis of durations.
pub fn columns(title: &str, points: &[(i64, i64)], window: i64, end: i64, color: &str) -> String {
    let (w, h) = (1100.0, 220.0);
    let (l, r, t, b) = (64.0, 16.0, 14.0, 34.0);
    let (pw, ph) = (w - l - r, h - t - b);
    let max = points.iter().map(|p| p.1).max().unwrap_or(1).max(1) as f64;
    let ys = ticks(max, 4);
    let top = ys.last().copied().unwrap_or(max).max(max);
    let span = end.max(1) as f64;
    let mut out = String::new();
    open(&mut out, w, h, title);
    for v in &ys {
        let y = t + ph * (1.0 - v / top);
        let _ = write!(
            out,
            "<line x1=\"{l}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#555\">{}</text>",
            l + pw,
            l - 6.0,
            y + 4.0,
            duration(*v as i64)
        );
    }
    let bw = (pw * window as f64 / span).max(1.0);
    for (x, v) in points {
        let bh = (ph * (*v as f64 / top)).max(1.0);
        let _ = write!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{color}\"><title>{} at {}</title></rect>",
            l + pw * (*x as f64 / span),
            t + ph - bh,
            (bw - 0.5).max(1.0),
            duration(*v),
            duration(*x)
        );
    }
    time_axis(&mut out, l, pw, t + ph, end);
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(100.0, 5), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(ticks(7.0, 4), [0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(ticks(0.0, 4), [0.0]);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        let s = hbars("t", &[("main.(*T).<f>".into(), 10, "tip".into())], "#000");
        assert!(s.contains("main.(*T).&lt;f&gt;"));
        assert!(s.starts_with("<svg"));
        assert!(s.ends_with("</svg>"));
    }
}
