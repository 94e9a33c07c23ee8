//! Everything only the instructor may do. Every route here takes the `Instructor` extractor,
//! which refuses anyone else with a bare 403; [`PROTECTED`] lists them for the authorization
//! tests, which call each one as a stranger, a learner, and with forged and expired cookies.

pub mod assistants;
mod classes;
pub mod codes;
mod dashboard;
pub mod grades;
pub mod help;
mod login;
pub mod lti;
pub mod schedule;
pub mod staff;
mod watch;

use axum::routing::{get, post};

pub use crate::web::auth::InstructorAccess;
pub use classes::apply_terms;
pub use dashboard::dashboard;
pub use help::help;

use crate::web::AppState;

/// Every instructor-only route: method and path (`{class}`, `{learner}`, `{tab}`, `{deck}`,
/// `{poll}` are ids).
pub const PROTECTED: &[(&str, &str)] = &[
    ("GET", "/api/instructor/classes"),
    ("POST", "/api/instructor/classes"),
    ("POST", "/api/instructor/classes/{class}"),
    ("GET", "/api/instructor/classes/{class}/dashboard"),
    ("GET", "/api/instructor/classes/{class}/events"),
    ("GET", "/api/instructor/classes/{class}/grades.csv"),
    ("GET", "/api/instructor/classes/{class}/grades.json"),
    ("POST", "/api/instructor/help"),
    ("GET", "/api/instructor/classes/{class}/assistants"),
    ("POST", "/api/instructor/classes/{class}/assistants"),
    ("DELETE", "/api/instructor/assistants/{assistant}"),
    ("POST", "/api/instructor/classes/{class}/codes"),
    ("GET", "/api/instructor/classes/{class}/codes.csv"),
    // Staff accounts and their roles (staff.rs).
    ("GET", "/api/instructor/classes/{class}/staff"),
    ("POST", "/api/instructor/classes/{class}/staff"),
    ("POST", "/api/instructor/accounts"),
    // The LMS (lti.rs).
    ("GET", "/api/instructor/lti"),
    ("POST", "/api/instructor/lti/platforms"),
    ("DELETE", "/api/instructor/lti/platforms/{platform}"),
    ("POST", "/api/instructor/lti/keys"),
    ("GET", "/api/instructor/classes/{class}/lti"),
    ("POST", "/api/instructor/classes/{class}/lti/roster"),
    // Terminal recordings (web/recordings.rs).
    ("GET", "/api/instructor/learners/{learner}/recordings"),
    ("GET", "/api/instructor/learners/{learner}/recordings/{recording}"),
    ("GET", "/api/instructor/learners/{learner}/labs/{lab}/steps/{step}/replay"),
    ("GET", "/api/instructor/classes/{class}/recordings.zip"),
    // The presenter's polls (web/polls.rs).
    ("POST", "/api/decks/{deck}/polls"),
    ("GET", "/api/decks/{deck}/polls/events"),
    ("POST", "/api/polls/{poll}"),
    ("GET", "/metrics"),
    ("WS", "/ws/instructor/learners/{learner}/terminal/{tab}"),
    // A learner's web preview, opened from the dashboard (web/preview.rs).
    ("GET", "/instructor/learners/{learner}/preview/8080/"),
    ("GET", "/instructor/learners/{learner}/preview/8080/some/page"),
];

/// The routes of [`PROTECTED`] a teaching assistant may use, for their own class: the class live
/// (the help queue with it), helping (only claim, return, resolve and a message to one learner:
/// `help::help` refuses the rest), watching a terminal (never taking it over) and replaying a
/// learner's recordings (not the class's zip).
pub const FOR_ASSISTANTS: &[&str] = &[
    "/api/instructor/classes/{class}/dashboard",
    "/api/instructor/classes/{class}/events",
    "/api/instructor/help",
    "/ws/instructor/learners/{learner}/terminal/{tab}",
    "/api/instructor/learners/{learner}/recordings",
    "/api/instructor/learners/{learner}/recordings/{recording}",
    "/api/instructor/learners/{learner}/labs/{lab}/steps/{step}/replay",
];

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .merge(login::router())
        .route("/api/instructor/classes", get(classes::list_route).post(classes::create_route))
        .route("/api/instructor/classes/{class}", post(classes::update_route))
        .route("/api/instructor/classes/{class}/dashboard", get(dashboard::snapshot_route))
        .route("/api/instructor/classes/{class}/events", get(dashboard::events_route))
        .route("/api/instructor/classes/{class}/grades.csv", get(grades::csv_route))
        .route("/api/instructor/classes/{class}/grades.json", get(grades::json_route))
        .route("/api/instructor/help", post(help::help_route))
        .route("/api/instructor/classes/{class}/assistants", get(assistants::list_route).post(assistants::add_route))
        .route("/api/instructor/assistants/{assistant}", axum::routing::delete(assistants::remove_route))
        .route("/api/instructor/classes/{class}/codes", post(codes::make_route))
        .route("/api/instructor/classes/{class}/codes.csv", get(codes::csv_route))
        .route("/api/instructor/classes/{class}/staff", get(staff::list_route).post(staff::set_role_route))
        .route("/api/instructor/accounts", post(staff::make_route))
        .route("/api/instructor/lti", get(lti::setup_route))
        .route("/api/instructor/lti/platforms", post(lti::save_route))
        .route("/api/instructor/lti/platforms/{platform}", axum::routing::delete(lti::remove_route))
        .route("/api/instructor/lti/keys", post(lti::rotate_route))
        .route("/api/instructor/classes/{class}/lti", get(lti::class_route))
        .route("/api/instructor/classes/{class}/lti/roster", post(lti::roster_route))
        .route("/staff/login", get(assistants::login_route))
        .route("/metrics", get(metrics_route))
        .route("/ws/instructor/learners/{learner}/terminal/{tab}", get(watch::watch_route))
}

pub use classes::{create as create_class, list as list_classes, update as update_class};

/// A JSON body read only after the caller's rights were checked (a body that does not parse must
/// not tell someone without them more than the 403 would).
pub type LaterJson<T> = Result<axum::Json<T>, axum::extract::rejection::JsonRejection>;

/// The body of a [`LaterJson`], or what is wrong with it.
pub fn body<T>(json: LaterJson<T>) -> Result<T, crate::web::error::ApiError> {
    json.map(|axum::Json(body)| body).map_err(|e| crate::web::error::ApiError::BadRequest(e.body_text()))
}

/// `Ok` when the member of staff may; the bare refusal (403) otherwise.
pub fn allowed(may: bool) -> Result<(), crate::web::error::ApiError> {
    if may { Ok(()) } else { Err(crate::web::error::ApiError::Forbidden) }
}

/// Prometheus' scrape: the instructor's bearer token (`authorization: Bearer <token>` in the
/// scrape config) or session, like every instructor route.
async fn metrics_route(
    axum::extract::State(state): axum::extract::State<AppState>,
    _: crate::web::auth::Instructor,
) -> impl axum::response::IntoResponse {
    if let Some(sandboxes) = &state.sandboxes {
        let (running, spares) = sandboxes.counts();
        let m = &crate::metrics::METRICS;
        m.sandboxes.get_or_create(&crate::metrics::SandboxLabels { state: "running" }).set(running as i64);
        m.sandboxes.get_or_create(&crate::metrics::SandboxLabels { state: "spare" }).set(spares as i64);
        // Learners waiting for one (the class is full): not a sandbox yet, but what to watch.
        m.sandboxes.get_or_create(&crate::metrics::SandboxLabels { state: "queued" }).set(sandboxes.queued() as i64);
    }
    if let Some(terminals) = &state.terminals {
        crate::metrics::METRICS.scrollback.set(terminals.scrollback_bytes() as i64);
    }
    ([(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], crate::metrics::METRICS.render())
}
