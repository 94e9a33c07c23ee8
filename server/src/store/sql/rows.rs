//! Rows to values.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::super::*;

pub fn class_from(row: &AnyRow) -> Class {
    Class {
        id: row.get("id"),
        name: row.get("name"),
        join_code: row.get("join_code"),
        created_at: row.get("created_at"),
        // Written by us from the same type; an unreadable value falls back to "everything".
        settings: serde_json::from_str(&row.get::<String, _>("settings")).unwrap_or_default(),
    }
}

pub fn message_from(row: &AnyRow) -> Message {
    Message {
        id: row.get("id"),
        class_id: row.get("class_id"),
        learner_id: row.get("learner_id"),
        body: row.get("body"),
        at: row.get("at"),
        from_learner: row.get::<i64, _>("from_learner") != 0,
        author: row.get("author"),
    }
}

pub fn assistant_from(row: &AnyRow) -> Assistant {
    Assistant { id: row.get("id"), class_id: row.get("class_id"), name: row.get("name"), created_at: row.get("created_at") }
}

pub fn poll_from(row: &AnyRow) -> Poll {
    // Written by us from the same type; unreadable, it is an empty poll of its deck.
    let mut view: PollView =
        serde_json::from_str(&row.get::<String, _>("view")).unwrap_or_else(|_| PollView::empty(&row.get::<String, _>("deck_id")));
    view.id = row.get("id");
    view.revealed = row.get::<Option<i64>, _>("revealed_at").is_some();
    Poll { view, launched_at: row.get("launched_at"), closed_at: row.get("closed_at") }
}

pub fn help_request_from(row: &AnyRow) -> HelpRequest {
    HelpRequest {
        id: row.get("id"),
        class_id: row.get("class_id"),
        learner_id: row.get("learner_id"),
        note: row.get("note"),
        lab_id: row.get("lab_id"),
        step_id: row.get("step_id"),
        reason: row.get("reason"),
        raised_at: row.get("raised_at"),
        claimed_by: row.get("claimed_by"),
        claimed_at: row.get("claimed_at"),
        closed_at: row.get("closed_at"),
    }
}

pub fn learner_from(row: &AnyRow) -> Learner {
    Learner {
        id: row.get("id"),
        class_id: row.get("class_id"),
        display_name: row.get("display_name"),
        resume_code: row.get("resume_code"),
        created_at: row.get("created_at"),
        last_seen: row.get("last_seen"),
        preferences: Preferences::from_json(&row.get::<String, _>("preferences")),
    }
}

pub fn identity_from(row: &AnyRow) -> Identity {
    Identity {
        id: row.get("id"),
        issuer: row.get("issuer"),
        subject: row.get("subject"),
        display_name: row.get("display_name"),
        email: row.get("email"),
        staff: row.get::<i64, _>("staff") != 0,
        created_at: row.get("created_at"),
        last_seen: row.get("last_seen"),
    }
}

pub fn staff_account_from(row: &AnyRow) -> StaffAccount {
    StaffAccount {
        id: row.get("id"),
        name: row.get("name"),
        login: row.get("login"),
        password_hash: row.get("password_hash"),
        identity_id: row.get("identity_id"),
        created_at: row.get("created_at"),
    }
}

pub fn class_role_from(row: &AnyRow) -> (String, ClassRole) {
    (row.get("id"), ClassRole::parse(&row.get::<String, _>("role")).unwrap_or(ClassRole::Assistant))
}

pub fn quiz_answer_from(row: &AnyRow) -> QuizAnswer {
    QuizAnswer {
        question_id: row.get("question_id"),
        choices: serde_json::from_str(&row.get::<String, _>("choices")).unwrap_or_default(),
        latest: row.get::<Option<String>, _>("latest").and_then(|l| serde_json::from_str(&l).ok()),
        correct: row.get::<i64, _>("correct") != 0,
        points: row.get("points"),
        attempts: row.get("attempts"),
    }
}

pub fn step_state_from(row: &AnyRow) -> StepState {
    StepState {
        lab_id: row.get("lab_id"),
        step_id: row.get("step_id"),
        done: row.get::<String, _>("state") == "done",
        started_at: row.get("started_at"),
        done_at: row.get("done_at"),
        attempts: row.get("attempts"),
        failures: row.get("failures"),
        same_failures: row.get("same_failures"),
        last_check_at: row.get("last_check_at"),
        last_passed: row.get::<Option<i64>, _>("last_passed").map(|v| v != 0),
        last_reason: row.get("last_reason"),
        hints_revealed: row.get("hints_revealed"),
        solution_shown: row.get::<i64, _>("solution_shown") != 0,
    }
}
