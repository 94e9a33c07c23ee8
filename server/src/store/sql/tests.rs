use super::*;

/// The stores every test runs on: SQLite in memory, and PostgreSQL when the suite started one
/// (`STACKLAB_TEST_POSTGRES`, a URL scripts/test sets), each in a database of its own.
async fn stores() -> Vec<SqlStore> {
    let mut stores = vec![SqlStore::memory().await.unwrap()];
    if let Some(url) = fresh_postgres().await {
        stores.push(SqlStore::open_url(&url).await.unwrap());
    }
    stores
}

/// A new, empty PostgreSQL database on the suite's server, as a URL.
async fn fresh_postgres() -> Option<String> {
    let Ok(base) = std::env::var("STACKLAB_TEST_POSTGRES") else {
        assert!(std::env::var("STACKLAB_REQUIRE_POSTGRES").is_err(), "STACKLAB_TEST_POSTGRES is not set (scripts/test starts PostgreSQL)");
        return None;
    };
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(&base).await.unwrap();
    let name = format!("stacklab_test_{:016x}", rand::random::<u64>());
    admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
    let (server, _) = base.rsplit_once('/').unwrap();
    Some(format!("{server}/{name}"))
}

#[tokio::test]
async fn classes_learners_and_sessions() {
    for store in stores().await {
        let class = store.create_class("Morning class", None, &ClassSettings::default()).await.unwrap();
        assert_eq!(store.class_by_code(&class.join_code.to_lowercase()).await.unwrap(), Some(class.clone()));
        let ada = store.create_learner(&class.id, "  Ada  ", None).await.unwrap();
        assert_eq!(ada.display_name, "Ada");
        assert!(store.create_learner(&class.id, "   ", None).await.is_err());
        assert_eq!(store.learner_by_resume_code(&ada.resume_code).await.unwrap().unwrap().id, ada.id);
        let token = store.create_session(Role::Learner, Some(&ada.id), Duration::from_secs(60)).await.unwrap();
        let session = store.session(&token).await.unwrap().unwrap();
        assert_eq!(session.learner_id.as_deref(), Some(ada.id.as_str()));
        assert!(store.session("forged").await.unwrap().is_none());
        store.delete_session(&token).await.unwrap();
        assert!(store.session(&token).await.unwrap().is_none());
        let expired = store.create_session(Role::Learner, Some(&ada.id), Duration::ZERO).await.unwrap();
        assert!(store.session(&expired).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn a_learners_preferences_are_kept_with_them() {
    for store in stores().await {
        let class = store.create_class("Morning class", None, &ClassSettings::default()).await.unwrap();
        let ada = store.create_learner(&class.id, "Ada", None).await.unwrap();
        assert_eq!(ada.preferences, Preferences::default());
        let mine = Preferences { screen_reader: true };
        store.set_preferences(&ada.id, &mine).await.unwrap();
        // Back with the resume code, in another browser: the same setting.
        assert_eq!(store.learner_by_resume_code(&ada.resume_code).await.unwrap().unwrap().preferences, mine);
        store.set_preferences(&ada.id, &Preferences::default()).await.unwrap();
        assert_eq!(store.learner(&ada.id).await.unwrap().unwrap().preferences, Preferences::default());
    }
}

#[tokio::test]
async fn progress_is_recorded() {
    for store in stores().await {
        let class = store.create_class("C", None, &ClassSettings::default()).await.unwrap();
        let ada = store.create_learner(&class.id, "Ada", None).await.unwrap();
        let s = store.start_step(&ada.id, "lab", "one").await.unwrap();
        assert!(!s.done && s.attempts == 0);
        let fail = CheckOutcome { passed: false, reason: "not yet".into(), took_ms: 5 };
        store.record_check(&ada.id, "lab", "one", &fail, CheckRun::AfterCommand).await.unwrap();
        let s = store.record_check(&ada.id, "lab", "one", &fail, CheckRun::AfterCommand).await.unwrap();
        assert_eq!((s.attempts, s.same_failures), (2, 2));
        // The background timer finding the same is not the learner trying again; nor is a check
        // after a command that only looked, nor one after the instructor's command.
        for run in [CheckRun::Timer, CheckRun::AfterLook, CheckRun::AfterHelp, CheckRun::AfterLook] {
            let s = store.record_check(&ada.id, "lab", "one", &fail, run).await.unwrap();
            assert_eq!((s.attempts, s.same_failures), (2, 2), "{run:?}");
        }
        let pass = CheckOutcome { passed: true, reason: "done".into(), took_ms: 5 };
        let s = store.record_check(&ada.id, "lab", "one", &pass, CheckRun::Asked).await.unwrap();
        assert!(s.done && s.done_at.is_some());
        // Done is for good, whatever later checks say.
        let s = store.record_check(&ada.id, "lab", "one", &fail, CheckRun::Timer).await.unwrap();
        assert!(s.done);
        assert_eq!(store.class_step_states(&class.id).await.unwrap().len(), 1);

        let first = store.answer_quiz(&ada.id, "q", &[0], false, 0).await.unwrap();
        let again = store.answer_quiz(&ada.id, "q", &[1], true, 1).await.unwrap();
        assert_eq!((first.points, again.points, again.attempts, again.choices.clone()), (0, 0, 2, vec![0]), "the first answer is graded");
        assert_eq!((first.latest, again.latest), (None, Some(vec![1])), "the latest is kept to show again");

        assert!(store.fire_hint_check(&ada.id, "lab", "one", 0).await.unwrap());
        assert!(!store.fire_hint_check(&ada.id, "lab", "one", 0).await.unwrap());
        for i in 0..5 {
            let c = CommandRecord { command: format!("echo {i}"), exit_status: 0, started_at: i, duration_ms: 1 };
            store.record_command(&ada.id, &c).await.unwrap();
        }
        let last: Vec<String> = store.commands(&ada.id, 2).await.unwrap().into_iter().map(|c| c.command).collect();
        assert_eq!(last, ["echo 3", "echo 4"]);
    }
}

#[tokio::test]
async fn file_database_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stacklab.db");
    let class = {
        let store = SqlStore::open(&path).await.unwrap();
        store.create_class("Kept", None, &ClassSettings::default()).await.unwrap()
    };
    let store = SqlStore::open(&path).await.unwrap();
    assert_eq!(store.classes().await.unwrap(), vec![class]);
}

#[tokio::test]
async fn class_settings_and_messages() {
    for store in stores().await {
        let settings = ClassSettings { labs: vec!["netns-veth".into()], sandbox_lifetime_minutes: Some(90), ..Default::default() };
        let class = store.create_class("Evening", Some("evening1"), &settings).await.unwrap();
        assert_eq!(class.join_code, "EVENING1");
        assert_eq!(store.class(&class.id).await.unwrap().unwrap().settings, settings);
        assert!(store.create_class("Other", Some("EVENING1"), &settings).await.is_err(), "join codes are unique");
        assert!(store.create_class("  ", None, &settings).await.is_err());
        let renamed = store.update_class(&class.id, "Evening (Tue)", &ClassSettings::default()).await.unwrap();
        assert_eq!((renamed.name.as_str(), renamed.settings.labs.len()), ("Evening (Tue)", 0));
        assert!(store.update_class("nope", "x", &ClassSettings::default()).await.is_err());

        let other = store.create_class("Other", None, &ClassSettings::default()).await.unwrap();
        let ada = store.create_learner(&class.id, "Ada", Some("spareid00001")).await.unwrap();
        assert_eq!(ada.id, "spareid00001");
        let bob = store.create_learner(&class.id, "Bob", None).await.unwrap();
        let eve = store.create_learner(&other.id, "Eve", None).await.unwrap();
        let staff = || Author::Staff(None);
        let all = store.send_message(&class.id, None, " Break until 10:30 ", staff()).await.unwrap();
        let to_ada = store.send_message(&class.id, Some(&ada.id), "Try --fork", staff()).await.unwrap();
        store.send_message(&other.id, None, "Other class", staff()).await.unwrap();
        assert!(store.send_message(&class.id, None, "  ", staff()).await.is_err());
        let bodies = |m: Vec<Message>| m.into_iter().map(|m| m.body).collect::<Vec<_>>();
        assert_eq!(bodies(store.messages_for(&ada.id, 0, 10).await.unwrap()), ["Break until 10:30", "Try --fork"]);
        assert_eq!(bodies(store.messages_for(&bob.id, 0, 10).await.unwrap()), ["Break until 10:30"]);
        assert_eq!(bodies(store.messages_for(&eve.id, 0, 10).await.unwrap()), ["Other class"]);
        assert_eq!(bodies(store.messages_for(&ada.id, all.id, 10).await.unwrap()), ["Try --fork"]);
        assert!(store.messages_for(&ada.id, to_ada.id, 10).await.unwrap().is_empty());

        store.answer_quiz(&ada.id, "q1", &[0], true, 2).await.unwrap();
        store.answer_quiz(&eve.id, "q1", &[0], true, 2).await.unwrap();
        let answers = store.class_quiz_answers(&class.id).await.unwrap();
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0].0, ada.id);

        store.create_session(Role::Learner, Some(&ada.id), Duration::ZERO).await.unwrap();
        store.create_session(Role::Learner, Some(&ada.id), Duration::from_secs(60)).await.unwrap();
        assert_eq!(store.purge_expired_sessions().await.unwrap(), 1);
    }
}

#[tokio::test]
async fn postgres_database_survives_reopen() {
    let Some(url) = fresh_postgres().await else { return };
    let class = {
        let store = SqlStore::open_url(&url).await.unwrap();
        assert_eq!(store.dialect(), Dialect::Postgres);
        store.create_class("Kept", None, &ClassSettings::default()).await.unwrap()
    };
    // Migrations run again at every open: a no-op on an up-to-date schema.
    let store = SqlStore::open_url(&url).await.unwrap();
    assert_eq!(store.classes().await.unwrap(), vec![class]);
}

#[tokio::test]
async fn a_bad_database_url_says_what_to_use() {
    let Err(e) = SqlStore::open_url("mysql://x").await else { panic!("mysql:// was taken") };
    assert!(e.to_string().contains("sqlite://PATH or postgres://"), "{e}");
    // Nothing listens on port 1: the error says so rather than that a pool timed out.
    let Err(e) = SqlStore::open_url("postgres://stacklab@127.0.0.1:1/stacklab").await else { panic!("port 1 answered") };
    assert!(e.to_string().to_lowercase().contains("refused"), "{e}");
}

#[tokio::test]
async fn the_command_log_keeps_a_bounded_tail() {
    for store in stores().await {
        let class = store.create_class("C", None, &ClassSettings::default()).await.unwrap();
        let flood = store.create_learner(&class.id, "Flood", None).await.unwrap();
        let calm = store.create_learner(&class.id, "Calm", None).await.unwrap();
        let c = |i: i64| CommandRecord { command: format!("echo {i}"), exit_status: 0, started_at: i, duration_ms: 1 };
        store.record_command(&calm.id, &c(-1)).await.unwrap();
        let total = COMMANDS_KEPT + 3 * PRUNE_EVERY;
        for i in 0..total {
            store.record_command(&flood.id, &c(i)).await.unwrap();
        }
        let kept = store.commands(&flood.id, i64::MAX).await.unwrap();
        assert!(kept.len() as i64 <= COMMANDS_KEPT + PRUNE_EVERY, "{} kept", kept.len());
        assert_eq!(kept.last().unwrap().command, format!("echo {}", total - 1), "the newest stay");
        assert_eq!(store.commands(&calm.id, 10).await.unwrap().len(), 1, "another learner's are untouched");
    }
}

/// A learner's rows of a log table.
async fn rows_of(store: &SqlStore, table: &str, learner_id: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE learner_id = $1"))
        .bind(learner_id)
        .fetch_one(&store.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn pressing_check_and_answering_in_a_loop_keeps_bounded_logs() {
    for store in stores().await {
        let class = store.create_class("C", None, &ClassSettings::default()).await.unwrap();
        let flood = store.create_learner(&class.id, "Flood", None).await.unwrap();
        let fail = CheckOutcome { passed: false, reason: "not yet".into(), took_ms: 1 };
        store.start_step(&flood.id, "lab", "one").await.unwrap();
        let total = HISTORY_KEPT + 2 * PRUNE_EVERY;
        for _ in 0..total {
            store.record_check(&flood.id, "lab", "one", &fail, CheckRun::Asked).await.unwrap();
            store.answer_quiz(&flood.id, "q1", &[1], false, 0).await.unwrap();
        }
        for table in ["check_results", "events"] {
            let n = rows_of(&store, table, &flood.id).await;
            assert!(n <= HISTORY_KEPT + PRUNE_EVERY, "{n} rows in {table}");
        }
        let state = store.step_state(&flood.id, "lab", "one").await.unwrap();
        assert_eq!(state.attempts, total, "the counts are kept in the step's state, not recounted from the log");
        assert_eq!(store.quiz_answers(&flood.id).await.unwrap()[0].attempts, total);
    }
}

#[tokio::test]
async fn hands_and_threads() {
    for store in stores().await {
        let class = store.create_class("C", None, &ClassSettings::default()).await.unwrap();
        let ada = store.create_learner(&class.id, "Ada", None).await.unwrap();
        let bob = store.create_learner(&class.id, "Bob", None).await.unwrap();
        let at = |note: &str| HelpContext {
            note: note.into(),
            lab_id: Some("netns-veth".into()),
            step_id: Some("veth".into()),
            reason: Some("no veth pair".into()),
        };
        let first = store.raise_hand(&class.id, &ada.id, &at(" stuck on veth ")).await.unwrap();
        assert_eq!((first.note.as_str(), first.reason.as_deref()), ("stuck on veth", Some("no veth pair")));
        let again = store.raise_hand(&class.id, &ada.id, &at("still stuck")).await.unwrap();
        assert_eq!((again.id, again.note.as_str()), (first.id, "still stuck"), "one open hand per learner");
        let bobs = store.raise_hand(&class.id, &bob.id, &HelpContext::default()).await.unwrap();
        assert!(
            store.raise_hand(&class.id, &bob.id, &HelpContext { note: "x".repeat(NOTE_CHARS + 1), ..Default::default() }).await.is_err()
        );
        let queue = store.help_queue(&class.id).await.unwrap();
        assert_eq!(queue.iter().map(|r| r.id).collect::<Vec<_>>(), [first.id, bobs.id], "oldest first");

        let claimed = store.change_help(first.id, HelpChange::Claim("Sam".into())).await.unwrap().unwrap();
        assert_eq!(claimed.claimed_by.as_deref(), Some("Sam"));
        let back = store.change_help(first.id, HelpChange::Return).await.unwrap().unwrap();
        assert_eq!(back.claimed_by, None);
        let done = store.change_help(first.id, HelpChange::Resolve).await.unwrap().unwrap();
        assert!(done.closed_at.is_some());
        assert_eq!(store.change_help(first.id, HelpChange::Lower).await.unwrap(), None, "a closed hand stays closed");
        assert_eq!(store.open_help(&ada.id).await.unwrap(), None);
        let raised_again = store.raise_hand(&class.id, &ada.id, &at("new question")).await.unwrap();
        assert_ne!(raised_again.id, first.id, "after it is down, a new hand");
        store.change_help(bobs.id, HelpChange::Lower).await.unwrap().unwrap();
        assert_eq!(store.help_queue(&class.id).await.unwrap().len(), 1);

        // The thread: staff to Ada and Ada to staff, not the class's messages nor Bob's.
        store.send_message(&class.id, None, "To everyone", Author::Staff(None)).await.unwrap();
        store.send_message(&class.id, Some(&ada.id), "Look at ip link", Author::Staff(Some("Sam".into()))).await.unwrap();
        let mine = store.send_message(&class.id, Some(&ada.id), "<b>thanks</b>", Author::Learner).await.unwrap();
        store.send_message(&class.id, Some(&bob.id), "Bob's", Author::Learner).await.unwrap();
        assert!(store.send_message(&class.id, None, "to nobody", Author::Learner).await.is_err(), "a learner writes to their thread only");
        let thread = store.thread(&ada.id, 10).await.unwrap();
        assert_eq!(thread.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["Look at ip link", "<b>thanks</b>"]);
        assert_eq!((thread[0].author.as_deref(), thread[0].from_learner), (Some("Sam"), false));
        assert_eq!(thread[1], mine);
    }
}

#[tokio::test]
async fn a_learner_flooding_hands_and_messages_keeps_bounded_rows() {
    for store in stores().await {
        let class = store.create_class("C", None, &ClassSettings::default()).await.unwrap();
        let flood = store.create_learner(&class.id, "Flood", None).await.unwrap();
        for i in 0..HANDS_KEPT + 2 * PRUNE_EVERY {
            let hand = store.raise_hand(&class.id, &flood.id, &HelpContext { note: format!("{i}"), ..Default::default() }).await.unwrap();
            store.change_help(hand.id, HelpChange::Lower).await.unwrap().unwrap();
        }
        let hands = rows_of(&store, "help_requests", &flood.id).await;
        assert!(hands <= HANDS_KEPT + PRUNE_EVERY, "{hands} hands kept");
        for i in 0..THREAD_KEPT + 2 * PRUNE_EVERY {
            store.send_message(&class.id, Some(&flood.id), &format!("{i}"), Author::Learner).await.unwrap();
        }
        let messages = rows_of(&store, "messages", &flood.id).await;
        assert!(messages <= THREAD_KEPT + PRUNE_EVERY, "{messages} messages kept");
        let newest = store.thread(&flood.id, 1).await.unwrap();
        assert_eq!(newest[0].body, format!("{}", THREAD_KEPT + 2 * PRUNE_EVERY - 1), "the newest stay");
    }
}

#[tokio::test]
async fn polls_and_their_answers() {
    for store in stores().await {
        let class = store.create_class("C", None, &ClassSettings::default()).await.unwrap();
        let ada = store.create_learner(&class.id, "Ada", None).await.unwrap();
        let bob = store.create_learner(&class.id, "Bob", None).await.unwrap();
        let view =
            |deck: &str| PollView { prompt_html: "Ready?".into(), choices: vec!["Yes".into(), "No".into()], ..PollView::empty(deck) };
        let first = store.launch_poll("deck-a", &view("deck-a")).await.unwrap();
        let other = store.launch_poll("deck-b", &view("deck-b")).await.unwrap();
        assert!(first.view.id > 0 && first.closed_at.is_none());
        let second = store.launch_poll("deck-a", &view("deck-a")).await.unwrap();
        assert!(store.poll(first.view.id).await.unwrap().unwrap().closed_at.is_some(), "one open poll per deck");
        let open: Vec<i64> = store.open_polls().await.unwrap().iter().map(|p| p.view.id).collect();
        assert_eq!(open, [second.view.id, other.view.id], "newest first");

        let yes = PollAnswer::Choices { choices: vec![0] };
        store.answer_poll(second.view.id, &ada.id, &yes).await.unwrap();
        store.answer_poll(second.view.id, &ada.id, &PollAnswer::Choices { choices: vec![1] }).await.unwrap();
        store.answer_poll(second.view.id, &bob.id, &yes).await.unwrap();
        store.answer_poll(other.view.id, &bob.id, &yes).await.unwrap();
        let mut answers = store.poll_answers(second.view.id).await.unwrap();
        answers.sort_by(|a, b| a.0.cmp(&b.0));
        let mut expected = vec![(ada.id.clone(), PollAnswer::Choices { choices: vec![1] }), (bob.id.clone(), yes.clone())];
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(answers, expected, "an answer replaces the learner's earlier one");

        let revealed = store.change_poll(second.view.id, PollChange::Reveal).await.unwrap().unwrap();
        assert!(revealed.view.revealed && revealed.closed_at.is_none());
        assert!(store.change_poll(second.view.id, PollChange::Close).await.unwrap().unwrap().closed_at.is_some());
        assert_eq!(store.change_poll(second.view.id, PollChange::Reveal).await.unwrap(), None, "a closed poll stays closed");

        let mut per_deck = store.polls_per_deck().await.unwrap();
        per_deck.sort();
        assert_eq!(per_deck, [("deck-a".to_string(), 2), ("deck-b".to_string(), 1)]);
        let all = store.polls_answered(&class.id, &[]).await.unwrap();
        assert_eq!(all.iter().find(|(l, _)| *l == bob.id).unwrap().1, 2);
        let only_a = store.polls_answered(&class.id, &["deck-a".to_string()]).await.unwrap();
        assert_eq!(only_a.iter().find(|(l, _)| *l == bob.id).unwrap().1, 1);
    }
}

#[tokio::test]
async fn one_time_codes_are_used_once() {
    for store in stores().await {
        let class = store.create_class("C", None, &ClassSettings::default()).await.unwrap();
        let codes = store.create_one_time_codes(&class.id, 5).await.unwrap();
        assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), 5);
        assert_eq!(store.redeem_one_time_code(&codes[0]).await.unwrap(), Some(class.id.clone()));
        assert!(store.redeem_one_time_code(&codes[0]).await.unwrap_err().to_string().contains("already used"));
        assert_eq!(store.redeem_one_time_code("ZZZZ-ZZZZ").await.unwrap(), None);
        let ada = store.create_learner(&class.id, "Ada", None).await.unwrap();
        store.one_time_code_used_by(&codes[0], &ada.id).await.unwrap();
        let listed = store.one_time_codes(&class.id).await.unwrap();
        assert_eq!(listed.iter().filter(|c| c.used_at.is_some()).count(), 1);
        assert_eq!(listed.iter().find(|c| c.code == codes[0]).unwrap().used_by.as_deref(), Some(ada.id.as_str()));
        assert!(store.create_one_time_codes(&class.id, 0).await.is_err());
        assert!(store.create_one_time_codes(&class.id, (ONE_TIME_CODES_PER_CLASS - 4) as u32).await.is_err(), "the class's bound");
    }
}

#[tokio::test]
async fn identities_keep_one_learner_per_class() {
    for store in stores().await {
        let ada = Vouched {
            issuer: "https://id.school.test".into(),
            subject: "u-1".into(),
            display_name: "Ada".into(),
            email: Some("ada@school.test".into()),
            staff: false,
        };
        let first = store.vouched(&ada).await.unwrap();
        // Signing in again brings what the provider says up to date, in the same row.
        let again = store.vouched(&Vouched { display_name: "Ada L.".into(), staff: true, ..ada.clone() }).await.unwrap();
        assert_eq!((again.id.as_str(), again.display_name.as_str(), again.staff), (first.id.as_str(), "Ada L.", true));
        // The same subject at another provider is someone else.
        let other = store.vouched(&Vouched { issuer: "https://other.test".into(), ..ada.clone() }).await.unwrap();
        assert_ne!(other.id, first.id);
        assert!(store.vouched(&Vouched { display_name: "\u{7}".into(), ..ada.clone() }).await.is_err());

        let morning = store.create_class("Morning", None, &ClassSettings::default()).await.unwrap();
        let evening = store.create_class("Evening", None, &ClassSettings::default()).await.unwrap();
        assert_eq!(store.identity_learner(&first.id, None).await.unwrap(), None);
        let in_morning = store.create_learner(&morning.id, "Ada", None).await.unwrap();
        store.link_identity(&in_morning.id, &first.id).await.unwrap();
        assert_eq!(store.identity_learner(&first.id, Some(&morning.id)).await.unwrap().unwrap().id, in_morning.id);
        assert_eq!(store.identity_learner(&first.id, Some(&evening.id)).await.unwrap(), None);
        // A second learner of the same identity in the same class is refused by the store.
        let twin = store.create_learner(&morning.id, "Ada", None).await.unwrap();
        assert!(store.link_identity(&twin.id, &first.id).await.is_err());
        let in_evening = store.create_learner(&evening.id, "Ada", None).await.unwrap();
        store.link_identity(&in_evening.id, &first.id).await.unwrap();

        // A session of theirs names them; signed in as a learner, it names the learner too.
        let token = store.create_identity_session(&first.id, Role::Learner, None, Duration::from_secs(60)).await.unwrap();
        let session = store.session(&token).await.unwrap().unwrap();
        assert_eq!((session.identity_id.as_deref(), session.learner_id), (Some(first.id.as_str()), None));
        let token = store.create_identity_session(&first.id, Role::Learner, Some(&in_morning.id), Duration::from_secs(60)).await.unwrap();
        assert_eq!(store.session(&token).await.unwrap().unwrap().learner_id.as_deref(), Some(in_morning.id.as_str()));
        // A sign-in without a class continues one of theirs (the last seen, to the second).
        let last = store.identity_learner(&first.id, None).await.unwrap().unwrap().id;
        assert!(last == in_morning.id || last == in_evening.id);
        assert_eq!(store.identity(&first.id).await.unwrap().unwrap().email.as_deref(), Some("ada@school.test"));
    }
}

#[tokio::test]
async fn staff_accounts_have_a_role_per_class() {
    for store in stores().await {
        let grace = store.create_staff_account("Grace", Some(" Grace "), Some("$argon2id$hash"), None).await.unwrap();
        assert_eq!(grace.login.as_deref(), Some("grace"));
        assert_eq!(store.staff_account_by_login("GRACE").await.unwrap().unwrap().id, grace.id);
        assert!(store.create_staff_account("Another Grace", Some("grace"), None, None).await.unwrap_err().to_string().contains("login"));
        let who = store
            .vouched(&Vouched { issuer: "i".into(), subject: "s".into(), display_name: "Alan".into(), email: None, staff: true })
            .await
            .unwrap();
        let alan = store.create_staff_account("Alan", None, None, Some(&who.id)).await.unwrap();
        assert_eq!(store.staff_account_of(&who.id).await.unwrap().unwrap().id, alan.id);

        let a = store.create_class("A", None, &ClassSettings::default()).await.unwrap();
        let b = store.create_class("B", None, &ClassSettings::default()).await.unwrap();
        store.set_class_role(&a.id, &grace.id, Some(ClassRole::Owner)).await.unwrap();
        store.set_class_role(&b.id, &grace.id, Some(ClassRole::Assistant)).await.unwrap();
        store.set_class_role(&a.id, &alan.id, Some(ClassRole::Assistant)).await.unwrap();
        // A second grant changes the role; it never makes a second row.
        store.set_class_role(&a.id, &alan.id, Some(ClassRole::Instructor)).await.unwrap();
        let mut roles = store.roles_of(&grace.id).await.unwrap();
        roles.sort();
        let mut expected = vec![(a.id.clone(), ClassRole::Owner), (b.id.clone(), ClassRole::Assistant)];
        expected.sort();
        assert_eq!(roles, expected);
        assert_eq!(store.class_staff(&a.id).await.unwrap().len(), 2);
        store.set_class_role(&a.id, &alan.id, None).await.unwrap();
        assert_eq!(store.roles_of(&alan.id).await.unwrap(), vec![]);

        let token = store.create_staff_session(&grace.id, None, Duration::from_secs(60)).await.unwrap();
        let session = store.session(&token).await.unwrap().unwrap();
        assert_eq!((session.role, session.staff_id.as_deref()), (Role::Staff, Some(grace.id.as_str())));
        assert_eq!(store.staff_accounts().await.unwrap().len(), 2);
    }
}

mod lti;
