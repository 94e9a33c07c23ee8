//! Grades: points per step (when done) and per quiz (the first answer), with totals — as CSV
//! for a spreadsheet (one row per learner) and as JSON for scripts. Same numbers as the
//! dashboard: both come from `Dashboard::grades`.

use app::class::Grades;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::dashboard::dashboard;
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::ApiError;

/// The CSV a spreadsheet opens as it should: UTF-8 with a byte-order mark (Excel otherwise
/// guesses a legacy code page and mangles accented names), CRLF line ends, every field quoted
/// where needed, and cells that a spreadsheet would run as a formula defused.
pub fn spreadsheet(header: &[String], rows: impl IntoIterator<Item = Vec<String>>) -> Vec<u8> {
    let mut out = Vec::from(*b"\xEF\xBB\xBF");
    {
        let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(&mut out);
        let _ = writer.write_record(header.iter().map(|h| defuse(h)));
        for row in rows {
            let _ = writer.write_record(row.iter().map(|cell| defuse(cell)));
        }
        let _ = writer.flush();
    }
    out
}

/// A CSV file to save as `name`.
pub fn csv_download(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

pub fn csv(grades: &Grades) -> Vec<u8> {
    let mut header = vec!["Learner".to_string(), "Learner id".to_string()];
    header.extend(grades.columns.iter().map(|c| format!("{} ({} pt)", c.title, c.max)));
    header.push(format!("Total ({} pt)", grades.max_total));
    header.push(format!("Polls answered (of {})", grades.polls));
    header.extend(grades.work.iter().cloned());
    let rows = grades.rows.iter().map(|row| {
        let mut record = vec![row.name.clone(), row.learner_id.clone()];
        record.extend(row.points.iter().map(u32::to_string));
        record.push(row.total.to_string());
        record.push(row.polls_answered.to_string());
        record.extend(row.work.iter().map(i64::to_string));
        record
    });
    spreadsheet(&header, rows)
}

/// `=HYPERLINK(...)` typed as a display name must stay text in the instructor's spreadsheet.
pub fn defuse(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() }
}

/// Letters, digits and dashes of `text` for a file or folder name (`empty` when none are left).
pub fn slug(text: &str, empty: &str) -> String {
    let slug: String = text.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let slug = slug.split('-').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("-");
    if slug.is_empty() { empty.to_string() } else { slug }
}

/// A file name from the class name.
fn file_name(class: &str) -> String {
    format!("grades-{}.csv", slug(class, "class"))
}

/// The class's grades with each lab's effort (the commands from the command log).
async fn grades(state: &AppState, class: &str) -> Result<Grades, ApiError> {
    let dash = dashboard(state, class).await?;
    let mut commands = std::collections::BTreeMap::new();
    for row in &dash.learners {
        let ran = state.store.commands(&row.id, crate::store::COMMANDS_KEPT).await?;
        commands.insert(row.id.clone(), ran.iter().map(|c| c.started_at).collect());
    }
    Ok(dash.grades_with(&commands))
}

pub async fn csv_route(State(state): State<AppState>, Staff(who): Staff, Path(class): Path<String>) -> Result<Response, ApiError> {
    super::allowed(who.may_run(&class))?;
    let grades = grades(&state, &class).await?;
    Ok(csv_download(&file_name(&grades.class), csv(&grades)))
}

pub async fn json_route(State(state): State<AppState>, Staff(who): Staff, Path(class): Path<String>) -> Result<Json<Grades>, ApiError> {
    super::allowed(who.may_run(&class))?;
    Ok(Json(grades(&state, &class).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::class::{GradeColumn, GradeRow};

    #[test]
    fn spreadsheet_safe() {
        let grades = Grades {
            class: "Tue, 9:00".into(),
            columns: vec![GradeColumn { key: "l/a".into(), title: "Lab: \"A\", first".into(), max: 2 }],
            rows: vec![
                GradeRow {
                    learner_id: "id1".into(),
                    name: "Zoë".into(),
                    points: vec![2],
                    total: 2,
                    polls_answered: 1,
                    work: vec![12, 3, 40],
                },
                GradeRow {
                    learner_id: "id2".into(),
                    name: "=HYPERLINK(\"x\")".into(),
                    points: vec![0],
                    total: 0,
                    polls_answered: 0,
                    work: vec![0, 0, 0],
                },
            ],
            max_total: 2,
            polls: 1,
            work: vec!["Lab: minutes".into(), "Lab: failed checks".into(), "Lab: commands".into()],
        };
        let text = String::from_utf8(csv(&grades)).unwrap();
        assert!(text.starts_with('\u{feff}'));
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').split("\r\n").collect();
        assert_eq!(
            lines[0],
            "Learner,Learner id,\"Lab: \"\"A\"\", first (2 pt)\",Total (2 pt),Polls answered (of 1),Lab: minutes,Lab: failed checks,Lab: commands"
        );
        assert_eq!(lines[1], "Zoë,id1,2,2,1,12,3,40");
        assert_eq!(lines[2], "\"'=HYPERLINK(\"\"x\"\")\",id2,0,0,0,0,0,0");
        assert_eq!(file_name("Tue, 9:00"), "grades-tue-9-00.csv");
    }
}
