//! The report computations, checked against hand-computed fixtures and a symmetry property.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{FixedOffset, TimeZone};
use common::*;
use fieldconsult_model::report::{
    ConcernTally, GroupBy, PairedComparison, ParticipationTable, PriorityKey, PriorityRow,
    PriorityStat, SexAgeTable,
};
use fieldconsult_model::{
    AffectedGroup, AgeBand, CommunityId, ConcernCategory, Group, InterpreterSex, PriorityCategory,
    Session, Sex, TeamId, Urgency, Visit, VisitId,
};
use proptest::prelude::*;

use PriorityCategory::*;

fn stat(sessions: u32, best_rank: u8, score: u32) -> Option<PriorityStat> {
    Some(PriorityStat {
        sessions,
        best_rank,
        score,
    })
}

fn key(c: PriorityCategory) -> PriorityKey {
    PriorityKey::Category(c)
}

fn other(label: &str) -> PriorityKey {
    PriorityKey::Other(label.to_owned())
}

/// The women's session of the fixture visit: water 1, safe movement 2, health 3, other
/// "mobile clinic" 4; one urgent concern affecting women and girls.
fn women_session() -> Session {
    let mut s = complete(Group::Women);
    s.priorities = vec![
        priority(1, Water),
        priority(2, SafeMovement),
        priority(3, Health),
        other_priority(4, "mobile clinic"),
    ];
    s.concerns = vec![concern(
        ConcernCategory::SexualViolenceRisk,
        &[AffectedGroup::Women, AffectedGroup::Girls],
        Urgency::Urgent,
    )];
    s
}

/// The men's session of the fixture visit: security 1, water 2, livelihoods 3; one routine
/// concern affecting men.
fn men_session() -> Session {
    let mut s = complete(Group::Men);
    s.priorities = vec![
        priority(1, SecurityAndProtection),
        priority(2, Water),
        priority(3, LivelihoodsAndWork),
    ];
    s.concerns = vec![concern(
        ConcernCategory::ChildRecruitment,
        &[AffectedGroup::Men],
        Urgency::Routine,
    )];
    s
}

fn tally(affected: AffectedGroup, women: u32, men: u32, mixed: u32, urgent: u32) -> ConcernTally {
    ConcernTally {
        affected,
        raised_by_women: women,
        raised_by_men: men,
        raised_in_mixed: mixed,
        urgent,
    }
}

#[test]
fn the_fixture_sessions_are_valid() {
    assert_eq!(check_submit(&women_session()), Ok(()));
    assert_eq!(check_submit(&men_session()), Ok(()));
}

#[test]
fn paired_comparison_of_one_visit_matches_the_hand_computed_table() {
    let (w, m) = (women_session(), men_session());
    let r = PairedComparison::compute([&w, &m]);

    assert_eq!(
        (r.women_sessions, r.men_sessions, r.mixed_sessions),
        (1, 1, 0)
    );
    assert!(r.has_pair());

    // Borda: rank 1 scores 5 ... rank 5 scores 1. Totals: water 5+4=9, security 5,
    // safe movement 4, health 3, livelihoods 3 (tie broken by taxonomy order), clinic 2.
    let row = |k, women, men| PriorityRow {
        key: k,
        women,
        men,
        mixed: None,
    };
    assert_eq!(
        r.priorities,
        vec![
            row(key(Water), stat(1, 1, 5), stat(1, 2, 4)),
            row(key(SecurityAndProtection), None, stat(1, 1, 5)),
            row(key(SafeMovement), stat(1, 2, 4), None),
            row(key(Health), stat(1, 3, 3), None),
            row(key(LivelihoodsAndWork), None, stat(1, 3, 3)),
            row(other("mobile clinic"), stat(1, 4, 2), None),
        ]
    );
    assert_eq!(
        r.only_women,
        vec![key(SafeMovement), key(Health), other("mobile clinic")]
    );
    assert_eq!(
        r.only_men,
        vec![key(SecurityAndProtection), key(LivelihoodsAndWork)]
    );
    assert_eq!(
        r.concerns,
        vec![
            tally(AffectedGroup::Women, 1, 0, 0, 1),
            tally(AffectedGroup::Girls, 1, 0, 0, 1),
            tally(AffectedGroup::Men, 0, 1, 0, 0),
            tally(AffectedGroup::Boys, 0, 0, 0, 0),
            tally(AffectedGroup::Elderly, 0, 0, 0, 0),
        ]
    );
}

#[test]
fn the_comparison_does_not_depend_on_the_order_of_sessions() {
    let (w, m) = (women_session(), men_session());
    assert_eq!(
        PairedComparison::compute([&w, &m]),
        PairedComparison::compute([&m, &w])
    );
}

#[test]
fn several_sessions_of_a_group_add_their_scores_and_keep_the_best_rank() {
    let mut w2 = complete(Group::Women);
    w2.priorities = vec![priority(1, Health), priority(5, Water)];
    let (w1, m) = (women_session(), men_session());
    let r = PairedComparison::compute([&w1, &w2, &m]);
    assert_eq!(r.women_sessions, 2);
    let water = r.priorities.iter().find(|p| p.key == key(Water)).unwrap();
    assert_eq!(water.women, stat(2, 1, 5 + 1));
    assert_eq!(water.men, stat(1, 2, 4));
    let health = r.priorities.iter().find(|p| p.key == key(Health)).unwrap();
    assert_eq!(health.women, stat(2, 1, 3 + 5));
    // health 8 now ties with nothing and outranks security's 5.
    let order: Vec<_> = r.priorities.iter().map(|p| p.key.clone()).collect();
    assert_eq!(
        order,
        vec![
            key(Water),
            key(Health),
            key(SecurityAndProtection),
            key(SafeMovement),
            key(LivelihoodsAndWork),
            other("mobile clinic"),
        ]
    );
}

#[test]
fn other_labels_are_compared_case_insensitively_and_without_surrounding_spaces() {
    let mut w = complete(Group::Women);
    w.priorities = vec![other_priority(1, "Mobile Clinic")];
    let mut m = complete(Group::Men);
    m.priorities = vec![other_priority(3, "  mobile CLINIC ")];
    let r = PairedComparison::compute([&w, &m]);
    assert_eq!(
        r.priorities,
        vec![PriorityRow {
            key: other("mobile clinic"),
            women: stat(1, 1, 5),
            men: stat(1, 3, 3),
            mixed: None,
        }]
    );
    assert!(r.only_women.is_empty() && r.only_men.is_empty());
}

#[test]
fn different_other_labels_are_different_priorities() {
    let mut w = complete(Group::Women);
    w.priorities = vec![other_priority(1, "Mobile clinic")];
    let mut m = complete(Group::Men);
    m.priorities = vec![other_priority(1, "Grinding mill")];
    let r = PairedComparison::compute([&w, &m]);
    assert_eq!(r.only_women, vec![other("mobile clinic")]);
    assert_eq!(r.only_men, vec![other("grinding mill")]);
}

#[test]
fn mixed_sessions_have_their_own_column_and_never_make_a_priority_shared() {
    let mut x = complete(Group::Mixed);
    x.priorities = vec![priority(1, Health), priority(2, Schools)];
    x.concerns = vec![concern(
        ConcernCategory::Abduction,
        &[AffectedGroup::Boys, AffectedGroup::Girls],
        Urgency::Urgent,
    )];
    let (w, m) = (women_session(), men_session());
    let r = PairedComparison::compute([&w, &m, &x]);
    assert_eq!(r.mixed_sessions, 1);
    let health = r.priorities.iter().find(|p| p.key == key(Health)).unwrap();
    assert_eq!(
        (health.women, health.men, health.mixed),
        (stat(1, 3, 3), None, stat(1, 1, 5))
    );
    // Still only women's: the mixed session does not count as men raising it.
    assert!(r.only_women.contains(&key(Health)));
    // Raised only in the mixed session: in neither list.
    assert!(!r.only_women.contains(&key(Schools)) && !r.only_men.contains(&key(Schools)));
    assert_eq!(r.concerns[1], tally(AffectedGroup::Girls, 1, 0, 1, 2));
    assert_eq!(r.concerns[3], tally(AffectedGroup::Boys, 0, 0, 1, 1));
}

#[test]
fn without_a_womens_session_there_is_no_pair() {
    let m = men_session();
    let r = PairedComparison::compute([&m]);
    assert!(!r.has_pair());
    assert!(r.only_women.is_empty());
    assert_eq!(r.only_men.len(), 3);
    let empty = PairedComparison::compute(std::iter::empty::<&Session>());
    assert!(empty.priorities.is_empty() && !empty.has_pair());
    assert_eq!(empty.concerns.len(), AffectedGroup::ALL.len());
}

/// `s` with women and men swapped: the same session, held with the other group.
fn swapped(s: &Session) -> Session {
    let mut s = s.clone();
    s.group = match s.group {
        Group::Women => Group::Men,
        Group::Men => Group::Women,
        Group::Mixed => Group::Mixed,
    };
    s
}

proptest! {
    #[test]
    fn swapping_women_and_men_swaps_exactly_their_columns(
        sessions in prop::collection::vec(valid_session(), 0..8)
    ) {
        let flipped: Vec<Session> = sessions.iter().map(swapped).collect();
        let a = PairedComparison::compute(&sessions);
        let b = PairedComparison::compute(&flipped);

        prop_assert_eq!((a.women_sessions, a.men_sessions, a.mixed_sessions),
                        (b.men_sessions, b.women_sessions, b.mixed_sessions));
        prop_assert_eq!(&a.only_women, &b.only_men);
        prop_assert_eq!(&a.only_men, &b.only_women);
        let mirrored: Vec<PriorityRow> = a
            .priorities
            .iter()
            .map(|r| PriorityRow { key: r.key.clone(), women: r.men, men: r.women, mixed: r.mixed })
            .collect();
        prop_assert_eq!(&mirrored, &b.priorities);
        let mirrored: Vec<ConcernTally> = a
            .concerns
            .iter()
            .map(|t| ConcernTally { raised_by_women: t.raised_by_men, raised_by_men: t.raised_by_women, ..*t })
            .collect();
        prop_assert_eq!(&mirrored, &b.concerns);
    }

    #[test]
    fn only_women_and_only_men_are_disjoint_and_drawn_from_the_rows(
        sessions in prop::collection::vec(valid_session(), 0..8)
    ) {
        let r = PairedComparison::compute(&sessions);
        for k in &r.only_women {
            prop_assert!(!r.only_men.contains(k));
            let row = r.priorities.iter().find(|p| &p.key == k).unwrap();
            prop_assert!(row.women.is_some() && row.men.is_none());
        }
        let scores: Vec<u32> = r
            .priorities
            .iter()
            .map(|p| [p.women, p.men, p.mixed].iter().flatten().map(|s| s.score).sum())
            .collect();
        prop_assert!(scores.windows(2).all(|w| w[0] >= w[1]), "sorted by score: {:?}", scores);
    }
}

// ---------------------------------------------------------------------------------------------
// Participation
// ---------------------------------------------------------------------------------------------

struct Fixture {
    visits: Vec<Visit>,
    /// `(index of the visit, session)`.
    sessions: Vec<(usize, Session)>,
    team_a: TeamId,
    team_b: TeamId,
    village_1: CommunityId,
    village_2: CommunityId,
}

impl Fixture {
    fn items(&self) -> Vec<(&Visit, &Session)> {
        self.sessions
            .iter()
            .map(|(v, s)| (&self.visits[*v], s))
            .collect()
    }
}

fn visit(team: TeamId, community: CommunityId) -> Visit {
    Visit {
        id: VisitId::new(),
        team_id: team,
        community_id: community,
        started_at: at(2026, 11, 1, 8, 0),
        ended_at: None,
        notes: String::new(),
    }
}

/// Three visits, four sessions:
///
/// | visit | team | community | session | month (local) | participants | facilitators | interpreter |
/// |---|---|---|---|---|---|---|---|
/// | 1 | A | 1 | women | 2026-11 | F 18–29: 5, F 30–59: 7, U unknown: 1 | F 1 | female |
/// | 1 | A | 1 | men   | 2026-11 | M 18–29: 4, M 60+: 2 | M 2 | male |
/// | 2 | A | 2 | mixed | 2026-12 (01:00 +03:00, still November in UTC) | F 12–17: 3, M 12–17: 6 | F 1, M 1 | none |
/// | 3 | B | 1 | men   | 2026-12 | M 30–59: 10 | M 1 | none |
fn fixture() -> Fixture {
    let (team_a, team_b) = (TeamId::new(), TeamId::new());
    let (village_1, village_2) = (CommunityId::new(), CommunityId::new());
    let visits = vec![
        visit(team_a, village_1),
        visit(team_a, village_2),
        visit(team_b, village_1),
    ];
    let blank = |group: Group, started| {
        let mut s = draft(group);
        s.started_at = started;
        s
    };

    let mut women = blank(Group::Women, at(2026, 11, 14, 10, 0));
    women.participants.female.age_18_29 = 5;
    women.participants.female.age_30_59 = 7;
    women.participants.undisclosed.unknown = 1;
    women.facilitators.female = 1;
    women.interpreter.sex = InterpreterSex::Female;

    let mut men = blank(Group::Men, at(2026, 11, 14, 12, 0));
    men.participants.male.age_18_29 = 4;
    men.participants.male.age_60_plus = 2;
    men.facilitators.male = 2;
    men.interpreter.sex = InterpreterSex::Male;

    let mut mixed = blank(Group::Mixed, at(2026, 12, 1, 1, 0));
    mixed.participants.female.age_12_17 = 3;
    mixed.participants.male.age_12_17 = 6;
    mixed.facilitators.female = 1;
    mixed.facilitators.male = 1;

    let mut men_b = blank(
        Group::Men,
        FixedOffset::west_opt(2 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 12, 3, 9, 0, 0)
            .unwrap(),
    );
    men_b.participants.male.age_30_59 = 10;
    men_b.facilitators.male = 1;

    Fixture {
        visits,
        sessions: vec![(0, women), (0, men), (1, mixed), (2, men_b)],
        team_a,
        team_b,
        village_1,
        village_2,
    }
}

fn table(sessions: u32, female: [u64; 5], male: [u64; 5], undisclosed: [u64; 5]) -> SexAgeTable {
    SexAgeTable {
        sessions,
        female,
        male,
        undisclosed,
    }
}

#[test]
fn participation_totals_match_the_hand_computed_cells() {
    let f = fixture();
    let t = ParticipationTable::compute(f.items(), GroupBy::Overall);
    let expected = table(4, [3, 5, 7, 0, 0], [6, 4, 10, 2, 0], [0, 0, 0, 0, 1]);
    assert_eq!(t.total, expected);
    assert_eq!(t.rows, vec![(String::new(), expected)]);
    assert_eq!(t.total.total(), 38);
    assert_eq!(t.total.total_of(Sex::Female), 15);
    assert_eq!(t.total.total_of(Sex::Male), 22);
    assert_eq!(t.total.total_of(Sex::Undisclosed), 1);
    assert_eq!(t.total.total_of_band(AgeBand::Age12To17), 9);
    assert_eq!(t.total.total_of_band(AgeBand::Unknown), 1);
    assert_eq!(t.total.get(Sex::Male, AgeBand::Age30To59), 10);
    assert_eq!(t.total.get(Sex::Female, AgeBand::Age60Plus), 0);
}

#[test]
fn participation_rows_per_team() {
    let f = fixture();
    let t = ParticipationTable::compute(f.items(), GroupBy::Team);
    let mut expected = vec![
        (
            f.team_a.to_string(),
            table(3, [3, 5, 7, 0, 0], [6, 4, 0, 2, 0], [0, 0, 0, 0, 1]),
        ),
        (
            f.team_b.to_string(),
            table(1, [0; 5], [0, 0, 10, 0, 0], [0; 5]),
        ),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(t.rows, expected);
}

#[test]
fn participation_rows_per_community() {
    let f = fixture();
    let t = ParticipationTable::compute(f.items(), GroupBy::Community);
    let mut expected = vec![
        (
            f.village_1.to_string(),
            table(3, [0, 5, 7, 0, 0], [0, 4, 10, 2, 0], [0, 0, 0, 0, 1]),
        ),
        (
            f.village_2.to_string(),
            table(1, [3, 0, 0, 0, 0], [6, 0, 0, 0, 0], [0; 5]),
        ),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(t.rows, expected);
}

#[test]
fn participation_rows_per_month_use_the_local_date_of_the_session() {
    let f = fixture();
    let t = ParticipationTable::compute(f.items(), GroupBy::Month);
    assert_eq!(
        t.rows,
        vec![
            (
                "2026-11".to_owned(),
                table(2, [0, 5, 7, 0, 0], [0, 4, 0, 2, 0], [0, 0, 0, 0, 1]),
            ),
            (
                "2026-12".to_owned(),
                table(2, [3, 0, 0, 0, 0], [6, 0, 10, 0, 0], [0; 5]),
            ),
        ]
    );
}

#[test]
fn rows_always_add_up_to_the_total() {
    let f = fixture();
    for by in [
        GroupBy::Overall,
        GroupBy::Team,
        GroupBy::Community,
        GroupBy::Month,
    ] {
        let t = ParticipationTable::compute(f.items(), by);
        let mut sum = SexAgeTable::default();
        for (_, row) in &t.rows {
            sum.sessions += row.sessions;
            for i in 0..5 {
                sum.female[i] += row.female[i];
                sum.male[i] += row.male[i];
                sum.undisclosed[i] += row.undisclosed[i];
            }
        }
        assert_eq!(sum, t.total, "{by:?}");
    }
}

#[test]
fn coverage_counts_separate_womens_sessions_woman_facilitators_and_interpreters_by_sex() {
    let f = fixture();
    let c = ParticipationTable::compute(f.items(), GroupBy::Team).coverage;
    assert_eq!(c.visits, 3);
    // Only visit 1 had a separate women's session; the mixed session of visit 2 does not count.
    assert_eq!(c.visits_with_women_session, 1);
    assert_eq!(c.sessions, 4);
    assert_eq!(c.sessions_with_woman_facilitator, 2);
    assert_eq!(
        (
            c.interpreters_none,
            c.interpreters_female,
            c.interpreters_male
        ),
        (2, 1, 1)
    );
    assert_eq!(c.women_session_share(), Some(1.0 / 3.0));
    assert_eq!(c.woman_facilitator_share(), Some(0.5));
}

#[test]
fn coverage_of_nothing_has_no_shares() {
    let t = ParticipationTable::compute(std::iter::empty(), GroupBy::Month);
    assert!(t.rows.is_empty());
    assert_eq!(t.total, SexAgeTable::default());
    assert_eq!(t.coverage.women_session_share(), None);
    assert_eq!(t.coverage.woman_facilitator_share(), None);
}

#[test]
fn two_womens_sessions_in_one_visit_count_that_visit_once() {
    let v = visit(TeamId::new(), CommunityId::new());
    let (a, b) = (complete(Group::Women), complete(Group::Women));
    let c = ParticipationTable::compute([(&v, &a), (&v, &b)], GroupBy::Overall).coverage;
    assert_eq!(
        (c.visits, c.visits_with_women_session, c.sessions),
        (1, 1, 2)
    );
    assert_eq!(c.women_session_share(), Some(1.0));
}

#[test]
fn sums_of_maximal_counts_do_not_overflow() {
    let mut s = draft(Group::Mixed);
    for sex in Sex::ALL {
        for band in AgeBand::ALL {
            *s.participants.of_mut(sex).get_mut(band) = u32::MAX;
        }
    }
    let max = u64::from(u32::MAX);
    assert_eq!(s.participants.female.total(), 5 * max);
    assert_eq!(s.participants.total(), 15 * max);

    let v = visit(TeamId::new(), CommunityId::new());
    let items: Vec<(&Visit, &Session)> = std::iter::repeat_n((&v, &s), 3).collect();
    let t = ParticipationTable::compute(items, GroupBy::Team);
    assert_eq!(t.total.female, [3 * max; 5]);
    assert_eq!(t.total.male, [3 * max; 5]);
    assert_eq!(t.total.undisclosed, [3 * max; 5]);
    assert_eq!(t.total.total_of_band(AgeBand::Unknown), 9 * max);
    assert_eq!(t.total.total(), 45 * max);
    assert_eq!(t.rows[0].1, t.total);
}
