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
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| vec![r.what.clone(), r.value.clone(), r.peer.clone(), r.peer_value.clone(), r.ratio.clone()])
            .collect();
        markdown(&["what", "stacklab", "peer", "peer value", "ratio"], &rows);
    }
}

/// Prints a Markdown table, its columns padded to their widest cell.
pub fn markdown(header: &[&str], rows: &[Vec<String>]) {
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |row: &mut dyn Iterator<Item = &str>| {
        let padded: Vec<String> = row.zip(&width).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("| {} |", padded.join(" | "));
    };
    line(&mut header.iter().copied());
    println!("|{}|", width.iter().map(|w| "-".repeat(w + 2)).collect::<Vec<_>>().join("|"));
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
}
