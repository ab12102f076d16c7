//! The monthly gender report against answers worked out by hand from the fixture of
//! `fieldconsult_model::fixtures` (its module doc describes the month), and its properties:
//! women and men are treated symmetrically, nothing raised is lost, suppression hides what
//! it must, and no sensitive text enters it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldconsult_model::fixtures::{Fixture, SENSITIVE_MARKER, october_2026};
use fieldconsult_model::report::monthly::{ByGroup, CommunityRef};
use fieldconsult_model::report::{
    MonthlyReport, PriorityKey, ReportOptions, ReportScope, SexAgeCells,
};
use fieldconsult_model::{AffectedGroup, ConcernCategory, Group, PriorityCategory, Session};

fn no_suppression() -> ReportOptions {
    ReportOptions {
        min_cell: 0,
        top_priorities: 5,
    }
}

fn mission(f: &Fixture, options: ReportOptions) -> MonthlyReport {
    MonthlyReport::compute(ReportScope::Mission, Fixture::month(), f.data(), options)
}

fn cells(female: [u64; 5], male: [u64; 5], undisclosed: [u64; 5]) -> SexAgeCells {
    let sum = |a: [u64; 5]| a.iter().sum::<u64>();
    let bands: [u64; 5] = std::array::from_fn(|i| female[i] + male[i] + undisclosed[i]);
    SexAgeCells {
        female: female.map(Some),
        male: male.map(Some),
        undisclosed: undisclosed.map(Some),
        sex_totals: [sum(female), sum(male), sum(undisclosed)].map(Some),
        band_totals: bands.map(Some),
        total: Some(sum(bands)),
    }
}

fn cat(c: PriorityCategory) -> PriorityKey {
    PriorityKey::Category(c)
}

fn by(women: u32, men: u32, mixed: u32) -> ByGroup {
    ByGroup { women, men, mixed }
}

#[test]
fn mission_participation_matches_the_hand_count() {
    let f = october_2026();
    let r = mission(&f, no_suppression());
    // S1 + S3 + S4 women, S2 + S3 + S6 men, S3's one undisclosed; S5 is pending, S7
    // returned, S8 in September, S9 in November (local), S10 a draft.
    assert_eq!(
        r.participation.total,
        cells([3, 14, 20, 3, 0], [3, 12, 23, 2, 1], [0, 0, 0, 0, 1])
    );
    assert_eq!(r.participation.total.total, Some(82));
    let teams: Vec<(&str, u32, Option<u64>)> = r
        .participation
        .by_team
        .iter()
        .map(|t| (t.team.as_str(), t.sessions, t.participants.total))
        .collect();
    assert_eq!(
        teams,
        [
            ("Alpha", 3, Some(52)),
            ("Bravo", 1, Some(13)),
            ("Charlie", 1, Some(17))
        ]
    );
}

#[test]
fn a_session_belongs_to_the_month_of_its_local_date() {
    let f = october_2026();
    let r = mission(&f, no_suppression());
    let ids: Vec<_> = r.sessions.iter().map(|s| s.id).collect();
    // S6 started on 31 October local time (1 November in UTC): October. S9 started on
    // 1 November local time (31 October in UTC): not October.
    let expected: Vec<_> = [1, 2, 3, 4, 6].iter().map(|n| f.session(*n).id).collect();
    assert_eq!(ids, expected);
    assert_eq!(r.sessions[4].date.to_string(), "2026-10-31");
}

#[test]
fn coverage_matches_the_hand_count() {
    let f = october_2026();
    let r = mission(&f, no_suppression());
    let c = &r.coverage.sessions;
    assert_eq!((c.visits, c.visits_with_women_session), (4, 2));
    assert_eq!((c.sessions, c.sessions_with_woman_facilitator), (5, 3));
    assert_eq!(
        (
            c.interpreters_none,
            c.interpreters_female,
            c.interpreters_male
        ),
        (2, 2, 1)
    );
    let names = |list: &[CommunityRef]| list.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&r.coverage.communities),
        ["Kalma", "Mbomou", "Zam Zam", "الحصاحيصا"]
    );
    // Zam Zam's only women's session was returned, not accepted; الحصاحيصا had only a mixed
    // one. Kalma's women were heard in October (and September).
    assert_eq!(
        names(&r.coverage.never_consulted_with_women),
        ["Zam Zam", "الحصاحيصا"]
    );
    assert_eq!(names(&r.coverage.only_mixed), ["الحصاحيصا"]);
}

#[test]
fn earlier_months_count_towards_women_ever_consulted() {
    let mut f = october_2026();
    // Without October's S1, Kalma's women were heard only in September (S8): still not
    // "never consulted with women".
    f.sessions.retain(|s| s.id != october_2026().session(1).id);
    let r = mission(&f, no_suppression());
    let never: Vec<_> = r
        .coverage
        .never_consulted_with_women
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert!(!never.contains(&"Kalma"), "{never:?}");
}

#[test]
fn priorities_side_by_side_match_the_hand_ranking() {
    let f = october_2026();
    let r = mission(&f, no_suppression());
    let p = &r.priorities;
    let ranking = |list: &[fieldconsult_model::report::monthly::RankedPriority]| {
        list.iter()
            .map(|r| (r.place, r.key.clone(), r.stat.score, r.stat.sessions))
            .collect::<Vec<_>>()
    };
    let other = PriorityKey::Other("mobile clinic".to_owned());
    // Borda: rank 1 scores 5 … rank 5 scores 1. Water: S1 rank 1 + S4 rank 2 = 9; safe
    // movement: S1 rank 2 + S4 rank 1 = 9 (tie broken by key); health and the mobile
    // clinic 3 each; fuel 2.
    assert_eq!(
        ranking(&p.women),
        [
            (1, cat(PriorityCategory::Water), 9, 2),
            (2, cat(PriorityCategory::SafeMovement), 9, 2),
            (3, cat(PriorityCategory::Health), 3, 1),
            (4, other.clone(), 3, 1),
            (5, cat(PriorityCategory::FuelAndFirewood), 2, 1),
        ]
    );
    assert_eq!(
        ranking(&p.men),
        [
            (1, cat(PriorityCategory::SecurityAndProtection), 9, 2),
            (2, cat(PriorityCategory::LivelihoodsAndWork), 8, 2),
            (3, cat(PriorityCategory::Water), 4, 1),
            (4, cat(PriorityCategory::Justice), 3, 1),
            (5, cat(PriorityCategory::ReturnAndLand), 2, 1),
        ]
    );
    assert_eq!(
        ranking(&p.mixed),
        [
            (1, cat(PriorityCategory::Water), 5, 1),
            (2, cat(PriorityCategory::Health), 4, 1)
        ]
    );
    assert_eq!(
        p.only_women,
        [
            cat(PriorityCategory::SafeMovement),
            cat(PriorityCategory::Health),
            other,
            cat(PriorityCategory::FuelAndFirewood),
            cat(PriorityCategory::Schools),
        ]
    );
    assert_eq!(
        p.only_men,
        [
            cat(PriorityCategory::SecurityAndProtection),
            cat(PriorityCategory::LivelihoodsAndWork),
            cat(PriorityCategory::Justice),
            cat(PriorityCategory::ReturnAndLand),
        ]
    );
}

#[test]
fn concerns_match_the_hand_count() {
    let f = october_2026();
    let r = mission(&f, no_suppression());
    let row = |a: AffectedGroup| {
        let row = r
            .concerns_by_affected
            .iter()
            .find(|c| c.affected == a)
            .unwrap();
        (row.raised, row.by_urgency)
    };
    // [routine, priority, urgent]
    assert_eq!(row(AffectedGroup::Women), (by(3, 0, 1), [1, 1, 2]));
    assert_eq!(row(AffectedGroup::Girls), (by(2, 0, 0), [0, 0, 2]));
    assert_eq!(row(AffectedGroup::Men), (by(0, 1, 1), [1, 1, 0]));
    assert_eq!(row(AffectedGroup::Boys), (by(0, 2, 0), [0, 1, 1]));
    assert_eq!(row(AffectedGroup::Elderly), (by(0, 0, 0), [0, 0, 0]));
    let category = |c: ConcernCategory| {
        let row = r
            .concerns_by_category
            .iter()
            .find(|r| r.category == c)
            .unwrap();
        (row.raised, row.urgent)
    };
    assert_eq!(
        category(ConcernCategory::ArmedGroupPresence),
        (by(1, 1, 0), 1)
    );
    assert_eq!(
        category(ConcernCategory::SexualViolenceRisk),
        (by(1, 0, 0), 1)
    );
    assert_eq!(
        category(ConcernCategory::ChildRecruitment),
        (by(0, 1, 0), 1)
    );
    assert_eq!(
        category(ConcernCategory::LandOrResourceDispute),
        (by(0, 0, 1), 0)
    );
    assert_eq!(category(ConcernCategory::Abduction), (by(0, 0, 0), 0));
}

#[test]
fn referrals_and_review_state_match_the_hand_count() {
    let f = october_2026();
    let r = mission(&f, no_suppression());
    assert_eq!(r.referrals_offered, by(2, 0, 0));
    assert_eq!(r.review.accepted, by(2, 2, 1));
    assert_eq!(r.review.pending, by(0, 1, 0), "S5");
    assert_eq!(r.review.returned, by(1, 0, 0), "S7");
}

#[test]
fn sector_and_team_reports_cover_only_their_teams() {
    let f = october_2026();
    let west = MonthlyReport::compute(
        ReportScope::Sector {
            sector: "West".to_owned(),
        },
        Fixture::month(),
        f.data(),
        no_suppression(),
    );
    assert_eq!(west.scope_name, "West");
    assert_eq!(west.sessions.len(), 4, "S1 to S4");
    assert_eq!(west.participation.total.total, Some(65));
    assert_eq!(west.review.pending, by(0, 1, 0));
    assert_eq!(
        west.review.returned,
        by(0, 0, 0),
        "S7 is Charlie's, in the East"
    );

    let alpha = MonthlyReport::compute(
        ReportScope::Team {
            team_id: f.team("Alpha").id,
        },
        Fixture::month(),
        f.data(),
        no_suppression(),
    );
    assert_eq!(alpha.scope_name, "Alpha");
    assert_eq!(
        alpha.participation.total,
        cells([2, 9, 13, 3, 0], [0, 6, 15, 2, 1], [0, 0, 0, 0, 1])
    );
    assert_eq!(alpha.coverage.sessions.visits, 2);

    let east_of_nobody = MonthlyReport::compute(
        ReportScope::Sector {
            sector: "North".to_owned(),
        },
        Fixture::month(),
        f.data(),
        no_suppression(),
    );
    assert!(east_of_nobody.sessions.is_empty());
    assert_eq!(east_of_nobody.participation.total.total, Some(0));
}

#[test]
fn every_figure_is_a_sum_over_the_sessions_behind_it() {
    let f = october_2026();
    let r = mission(&f, no_suppression());
    let behind: Vec<&Session> = r
        .sessions
        .iter()
        .map(|line| f.sessions.iter().find(|s| s.id == line.id).unwrap())
        .collect();
    let participants: u64 = behind.iter().map(|s| s.participants.total()).sum();
    assert_eq!(r.participation.total.total, Some(participants));
    let line_total: u64 = r.sessions.iter().filter_map(|l| l.participants.total).sum();
    assert_eq!(line_total, participants);
    let referrals = r.sessions.iter().filter(|l| l.referral_offered).count();
    assert_eq!(r.referrals_offered.total() as usize, referrals);
    let urgent = r
        .sessions
        .iter()
        .flat_map(|l| &l.concerns)
        .filter(|c| c.category == ConcernCategory::ArmedGroupPresence)
        .count();
    let row = r
        .concerns_by_category
        .iter()
        .find(|c| c.category == ConcernCategory::ArmedGroupPresence)
        .unwrap();
    assert_eq!(row.raised.total() as usize, urgent);
    for team in &r.participation.by_team {
        let sessions = r.sessions.iter().filter(|l| l.team == team.team).count();
        assert_eq!(team.sessions as usize, sessions, "{}", team.team);
    }
}

/// The fixture with women and men swapped in every session.
fn swapped(f: &Fixture) -> Fixture {
    let mut g = f.clone();
    for s in &mut g.sessions {
        s.group = match s.group {
            Group::Women => Group::Men,
            Group::Men => Group::Women,
            Group::Mixed => Group::Mixed,
        };
    }
    g
}

#[test]
fn swapping_women_and_men_swaps_every_comparison() {
    let f = october_2026();
    let r = mission(&f, no_suppression());
    let s = mission(&swapped(&f), no_suppression());
    assert_eq!(s.priorities.women, r.priorities.men);
    assert_eq!(s.priorities.men, r.priorities.women);
    assert_eq!(s.priorities.mixed, r.priorities.mixed);
    assert_eq!(s.priorities.only_women, r.priorities.only_men);
    assert_eq!(s.priorities.only_men, r.priorities.only_women);
    for (a, b) in r.concerns_by_affected.iter().zip(&s.concerns_by_affected) {
        assert_eq!(a.raised, by(b.raised.men, b.raised.women, b.raised.mixed));
        assert_eq!(a.by_urgency, b.by_urgency);
    }
    assert_eq!(
        s.referrals_offered,
        by(r.referrals_offered.men, r.referrals_offered.women, 0)
    );
    // Who was in the room does not depend on which group a session was labelled.
    assert_eq!(s.participation.total, r.participation.total);
}

#[test]
fn the_comparison_loses_no_priority_and_puts_none_in_two_places() {
    let f = october_2026();
    let r = mission(&f, no_suppression());
    let p = &r.priorities;
    for row in &p.all {
        let only_w = p.only_women.contains(&row.key);
        let only_m = p.only_men.contains(&row.key);
        assert!(!(only_w && only_m), "{:?} in both", row.key);
        assert_eq!(only_w, row.women.is_some() && row.men.is_none());
        assert_eq!(only_m, row.men.is_some() && row.women.is_none());
    }
    // Every priority of every counted session is in the full table.
    for line in &r.sessions {
        for (_, key) in &line.priorities {
            assert!(p.all.iter().any(|row| row.key == *key), "{key:?} missing");
        }
    }
    assert_eq!(p.all.len(), 10);
}

#[test]
fn small_cells_are_hidden_and_cannot_be_recovered() {
    let f = october_2026();
    let r = mission(&f, ReportOptions::default());
    let t = &r.participation.total;
    // Fewer than 5: girls 12–17 (3), women 60+ (3), boys 12–17 (3), men 60+ (2), men of
    // unknown age (1), the one undisclosed participant.
    assert_eq!(t.female[0], None);
    assert_eq!(t.female[3], None);
    assert_eq!(t.male[0], None);
    assert_eq!(t.male[3], None);
    assert_eq!(t.male[4], None);
    assert_eq!(t.undisclosed[4], None);
    assert_eq!(t.total_of(fieldconsult_model::Sex::Undisclosed), None);
    // Large counts stay, and so do the women's and men's totals: the one undisclosed
    // participant's hidden total is covered by hiding the grand total instead.
    assert_eq!(t.female[2], Some(20));
    assert_eq!(t.total_of(fieldconsult_model::Sex::Female), Some(40));
    assert_eq!(t.total_of(fieldconsult_model::Sex::Male), Some(41));
    assert_eq!(t.total, None);
    // No row or column with a single hidden entry, which subtraction would reveal.
    let rows = [t.female, t.male, t.undisclosed];
    for (i, row) in rows.iter().enumerate() {
        let hidden =
            row.iter().filter(|c| c.is_none()).count() + usize::from(t.sex_totals[i].is_none());
        assert_ne!(hidden, 1, "row {i}");
    }
    for b in 0..5 {
        let hidden = rows.iter().filter(|r| r[b].is_none()).count()
            + usize::from(t.band_totals[b].is_none());
        assert_ne!(hidden, 1, "column {b}");
    }
    // Each session line is suppressed too: S3's single undisclosed participant is hidden.
    let s3 = r.sessions.iter().find(|l| l.id == f.session(3).id).unwrap();
    assert_eq!(s3.participants.undisclosed[4], None);
}

#[test]
fn a_higher_threshold_hides_at_least_as_much() {
    let f = october_2026();
    let mut last = 0;
    for min_cell in [0, 2, 5, 10, 20, 100] {
        let options = ReportOptions {
            min_cell,
            top_priorities: 5,
        };
        let hidden = mission(&f, options).participation.total.suppressed();
        assert!(hidden >= last, "min_cell {min_cell}: {hidden} < {last}");
        last = hidden;
    }
    // At 100 every count of this small month is hidden but its five zeros (women of unknown
    // age, undisclosed of every known age band), which reveal no one.
    assert_eq!(last, 19);
}

#[test]
fn no_sensitive_text_enters_the_report() {
    let f = october_2026();
    for options in [no_suppression(), ReportOptions::default()] {
        let json = serde_json::to_string(&mission(&f, options)).unwrap();
        assert!(!json.contains(SENSITIVE_MARKER));
        assert!(json.contains("Mobile clinic") || json.contains("mobile clinic"));
    }
}

#[test]
fn the_report_round_trips_through_json() {
    let f = october_2026();
    let r = mission(&f, ReportOptions::default());
    let json = serde_json::to_string(&r).unwrap();
    let back: MonthlyReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    assert!(json.contains("\"month\":\"2026-10\""));
}

mod suppression_properties {
    use fieldconsult_model::report::participation::SexAgeTable;
    use fieldconsult_model::report::suppression::suppress;
    use proptest::prelude::*;

    fn small_counts() -> impl Strategy<Value = [u64; 5]> {
        prop::array::uniform5(prop_oneof![Just(0u64), 1u64..5, 5u64..40])
    }

    proptest! {
        #[test]
        fn no_hidden_count_is_ever_recoverable_by_subtraction(
            female in small_counts(),
            male in small_counts(),
            undisclosed in small_counts(),
            min_cell in 0u32..12,
        ) {
            let t = SexAgeTable { sessions: 1, female, male, undisclosed };
            let c = suppress(&t, min_cell);
            let rows = [(c.female, c.sex_totals[0]), (c.male, c.sex_totals[1]), (c.undisclosed, c.sex_totals[2])];
            for (cells, total) in rows {
                let hidden = cells.iter().filter(|x| x.is_none()).count() + usize::from(total.is_none());
                prop_assert_ne!(hidden, 1);
            }
            for b in 0..5 {
                let hidden = [c.female[b], c.male[b], c.undisclosed[b], c.band_totals[b]].iter().filter(|x| x.is_none()).count();
                prop_assert_ne!(hidden, 1);
            }
            let margin_sex = c.sex_totals.iter().filter(|x| x.is_none()).count() + usize::from(c.total.is_none());
            let margin_band = c.band_totals.iter().filter(|x| x.is_none()).count() + usize::from(c.total.is_none());
            prop_assert_ne!(margin_sex, 1);
            prop_assert_ne!(margin_band, 1);
            // Every small count is hidden; every visible count is the true one.
            for (shown, truth) in c.female.iter().zip(female).chain(c.male.iter().zip(male)).chain(c.undisclosed.iter().zip(undisclosed)) {
                if truth > 0 && truth < u64::from(min_cell) {
                    prop_assert_eq!(*shown, None);
                }
                if let Some(v) = shown {
                    prop_assert_eq!(*v, truth);
                }
            }
        }
    }
}

#[test]
fn each_groups_top_priorities_carry_what_it_said_about_them() {
    use fieldconsult_model::fixtures::{MENS_SECURITY_NOTE, WOMENS_WATER_NOTE};
    let f = october_2026();
    let r = mission(&f, ReportOptions::default());
    let voices = |list: &[fieldconsult_model::report::monthly::RankedPriority],
                  key: PriorityKey| {
        list.iter()
            .find(|p| p.key == key)
            .map(|p| p.voices.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        voices(&r.priorities.women, cat(PriorityCategory::Water)),
        [WOMENS_WATER_NOTE]
    );
    assert_eq!(
        voices(
            &r.priorities.men,
            cat(PriorityCategory::SecurityAndProtection)
        ),
        [MENS_SECURITY_NOTE]
    );
    // Each group is quoted on its own ranking only: the men said nothing about water.
    assert!(voices(&r.priorities.men, cat(PriorityCategory::Water)).is_empty());
}
