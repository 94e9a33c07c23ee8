//! The one table every bench adds rows to: a figure, its peer measured in the same run, and
//! the ratio between them. Printed as Markdown so it can go into docs/src/benchmarks.md as is.

#[derive(Default)]
pub struct Table {
    rows: Vec<Row>,
}

pub struct Row {
    pub what: String,
    pub value: String,
    pub peer: String,
    pub peer_value: String,
    pub ratio: String,
}

impl Table {
    pub fn add(&mut self, what: &str, value: String, peer: &str, peer_value: String, ratio: f64) {
        let ratio = if ratio.is_finite() { format!("{ratio:.2}x") } else { "-".into() };
        self.rows.push(Row { what: what.into(), value, peer: peer.into(), peer_value, ratio });
        // Progress for long runs: each row as soon as it is measured.
        eprintln!("  measured: {what}");
    }

    pub fn print(&self) {
        let header = ["what", "stacklab", "peer", "peer value", "ratio"];
        let cells: Vec<[&str; 5]> = self.rows.iter().map(|r| [&*r.what, &*r.value, &*r.peer, &*r.peer_value, &*r.ratio]).collect();
        let mut width = header.map(str::len);
        for row in &cells {
            for (w, c) in width.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |row: [&str; 5]| {
            let padded: Vec<String> = row.iter().zip(width).map(|(c, w)| format!("{c:<w$}")).collect();
            println!("| {} |", padded.join(" | "));
        };
        line(header);
        println!("|{}|", width.map(|w| "-".repeat(w + 2)).join("|"));
        for row in cells {
            line(row);
        }
    }
}
