//! The part of a learner's recordings that led to one step: from `from` to `to` (Unix
//! seconds), from the terminal session that was busiest then, as a recording of its own that
//! starts with the screen as it was at `from`.

use super::cast::{Cast, Code, Event, Header, parse_size};

/// Output before the window replayed at once to draw the screen as it was: as much as a
/// terminal's scrollback keeps.
const SCREEN_BEFORE: usize = 256 * 1024;

/// Seconds since the Unix epoch of an event of `cast`.
fn at(cast: &Cast, event: &Event) -> f64 {
    cast.header.timestamp as f64 + event.time
}

pub fn segment(casts: &[Cast], from: f64, to: f64) -> Option<Cast> {
    let busy = |cast: &&Cast| cast.events.iter().filter(|e| e.code != Code::Marker && (from..=to).contains(&at(cast, e))).count();
    let cast = casts.iter().filter(|c| busy(c) > 0).max_by_key(busy)?;
    let (mut width, mut height) = (cast.header.width, cast.header.height);
    let mut screen = String::new();
    let mut events = Vec::new();
    for event in &cast.events {
        let t = at(cast, event);
        if t < from {
            match event.code {
                Code::Output => screen.push_str(&event.data),
                Code::Resize => {
                    if let Some((w, h)) = parse_size(&event.data) {
                        (width, height) = (w, h);
                    }
                }
                Code::Input | Code::Marker => {}
            }
        } else if t <= to {
            events.push(Event { time: t - from, code: event.code, data: event.data.clone() });
        }
    }
    if !screen.is_empty() {
        let mut cut = screen.len().saturating_sub(SCREEN_BEFORE);
        while !screen.is_char_boundary(cut) {
            cut += 1;
        }
        events.insert(0, Event { time: 0.0, code: Code::Output, data: screen[cut..].to_string() });
    }
    let header =
        Header { version: 2, width, height, timestamp: from as i64, title: cast.header.title.clone(), env: cast.header.env.clone() };
    Some(Cast { header, events })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cast(timestamp: i64, events: &[(f64, Code, &str)]) -> Cast {
        Cast {
            header: Header { version: 2, width: 80, height: 24, timestamp, title: None, env: None },
            events: events.iter().map(|&(time, code, data)| Event { time, code, data: data.into() }).collect(),
        }
    }

    #[test]
    fn the_step_starts_on_the_screen_it_had() {
        let busy = cast(
            1000,
            &[
                (1.0, Code::Output, "$ "),
                (2.0, Code::Resize, "100x30"),
                (5.0, Code::Input, "ip link\r"),
                (5.1, Code::Output, "1: lo\r\n$ "),
                (6.0, Code::Marker, "netns/veth: passed"),
                (9.0, Code::Output, "later"),
            ],
        );
        let quiet = cast(1000, &[(4.5, Code::Output, "other tab")]);
        let part = segment(&[quiet, busy], 1004.0, 1006.5).unwrap();
        assert_eq!((part.header.width, part.header.height, part.header.timestamp), (100, 30, 1004));
        let got: Vec<(f64, Code, &str)> = part.events.iter().map(|e| ((e.time * 10.0).round() / 10.0, e.code, e.data.as_str())).collect();
        assert_eq!(
            got,
            [
                (0.0, Code::Output, "$ "),
                (1.0, Code::Input, "ip link\r"),
                (1.1, Code::Output, "1: lo\r\n$ "),
                (2.0, Code::Marker, "netns/veth: passed")
            ]
        );
        assert!(Cast::parse(&part.to_text()).is_ok());
        assert!(segment(&[cast(1000, &[(1.0, Code::Output, "x")])], 1004.0, 1006.0).is_none());
    }
}
