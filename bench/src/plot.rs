//! The class curve as an SVG plot for the book: four panels (server CPU, server memory,
//! keystroke p99, check p99) against the class's size, the limits drawn where they fall in view.
//! Plain SVG written by hand: no plotting crate for four polylines.

use std::fmt::Write;

/// One class of the curve.
pub struct Point {
    pub learners: usize,
    pub server_cores: f64,
    pub server_mib: f64,
    pub key_p99_ms: f64,
    pub check_p99_ms: f64,
}

const PANEL_W: f64 = 360.0;
const PANEL_H: f64 = 220.0;
/// Room for the y labels on the left, the x labels below and the title above.
const LEFT: f64 = 58.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 40.0;

/// A panel: its title, the limit drawn in it (if any), and its figure of a class.
type Panel = (&'static str, Option<f64>, fn(&Point) -> f64);

/// The plot of `points` (sorted by learners); `key_limit` and `check_limit` in ms.
pub fn class_curve(points: &[Point], key_limit: f64, check_limit: f64) -> String {
    let panels: [Panel; 4] = [
        ("server CPU (cores)", None, |p| p.server_cores),
        ("server memory, RSS at the end (MiB)", None, |p| p.server_mib),
        ("keystroke round trip p99 (ms)", Some(key_limit), |p| p.key_p99_ms),
        ("check latency p99 (ms)", Some(check_limit), |p| p.check_p99_ms),
    ];
    let (width, height) = (PANEL_W * 2.0, PANEL_H * 2.0 + 24.0);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="sans-serif" font-size="11" role="img" aria-labelledby="curve-title">"#
    );
    let _ = writeln!(
        svg,
        r#"<title id="curve-title">The class curve: server CPU, memory, keystroke p99 and check p99 against learners</title>"#
    );
    let _ = writeln!(svg, r##"<rect width="100%" height="100%" fill="#fff"/>"##);
    for (i, (title, limit, value)) in panels.iter().enumerate() {
        let (x0, y0) = ((i % 2) as f64 * PANEL_W, (i / 2) as f64 * PANEL_H);
        panel(&mut svg, (x0, y0), title, *limit, points, *value);
    }
    let _ =
        writeln!(svg, r##"<text x="{}" y="{}" text-anchor="middle" fill="#333">learners in the class</text>"##, width / 2.0, height - 8.0);
    svg.push_str("</svg>\n");
    svg
}

fn panel(svg: &mut String, (x0, y0): (f64, f64), title: &str, limit: Option<f64>, points: &[Point], value: fn(&Point) -> f64) {
    let max_x = points.iter().map(|p| p.learners).max().unwrap_or(1).max(1) as f64;
    let max_data = points.iter().map(value).fold(0.0, f64::max);
    // The limit is drawn when the data comes within a third of it; otherwise it would flatten
    // the line, and the title says where it is instead.
    let shown_limit = limit.filter(|l| max_data * 3.0 >= *l);
    let (top, step) = nice_axis(max_data.max(shown_limit.unwrap_or(0.0) * 1.1));
    let (plot_w, plot_h) = (PANEL_W - LEFT - RIGHT, PANEL_H - TOP - BOTTOM);
    let x = |learners: f64| x0 + LEFT + learners / max_x * plot_w;
    let y = |v: f64| y0 + TOP + plot_h - v / top * plot_h;
    let title = match (limit, shown_limit) {
        (Some(l), None) => format!("{title}, limit {l:.0} (far above)"),
        _ => title.to_string(),
    };
    let _ = writeln!(svg, r##"<text x="{}" y="{}" font-weight="bold" fill="#222">{}</text>"##, x0 + LEFT, y0 + 18.0, escape(&title));
    // Axes, the y grid and its labels.
    let _ = writeln!(
        svg,
        r##"<path d="M{} {} V{} H{}" stroke="#555" fill="none"/>"##,
        x0 + LEFT,
        y0 + TOP,
        y0 + TOP + plot_h,
        x0 + LEFT + plot_w
    );
    let mut tick = step;
    while tick <= top + step / 2.0 {
        let _ = writeln!(svg, r##"<path d="M{} {:.1} H{}" stroke="#ddd"/>"##, x0 + LEFT, y(tick), x0 + LEFT + plot_w);
        let _ = writeln!(
            svg,
            r##"<text x="{}" y="{:.1}" text-anchor="end" fill="#333">{}</text>"##,
            x0 + LEFT - 6.0,
            y(tick) + 4.0,
            label(tick)
        );
        tick += step;
    }
    for p in points {
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{}" text-anchor="middle" fill="#333">{}</text>"##,
            x(p.learners as f64),
            y0 + TOP + plot_h + 15.0,
            p.learners
        );
    }
    if let Some(l) = shown_limit {
        let _ = writeln!(
            svg,
            r##"<path d="M{} {:.1} H{}" stroke="#c0392b" stroke-dasharray="5 4"/><text x="{}" y="{:.1}" fill="#c0392b">limit {}</text>"##,
            x0 + LEFT,
            y(l),
            x0 + LEFT + plot_w,
            x0 + LEFT + 6.0,
            y(l) - 4.0,
            label(l)
        );
    }
    let line: Vec<String> = points.iter().map(|p| format!("{:.1},{:.1}", x(p.learners as f64), y(value(p)))).collect();
    let _ = writeln!(svg, r##"<polyline points="{}" fill="none" stroke="#2471a3" stroke-width="2"/>"##, line.join(" "));
    for p in points {
        let _ = writeln!(
            svg,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="#2471a3"><title>{} learners: {}</title></circle>"##,
            x(p.learners as f64),
            y(value(p)),
            p.learners,
            label(value(p))
        );
    }
}

/// The axis's top and tick step: a round step (1, 2 or 5 times a power of ten) giving about
/// four ticks up to at least `max`.
fn nice_axis(max: f64) -> (f64, f64) {
    if max <= 0.0 || !max.is_finite() {
        return (1.0, 0.25);
    }
    let raw = max / 4.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|s| *s >= raw).unwrap_or(10.0 * power);
    ((max / step).ceil() * step, step)
}

fn label(v: f64) -> String {
    if v == 0.0 || v.abs() >= 10.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        let near = |(top, step): (f64, f64), want: (f64, f64)| (top - want.0).abs() < 1e-9 && (step - want.1).abs() < 1e-9;
        assert!(near(nice_axis(7.3), (8.0, 2.0)));
        assert!(near(nice_axis(0.13), (0.15, 0.05)));
        assert!(near(nice_axis(1234.0), (1500.0, 500.0)));
        assert!(near(nice_axis(0.0), (1.0, 0.25)));
    }

    #[test]
    fn every_class_is_a_point_and_a_far_limit_is_named_not_drawn() {
        let points: Vec<Point> = [10, 50, 200]
            .iter()
            .map(|&n| Point { learners: n, server_cores: 0.1, server_mib: 40.0, key_p99_ms: 3.0, check_p99_ms: 400.0 })
            .collect();
        let svg = class_curve(&points, 50.0, 1000.0);
        assert_eq!(svg.matches("<circle").count(), 12);
        // Keystrokes at 3 ms against a 50 ms limit: named in the title; checks near theirs: drawn.
        assert!(svg.contains("keystroke round trip p99 (ms), limit 50 (far above)"));
        assert_eq!(svg.matches("limit 1000<").count(), 1);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    }
}
