//! Scores for the LMS's gradebook: a lab's points earned out of its points possible (its steps'
//! `points` and its quiz questions'), computed whenever a learner who came from an LMS passes a
//! step or answers a question, queued in the store's outbox, and sent to the link's line item
//! by `deliver` — again and again, with a growing delay, while the LMS is away. Nothing is lost
//! to a restart: the outbox is in the store, and a sweep at start queues whatever changed while
//! the server was down between a check and its score.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use labs::load::{Lab, Question};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::Lti;
use crate::store::lti::NewScore;
use crate::store::{QuizAnswer, StepState, StoreError};
use crate::updates::{Update, Updates};

/// A lab's score as the LMS is told it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabScore {
    pub earned: i64,
    pub possible: i64,
    /// AGS `activityProgress`: `Initialized`, `InProgress` or `Completed`.
    pub activity: &'static str,
    /// AGS `gradingProgress`. Always `FullyGraded`: each score is the checks' final word on the
    /// work done so far (Moodle and others show nothing for other values).
    pub grading: &'static str,
}

/// The score of `lab` for a learner with these step states and quiz answers: done steps'
/// points, and the points of the first answer to each of the lab's questions.
pub fn lab_score(lab: &Lab, questions: &BTreeMap<String, Question>, states: &[StepState], answers: &[QuizAnswer]) -> LabScore {
    let done = |step: &str| states.iter().any(|s| s.lab_id == lab.id && s.step_id == step && s.done);
    let lab_questions: Vec<&Question> = lab.steps.iter().flat_map(|s| s.quiz.iter()).filter_map(|q| questions.get(q)).collect();
    let answer = |q: &Question| answers.iter().find(|a| a.question_id == q.id);
    let possible =
        lab.steps.iter().map(|s| i64::from(s.points)).sum::<i64>() + lab_questions.iter().map(|q| i64::from(q.points)).sum::<i64>();
    let earned = lab.steps.iter().filter(|s| done(&s.id)).map(|s| i64::from(s.points)).sum::<i64>()
        + lab_questions.iter().filter_map(|q| answer(q)).map(|a| a.points.max(0)).sum::<i64>();
    let all_done = lab.steps.iter().all(|s| done(&s.id)) && lab_questions.iter().all(|q| answer(q).is_some());
    let begun = states.iter().any(|s| s.lab_id == lab.id) || lab_questions.iter().any(|q| answer(q).is_some());
    let activity = if all_done {
        "Completed"
    } else if begun {
        "InProgress"
    } else {
        "Initialized"
    };
    LabScore { earned, possible, activity, grading: "FullyGraded" }
}

/// The identity issuer of the people a platform launches (one per registration: two schools'
/// tenants of the same LMS may share an issuer, not their users).
pub fn issuer_of(platform_id: &str) -> String {
    format!("lti:{platform_id}")
}

impl Lti {
    /// Queues the learner's scores for every graded link of their class; true when one changed.
    pub async fn learner_changed(&self, course: &labs::load::Course, learner_id: &str) -> Result<bool, StoreError> {
        let store = self.store();
        let Some((issuer, user_id)) = store.lti_user(learner_id).await? else { return Ok(false) };
        let Some(platform_id) = issuer.strip_prefix("lti:") else { return Ok(false) };
        let Some(learner) = store.learner(learner_id).await? else { return Ok(false) };
        let links = store.lti_links_of_class(&learner.class_id).await?;
        let mut answers = None;
        let mut queued = false;
        for link in links.iter().filter(|l| l.platform_id == platform_id) {
            let (Some(lineitem), Some((_, lab))) = (&link.lineitem, course.lab(&link.lab_id)) else { continue };
            let states = store.step_states(learner_id, &lab.id).await?;
            if answers.is_none() {
                answers = Some(store.quiz_answers(learner_id).await?);
            }
            let score = lab_score(lab, &course.questions, &states, answers.as_deref().unwrap_or_default());
            queued |= store
                .queue_lti_score(&NewScore {
                    learner_id,
                    lineitem,
                    platform_id,
                    lab_id: &lab.id,
                    user_id: &user_id,
                    earned: score.earned,
                    possible: score.possible,
                    activity: score.activity,
                    grading: score.grading,
                })
                .await?;
        }
        if queued {
            self.wake.notify_one();
        }
        Ok(queued)
    }

    /// Queues every changed score of every class with graded links (at start, and when the
    /// updates went by too fast to follow one by one).
    pub async fn sweep(&self, course: &labs::load::Course) -> Result<(), StoreError> {
        for class in self.store().classes().await? {
            if self.store().lti_links_of_class(&class.id).await?.is_empty() {
                continue;
            }
            for learner in self.store().learners(&class.id).await? {
                self.learner_changed(course, &learner.id).await?;
            }
        }
        Ok(())
    }
}

/// Follows the updates: a passed step or an answered question may change a score.
pub async fn follow(lti: Arc<Lti>, course: Arc<labs::load::Course>, updates: Updates) {
    let mut rx = updates.subscribe();
    if let Err(e) = lti.sweep(&course).await {
        tracing::error!("LTI scores: the sweep at start failed: {e}");
    }
    loop {
        let learner = match rx.recv().await {
            Ok(Update::Step { learner, state }) if state.done => learner,
            Ok(Update::Quiz { learner, .. }) => learner,
            Ok(_) => continue,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "LTI scores fell behind the updates: sweeping");
                if let Err(e) = lti.sweep(&course).await {
                    tracing::error!("LTI scores: sweep: {e}");
                }
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        if let Err(e) = lti.learner_changed(&course, &learner).await {
            tracing::error!(learner = %learner, "LTI scores: {e}");
        }
    }
}

/// The wait before try number `failures + 1` of a score: 5 s, doubling, at most 5 minutes.
pub fn backoff(failures: i64) -> Duration {
    Duration::from_secs((5u64 << failures.clamp(0, 10)).min(300))
}

/// Scores sent per round (the rest wait for the next).
const BATCH: i64 = 50;

/// Sends the outbox's due scores, until `shutdown`.
pub async fn deliver(lti: Arc<Lti>, shutdown: CancellationToken) {
    loop {
        let sent_some = match lti.store().due_lti_scores(crate::store::now(), BATCH).await {
            Ok(due) => {
                for score in &due {
                    send_one(&lti, score).await;
                }
                !due.is_empty()
            }
            Err(e) => {
                tracing::error!("LTI scores: reading the outbox: {e}");
                false
            }
        };
        if sent_some {
            continue;
        }
        // Retries are due by the second; a new score wakes this at once.
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = lti.wake.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn send_one(lti: &Lti, score: &crate::store::lti::ScoreOut) {
    let store = lti.store();
    let platform = match store.lti_platform(&score.platform_id).await {
        Ok(Some(platform)) => platform,
        // A registration removed takes its scores with it (the store's cascade).
        Ok(None) => return,
        Err(e) => {
            tracing::error!("LTI scores: {e}");
            return;
        }
    };
    let outcome = lti.post_score(&platform, score).await;
    let stored = match &outcome {
        Ok(()) => {
            tracing::info!(learner = %score.learner_id, lab = %score.lab_id, earned = score.earned, possible = score.possible, "score sent to the LMS");
            store.lti_score_sent(&score.learner_id, &score.lineitem, score.version).await
        }
        Err(e) => {
            let next = crate::store::now() + backoff(score.attempts).as_secs() as i64;
            tracing::warn!(learner = %score.learner_id, lab = %score.lab_id, attempts = score.attempts + 1, "a score could not be sent: {e}");
            store.lti_score_failed(&score.learner_id, &score.lineitem, score.version, next, &e.to_string()).await
        }
    };
    if let Err(e) = stored {
        tracing::error!("LTI scores: {e}");
    }
}

#[cfg(test)]
mod tests;
