//! Reports over the store, checked against hand-computed figures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Fixture, complete_session};
use fieldconsult_core::SessionFilter;
use fieldconsult_model::report::{GroupBy, PriorityKey};
use fieldconsult_model::{AgeBand, Group, InterpreterSex, Priority, PriorityCategory, Sex};

#[test]
fn paired_comparison_of_a_visit_puts_women_and_men_side_by_side() {
    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    let mut women = complete_session(&visit, Group::Women);
    women.priorities.push(Priority {
        rank: 3,
        category: PriorityCategory::Other,
        other_label: "Mobile clinic".into(),
        note: String::new(),
    });
    let mut men = complete_session(&visit, Group::Men);
    men.priorities = vec![
        Priority {
            rank: 1,
            category: PriorityCategory::LivelihoodsAndWork,
            other_label: String::new(),
            note: String::new(),
        },
        Priority {
            rank: 2,
            category: PriorityCategory::Water,
            other_label: String::new(),
            note: String::new(),
        },
    ];
    men.concerns.clear();
    f.store.save_session(&f.alice(), &women).unwrap();
    f.store.save_session(&f.alice(), &men).unwrap();
    // Another visit's session must not leak into this visit's comparison.
    f.saved_session(Group::Men);

    let c = f
        .store
        .paired_comparison(&SessionFilter {
            visit_id: Some(visit.id),
            ..Default::default()
        })
        .unwrap();
    assert!(c.has_pair());
    assert_eq!(
        (c.women_sessions, c.men_sessions, c.mixed_sessions),
        (1, 1, 0)
    );
    let water = c
        .priorities
        .iter()
        .find(|r| r.key == PriorityKey::Category(PriorityCategory::Water))
        .unwrap();
    assert_eq!(water.women.unwrap().best_rank, 1);
    assert_eq!(water.men.unwrap().best_rank, 2);
    assert_eq!(
        c.priorities[0].key,
        PriorityKey::Category(PriorityCategory::Water),
        "5 + 4 points"
    );
    assert_eq!(
        c.only_women,
        vec![
            PriorityKey::Category(PriorityCategory::SafeMovement),
            PriorityKey::Other("mobile clinic".into())
        ]
    );
    assert_eq!(
        c.only_men,
        vec![PriorityKey::Category(PriorityCategory::LivelihoodsAndWork)]
    );
    let women_affected = c
        .concerns
        .iter()
        .find(|t| t.affected == fieldconsult_model::AffectedGroup::Women)
        .unwrap();
    assert_eq!(
        (women_affected.raised_by_women, women_affected.raised_by_men),
        (1, 0)
    );
}

#[test]
fn participation_table_disaggregates_by_sex_and_age_with_coverage() {
    let f = Fixture::new();
    let visit1 = f.visit_of(&f.team_a);
    let mut women = complete_session(&visit1, Group::Women); // F 18–29: 6, 30–59: 5, 60+: 2
    women.interpreter.sex = InterpreterSex::Female;
    women.interpreter.language = "Juba Arabic".into();
    f.store.save_session(&f.alice(), &women).unwrap();
    f.store
        .save_session(&f.alice(), &complete_session(&visit1, Group::Men))
        .unwrap(); // M 18–29: 4, 30–59: 7
    let visit2 = f.visit_of(&f.team_a);
    f.store
        .save_session(&f.alice(), &complete_session(&visit2, Group::Mixed))
        .unwrap(); // F3 M3 (30–59), U1 unknown

    let t = f
        .store
        .participation_table(&SessionFilter::default(), GroupBy::Team)
        .unwrap();
    assert_eq!(t.rows.len(), 1);
    assert_eq!(t.rows[0].0, f.team_a.id.to_string());
    let total = &t.total;
    assert_eq!(total.sessions, 3);
    assert_eq!(total.get(Sex::Female, AgeBand::Age18To29), 6);
    assert_eq!(total.get(Sex::Female, AgeBand::Age30To59), 8);
    assert_eq!(total.get(Sex::Female, AgeBand::Age60Plus), 2);
    assert_eq!(total.get(Sex::Male, AgeBand::Age18To29), 4);
    assert_eq!(total.get(Sex::Male, AgeBand::Age30To59), 10);
    assert_eq!(total.get(Sex::Undisclosed, AgeBand::Unknown), 1);
    assert_eq!(
        (
            total.total_of(Sex::Female),
            total.total_of(Sex::Male),
            total.total()
        ),
        (16, 14, 31)
    );
    assert_eq!(t.coverage.visits, 2);
    assert_eq!(t.coverage.visits_with_women_session, 1);
    assert_eq!(t.coverage.women_session_share(), Some(0.5));
    assert_eq!(t.coverage.sessions_with_woman_facilitator, 2);
    assert_eq!(
        (
            t.coverage.interpreters_female,
            t.coverage.interpreters_male,
            t.coverage.interpreters_none
        ),
        (1, 0, 2)
    );
}

/// Records progress and cancels after `cancel_after` callbacks.
struct Recorder {
    calls: std::sync::Mutex<Vec<(u64, u64)>>,
    cancel_after: usize,
}

impl fieldconsult_core::Progress for Recorder {
    fn on_progress(&self, done: u64, total: u64) {
        self.calls.lock().unwrap().push((done, total));
    }

    fn is_cancelled(&self) -> bool {
        self.calls.lock().unwrap().len() >= self.cancel_after
    }
}

#[test]
fn long_reports_report_progress_by_chunk_and_can_be_cancelled() {
    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    for i in 0..620 {
        let group = [Group::Women, Group::Men][i % 2];
        f.store
            .save_session(&f.alice(), &complete_session(&visit, group))
            .unwrap();
    }
    let all = SessionFilter::default();
    let recorder = Recorder {
        calls: Default::default(),
        cancel_after: usize::MAX,
    };
    let table = f
        .store
        .participation_table_with(&all, GroupBy::Overall, &recorder)
        .unwrap();
    assert_eq!(table.total.sessions, 620);
    assert_eq!(
        *recorder.calls.lock().unwrap(),
        vec![(500, 620), (620, 620)]
    );

    let cancelling = Recorder {
        calls: Default::default(),
        cancel_after: 1,
    };
    let err = f
        .store
        .paired_comparison_with(&all, &cancelling)
        .unwrap_err();
    assert!(
        matches!(err, fieldconsult_core::Error::Cancelled),
        "{err:?}"
    );
    assert_eq!(
        cancelling.calls.lock().unwrap().len(),
        1,
        "stopped after the first chunk"
    );
}

#[test]
fn device_monthly_report_counts_accepted_sessions_and_leaves_out_sensitive_notes() {
    use fieldconsult_model::Decision;
    use fieldconsult_model::report::{Month, ReportOptions, ReportScope};

    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    let mut women = complete_session(&visit, Group::Women);
    women.sensitive_note = "MARKER-device-report".into();
    let women = f.store.save_session(&f.alice(), &women).unwrap();
    f.store.submit_session(&f.alice(), &women.id).unwrap();
    f.store
        .record_review(&f.north_reviewer(), &women.id, Decision::Accepted, "")
        .unwrap();
    let men = f
        .store
        .save_session(&f.alice(), &complete_session(&visit, Group::Men))
        .unwrap();
    f.store.submit_session(&f.alice(), &men.id).unwrap();
    // A draft is never counted.
    f.saved_session(Group::Mixed);

    let month = Month::of(women.started_at.date_naive());
    let options = ReportOptions {
        min_cell: 0,
        top_priorities: 5,
    };
    let scope = ReportScope::Team {
        team_id: f.team_a.id,
    };
    let r = f.store.monthly_report(scope, month, options).unwrap();
    assert_eq!(r.scope_name, f.team_a.name);
    assert_eq!(r.sessions.len(), 1, "only the accepted women's session");
    assert_eq!(r.participation.total.total, Some(13));
    assert_eq!(
        (
            r.review.accepted.women,
            r.review.pending.men,
            r.review.pending.mixed
        ),
        (1, 1, 0)
    );
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("MARKER-device-report"));

    let other_team = ReportScope::Team {
        team_id: f.team_south.id,
    };
    let r = f.store.monthly_report(other_team, month, options).unwrap();
    assert!(r.sessions.is_empty());
}
