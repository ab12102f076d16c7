//! The workflow of a session: which action leads where, and who may take it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldconsult_model::status::authorize;
use fieldconsult_model::{Action, Actor, Role, Status, Team, TeamId, TransitionError};
use proptest::prelude::*;

use Action::*;
use Status::*;

const ACTIONS: [Action; 6] = [Edit, Submit, Accept, Return, Delete, AddAddendum];

/// The workflow of DESIGN.md, written out edge by edge: `(from, action, to)`. Every pair not
/// listed is refused.
const EDGES: [(Status, Action, Status); 8] = [
    (Draft, Edit, Draft),
    (Draft, Submit, Submitted),
    (Draft, Delete, Draft),
    (Submitted, Accept, Accepted),
    (Submitted, Return, Returned),
    (Returned, Edit, Returned),
    (Returned, Submit, Submitted),
    (Accepted, AddAddendum, Accepted),
];

fn edge(from: Status, action: Action) -> Option<Status> {
    EDGES
        .iter()
        .find(|(f, a, _)| *f == from && *a == action)
        .map(|(_, _, to)| *to)
}

#[test]
fn the_status_graph_allows_exactly_its_edges() {
    #[rustfmt::skip]
    let table: [(Status, [Option<Status>; 6]); 4] = [
        //             Edit             Submit           Accept          Return          Delete       AddAddendum
        (Draft,     [Some(Draft),    Some(Submitted), None,           None,           Some(Draft), None]),
        (Submitted, [None,           None,            Some(Accepted), Some(Returned), None,        None]),
        (Returned,  [Some(Returned), Some(Submitted), None,           None,           None,        None]),
        (Accepted,  [None,           None,            None,           None,           None,        Some(Accepted)]),
    ];
    for (from, row) in table {
        for (action, expected) in ACTIONS.into_iter().zip(row) {
            let got = from.after(action);
            match expected {
                Some(to) => assert_eq!(got, Ok(to), "{from} --{action}-->"),
                None => assert_eq!(
                    got,
                    Err(TransitionError::NotAllowed { from, action }),
                    "{from} --{action}--> must be refused"
                ),
            }
        }
    }
}

#[test]
fn only_drafts_and_returned_sessions_are_editable() {
    for s in Status::ALL {
        assert_eq!(s.is_editable(), s.after(Edit).is_ok(), "{s}");
    }
    assert!(Draft.is_editable() && Returned.is_editable());
    assert!(!Submitted.is_editable() && !Accepted.is_editable());
}

#[test]
fn status_and_action_codes_round_trip_and_match_serde() {
    for s in Status::ALL {
        assert_eq!(Status::from_code(s.code()), Some(s));
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            format!("\"{}\"", s.code())
        );
        assert_eq!(s.to_string(), s.code());
    }
    assert_eq!(Status::from_code("deleted"), None);
    for a in ACTIONS {
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            format!("\"{}\"", a.code())
        );
    }
}

#[test]
fn a_refused_transition_explains_itself() {
    let err = Accepted.after(Edit).unwrap_err();
    assert_eq!(err.to_string(), "cannot edit a session that is accepted");
}

// ---------------------------------------------------------------------------------------------
// authorize
// ---------------------------------------------------------------------------------------------

fn team(sector: &str) -> Team {
    Team {
        id: TeamId::new(),
        name: "Engagement Team 3".to_owned(),
        sector: sector.to_owned(),
    }
}

fn member_of(team: &Team) -> Actor {
    Actor {
        id: "et3-device-1".to_owned(),
        role: Role::TeamMember { team_id: team.id },
    }
}

fn reviewer_of(sector: &str) -> Actor {
    Actor {
        id: "gfp-east".to_owned(),
        role: Role::Reviewer {
            sector: sector.to_owned(),
        },
    }
}

#[test]
fn a_team_member_edits_submits_deletes_and_adds_addenda_to_their_own_teams_sessions() {
    let owner = team("East");
    let me = member_of(&owner);
    assert_eq!(authorize(&me, Edit, Draft, &owner), Ok(Draft));
    assert_eq!(authorize(&me, Submit, Draft, &owner), Ok(Submitted));
    assert_eq!(authorize(&me, Delete, Draft, &owner), Ok(Draft));
    assert_eq!(authorize(&me, Edit, Returned, &owner), Ok(Returned));
    assert_eq!(authorize(&me, Submit, Returned, &owner), Ok(Submitted));
    assert_eq!(authorize(&me, AddAddendum, Accepted, &owner), Ok(Accepted));
}

#[test]
fn a_member_of_another_team_is_refused_everything() {
    let owner = team("East");
    let other = team("East");
    let stranger = member_of(&other);
    for status in Status::ALL {
        for action in ACTIONS {
            assert_eq!(
                authorize(&stranger, action, status, &owner),
                Err(TransitionError::NotPermitted { action }),
                "{status} {action}"
            );
        }
    }
}

#[test]
fn a_team_member_cannot_accept_or_return_even_their_own_teams_sessions() {
    let owner = team("East");
    let me = member_of(&owner);
    for action in [Accept, Return] {
        assert_eq!(
            authorize(&me, action, Submitted, &owner),
            Err(TransitionError::NotPermitted { action })
        );
    }
}

#[test]
fn a_reviewer_of_the_sector_accepts_or_returns_submitted_sessions() {
    let owner = team("East");
    let gfp = reviewer_of("East");
    assert_eq!(authorize(&gfp, Accept, Submitted, &owner), Ok(Accepted));
    assert_eq!(authorize(&gfp, Return, Submitted, &owner), Ok(Returned));
}

#[test]
fn a_reviewer_cannot_review_a_session_that_is_not_submitted() {
    let owner = team("East");
    let gfp = reviewer_of("East");
    for status in [Draft, Returned, Accepted] {
        for action in [Accept, Return] {
            assert_eq!(
                authorize(&gfp, action, status, &owner),
                Err(TransitionError::NotAllowed {
                    from: status,
                    action
                })
            );
        }
    }
}

#[test]
fn a_reviewer_of_another_sector_is_refused() {
    let owner = team("East");
    for sector in ["West", "east", "East ", ""] {
        let gfp = reviewer_of(sector);
        for action in [Accept, Return] {
            assert_eq!(
                authorize(&gfp, action, Submitted, &owner),
                Err(TransitionError::NotPermitted { action }),
                "sector {sector:?}"
            );
        }
    }
}

#[test]
fn a_reviewer_cannot_edit_submit_delete_or_add_addenda() {
    let owner = team("East");
    let gfp = reviewer_of("East");
    for status in Status::ALL {
        for action in [Edit, Submit, Delete, AddAddendum] {
            assert_eq!(
                authorize(&gfp, action, status, &owner),
                Err(TransitionError::NotPermitted { action }),
                "{status} {action}"
            );
        }
    }
}

#[test]
fn a_permitted_actor_still_gets_the_workflow_refusal() {
    let owner = team("East");
    let me = member_of(&owner);
    assert_eq!(
        authorize(&me, Edit, Accepted, &owner),
        Err(TransitionError::NotAllowed {
            from: Accepted,
            action: Edit
        })
    );
    assert_eq!(
        authorize(&me, Delete, Returned, &owner),
        Err(TransitionError::NotAllowed {
            from: Returned,
            action: Delete
        })
    );
}

#[test]
fn authorize_agrees_with_the_graph_whenever_the_actor_is_permitted() {
    let owner = team("East");
    let me = member_of(&owner);
    let gfp = reviewer_of("East");
    for status in Status::ALL {
        for action in ACTIONS {
            let actor = if action.is_review() { &gfp } else { &me };
            assert_eq!(
                authorize(actor, action, status, &owner),
                status.after(action),
                "{status} {action}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Random walks
// ---------------------------------------------------------------------------------------------

/// The actors of a walk: index 0 a member of the owning team, 1 a member of another team,
/// 2 a reviewer of the owner's sector, 3 a reviewer of another sector.
fn actors(owner: &Team) -> [Actor; 4] {
    [
        member_of(owner),
        member_of(&team("East")),
        reviewer_of(&owner.sector),
        reviewer_of("West"),
    ]
}

fn walk() -> impl Strategy<Value = Vec<(usize, Action)>> {
    prop::collection::vec((0usize..4, prop::sample::select(ACTIONS.to_vec())), 0..60)
}

proptest! {
    #[test]
    fn random_actions_by_random_actors_only_ever_follow_edges_of_the_graph(steps in walk()) {
        let owner = team("East");
        let actors = actors(&owner);
        let mut status = Draft;
        for (who, action) in steps {
            match authorize(&actors[who], action, status, &owner) {
                Ok(next) => {
                    prop_assert_eq!(edge(status, action), Some(next), "{} --{}-->", status, action);
                    prop_assert!(who == 0 || who == 2, "actor {} was permitted", who);
                    status = next;
                }
                Err(TransitionError::NotPermitted { .. }) => {
                    prop_assert!(
                        who == 1 || who == 3 || (who == 0) == action.is_review(),
                        "actor {} refused {} although permitted", who, action
                    );
                }
                Err(TransitionError::NotAllowed { from, action: a }) => {
                    prop_assert_eq!((from, a), (status, action));
                    prop_assert_eq!(edge(status, action), None);
                }
            }
        }
    }

    #[test]
    fn accepted_is_absorbing_for_everything_but_addenda(steps in walk()) {
        let owner = team("East");
        let actors = actors(&owner);
        let mut status = Accepted;
        for (who, action) in steps {
            let r = authorize(&actors[who], action, status, &owner);
            if action == AddAddendum && who == 0 {
                prop_assert_eq!(r.clone(), Ok(Accepted));
            } else {
                prop_assert!(r.is_err(), "{} by actor {} from accepted gave {:?}", action, who, r);
            }
            if let Ok(next) = r {
                status = next;
            }
            prop_assert_eq!(status, Accepted);
        }
    }

    #[test]
    fn a_session_becomes_accepted_only_from_submitted(steps in walk()) {
        let owner = team("East");
        let actors = actors(&owner);
        let mut status = Draft;
        let mut submitted_before = false;
        for (who, action) in steps {
            if let Ok(next) = authorize(&actors[who], action, status, &owner) {
                if next == Accepted && status != Accepted {
                    prop_assert_eq!(status, Submitted);
                    prop_assert_eq!(action, Accept);
                    prop_assert!(submitted_before);
                }
                if next == Submitted {
                    submitted_before = true;
                }
                status = next;
            }
        }
    }
}

#[test]
fn only_the_authoring_team_withdraws_consent_and_in_every_status() {
    let owner = team("East");
    let other_team = member_of(&team("East"));
    for status in Status::ALL {
        assert_eq!(
            authorize(&member_of(&owner), WithdrawConsent, status, &owner),
            Ok(status)
        );
        for refused in [&other_team, &reviewer_of("East"), &reviewer_of("West")] {
            assert_eq!(
                authorize(refused, WithdrawConsent, status, &owner),
                Err(TransitionError::NotPermitted {
                    action: WithdrawConsent
                })
            );
        }
    }
}

#[test]
fn headquarters_and_admin_may_take_no_action_on_any_session() {
    let owner = team("East");
    for role in [Role::HqAnalyst, Role::Admin] {
        let actor = Actor {
            id: "hq-or-admin".into(),
            role: role.clone(),
        };
        for status in Status::ALL {
            for action in ACTIONS {
                assert_eq!(
                    authorize(&actor, action, status, &owner),
                    Err(TransitionError::NotPermitted { action }),
                    "{role:?} {status} {action}"
                );
            }
        }
    }
}
