//! Who may do what on the server: every principal × every endpoint × every record owner,
//! against a table written out below that a reader can check cell by cell.
//!
//! Principals: a device of team A (sector West), of team B (sector East), a reviewer of
//! West, a reviewer of East, an HQ analyst, an admin, a revoked team A device, no token, an
//! unknown token. Owners: team A, team B, "sector" (team A2, another team of West: what a
//! West reviewer sees and team A does not), and the mission (reference data, mission-wide
//! reports and exports, HQ devices).
//!
//! Every refused cell (401, 403, 404) must carry no record data: no id or name of any team,
//! community, visit, session or device in the body. The test fails when the router has an
//! endpoint the table has no row for (`fieldconsult_server::app::endpoints`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use common::*;
use fieldconsult_model::report::Month;
use fieldconsult_model::wire::{AckOutcome, PullResponse, PushResponse, Record};
use fieldconsult_model::{Community, CommunityId, Role, Session, Team, Visit};

/// What a cell expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cell {
    /// 200 (201 for a created code).
    Ok,
    /// Push answered 200 with the record stored.
    Stored,
    /// Push answered 200 with the record rejected as `forbidden`: nothing stored.
    Rejected,
    /// Pull answered 200 and the owner's record is in the page.
    Sees,
    /// Pull answered 200 and the owner's record is not in the page.
    Hidden,
    /// 401 unauthorized.
    Unauth,
    /// 403 forbidden by role.
    Forbid,
    /// 403 revoked.
    Revoked,
    /// Not applicable: the endpoint has nothing of this owner.
    Na,
}
use Cell::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    A,
    B,
    Sector,
    Mission,
}
const OWNERS: [Owner; 4] = [Owner::A, Owner::B, Owner::Sector, Owner::Mission];

const PRINCIPALS: [&str; 9] = [
    "team A",
    "team B",
    "reviewer West",
    "reviewer East",
    "HQ analyst",
    "admin",
    "revoked",
    "no token",
    "unknown token",
];

/// One row per endpoint (and request variant) and owner. Columns, in order: team A device,
/// team B device, reviewer of West, reviewer of East, HQ analyst, admin, revoked device,
/// no token, unknown token.
#[rustfmt::skip]
const MATRIX: &[(&str, Owner, [Cell; 9])] = &[
    //                               tA        tB        rWest     rEast     HQ      admin   revoked  none    unknown
    // Enrolment takes a code, not a token: the code alone decides (a fresh code each cell).
    ("POST /enrol",        Owner::A,       [Ok,       Ok,       Ok,       Ok,       Ok,     Ok,     Ok,      Ok,     Ok]),
    ("POST /enrol",        Owner::B,       [Ok,       Ok,       Ok,       Ok,       Ok,     Ok,     Ok,      Ok,     Ok]),
    ("POST /enrol",        Owner::Sector,  [Ok,       Ok,       Ok,       Ok,       Ok,     Ok,     Ok,      Ok,     Ok]),
    ("POST /enrol",        Owner::Mission, [Ok,       Ok,       Ok,       Ok,       Ok,     Ok,     Ok,      Ok,     Ok]),
    // A new visit of the owner's team; for the mission, a community found on patrol.
    ("POST /push visit",   Owner::A,       [Stored,   Rejected, Rejected, Rejected, Forbid, Forbid, Revoked, Unauth, Unauth]),
    ("POST /push visit",   Owner::B,       [Rejected, Stored,   Rejected, Rejected, Forbid, Forbid, Revoked, Unauth, Unauth]),
    ("POST /push visit",   Owner::Sector,  [Rejected, Rejected, Rejected, Rejected, Forbid, Forbid, Revoked, Unauth, Unauth]),
    ("POST /push visit",   Owner::Mission, [Stored,   Stored,   Rejected, Rejected, Forbid, Forbid, Revoked, Unauth, Unauth]),
    // An acceptance of a submitted session of the owner's team.
    ("POST /push review",  Owner::A,       [Rejected, Rejected, Stored,   Rejected, Forbid, Forbid, Revoked, Unauth, Unauth]),
    ("POST /push review",  Owner::B,       [Rejected, Rejected, Rejected, Stored,   Forbid, Forbid, Revoked, Unauth, Unauth]),
    ("POST /push review",  Owner::Sector,  [Rejected, Rejected, Stored,   Rejected, Forbid, Forbid, Revoked, Unauth, Unauth]),
    ("POST /push review",  Owner::Mission, [Na,       Na,       Na,       Na,       Na,     Na,     Na,      Na,     Na]),
    // Whether the owner's session (or, for the mission, the community) is in a pull page.
    ("GET /pull",          Owner::A,       [Sees,     Hidden,   Sees,     Hidden,   Forbid, Forbid, Revoked, Unauth, Unauth]),
    ("GET /pull",          Owner::B,       [Hidden,   Sees,     Hidden,   Sees,     Forbid, Forbid, Revoked, Unauth, Unauth]),
    ("GET /pull",          Owner::Sector,  [Hidden,   Hidden,   Sees,     Hidden,   Forbid, Forbid, Revoked, Unauth, Unauth]),
    ("GET /pull",          Owner::Mission, [Sees,     Sees,     Sees,     Sees,     Forbid, Forbid, Revoked, Unauth, Unauth]),
    // The monthly report of team A, team B, sector West, the mission.
    ("GET /reports/monthly", Owner::A,     [Ok,       Forbid,   Ok,       Forbid,   Ok,     Forbid, Revoked, Unauth, Unauth]),
    ("GET /reports/monthly", Owner::B,     [Forbid,   Ok,       Forbid,   Ok,       Ok,     Forbid, Revoked, Unauth, Unauth]),
    ("GET /reports/monthly", Owner::Sector,[Forbid,   Forbid,   Ok,       Forbid,   Ok,     Forbid, Revoked, Unauth, Unauth]),
    ("GET /reports/monthly", Owner::Mission,[Forbid,  Forbid,   Forbid,   Forbid,   Ok,     Forbid, Revoked, Unauth, Unauth]),
    // The export is mission-wide.
    ("GET /export",        Owner::A,       [Na,       Na,       Na,       Na,       Na,     Na,     Na,      Na,     Na]),
    ("GET /export",        Owner::B,       [Na,       Na,       Na,       Na,       Na,     Na,     Na,      Na,     Na]),
    ("GET /export",        Owner::Sector,  [Na,       Na,       Na,       Na,       Na,     Na,     Na,      Na,     Na]),
    ("GET /export",        Owner::Mission, [Forbid,   Forbid,   Forbid,   Forbid,   Ok,     Forbid, Revoked, Unauth, Unauth]),
    ("GET /admin/devices", Owner::A,       [Na,       Na,       Na,       Na,       Na,     Na,     Na,      Na,     Na]),
    ("GET /admin/devices", Owner::B,       [Na,       Na,       Na,       Na,       Na,     Na,     Na,      Na,     Na]),
    ("GET /admin/devices", Owner::Sector,  [Na,       Na,       Na,       Na,       Na,     Na,     Na,      Na,     Na]),
    ("GET /admin/devices", Owner::Mission, [Forbid,   Forbid,   Forbid,   Forbid,   Forbid, Ok,     Revoked, Unauth, Unauth]),
    // Revoking a fresh device of team A, team B, a West reviewer, an HQ analyst.
    ("POST /admin/devices/{id}/revoke", Owner::A,       [Forbid, Forbid, Forbid, Forbid, Forbid, Ok, Revoked, Unauth, Unauth]),
    ("POST /admin/devices/{id}/revoke", Owner::B,       [Forbid, Forbid, Forbid, Forbid, Forbid, Ok, Revoked, Unauth, Unauth]),
    ("POST /admin/devices/{id}/revoke", Owner::Sector,  [Forbid, Forbid, Forbid, Forbid, Forbid, Ok, Revoked, Unauth, Unauth]),
    ("POST /admin/devices/{id}/revoke", Owner::Mission, [Forbid, Forbid, Forbid, Forbid, Forbid, Ok, Revoked, Unauth, Unauth]),
    // A code for a team A device, a team B device, a West reviewer, an HQ analyst.
    ("POST /admin/enrolment-codes", Owner::A,       [Forbid, Forbid, Forbid, Forbid, Forbid, Ok, Revoked, Unauth, Unauth]),
    ("POST /admin/enrolment-codes", Owner::B,       [Forbid, Forbid, Forbid, Forbid, Forbid, Ok, Revoked, Unauth, Unauth]),
    ("POST /admin/enrolment-codes", Owner::Sector,  [Forbid, Forbid, Forbid, Forbid, Forbid, Ok, Revoked, Unauth, Unauth]),
    ("POST /admin/enrolment-codes", Owner::Mission, [Forbid, Forbid, Forbid, Forbid, Forbid, Ok, Revoked, Unauth, Unauth]),
    ("GET /admin/audit",   Owner::A,       [Na,       Na,       Na,       Na,       Na,     Na,     Na,      Na,     Na]),
    ("GET /admin/audit",   Owner::B,       [Na,       Na,       Na,       Na,       Na,     Na,     Na,      Na,     Na]),
    ("GET /admin/audit",   Owner::Sector,  [Na,       Na,       Na,       Na,       Na,     Na,     Na,      Na,     Na]),
    ("GET /admin/audit",   Owner::Mission, [Forbid,   Forbid,   Forbid,   Forbid,   Forbid, Ok,     Revoked, Unauth, Unauth]),
];

/// `POST /push visit` → `(POST, /push)`.
fn endpoint_of(row: &str) -> (Method, String) {
    let mut parts = row.split_whitespace();
    let method = Method::from_bytes(parts.next().unwrap().as_bytes()).unwrap();
    (method, parts.next().unwrap().to_owned())
}

#[test]
fn the_matrix_has_every_owner_of_every_endpoint_of_the_router_and_no_other() {
    let routed: BTreeSet<(String, String)> = fieldconsult_server::app::endpoints()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_owned()))
        .collect();
    let tabled: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(row, _, _)| {
            let (m, p) = endpoint_of(row);
            (m.to_string(), p)
        })
        .collect();
    assert_eq!(
        routed, tabled,
        "every endpoint of the router needs rows in MATRIX, and MATRIX no others"
    );
    let mut rows: Vec<&str> = MATRIX.iter().map(|(r, _, _)| *r).collect();
    rows.dedup();
    for row in rows {
        for owner in OWNERS {
            let n = MATRIX
                .iter()
                .filter(|(r, o, _)| *r == row && *o == owner)
                .count();
            assert_eq!(n, 1, "{row} needs exactly one row for {owner:?}");
        }
    }
}

/// The world the matrix runs in.
struct World {
    server: Server,
    /// Tokens of the principals; `None` for "no token".
    tokens: [Option<String>; 9],
    team_a2: Team,
    authors: [String; 3],
    month: Month,
    /// Ids and names that must never appear in a refused body.
    secrets: Vec<String>,
    /// A session of each of team A, team B, team A2, pushed by their author devices.
    sessions: [Session; 3],
}

impl World {
    async fn new() -> Self {
        let server = Server::unlimited();
        let team_a2 = fieldconsult_server::admin::add_team(
            server.storage.as_ref(),
            "Engagement Team A2",
            "West",
        )
        .unwrap();
        let authors = [
            server.member(&server.team_a).await,
            server.member(&server.team_b).await,
            server.member(&team_a2).await,
        ];
        let mut sessions = Vec::new();
        let mut secrets = vec![
            server.team_a.id.to_string(),
            server.team_b.id.to_string(),
            team_a2.id.to_string(),
            server.team_a.name.clone(),
            server.team_b.name.clone(),
            team_a2.name.clone(),
            server.community.id.to_string(),
            server.community.name.clone(),
            "West".to_owned(),
            "East".to_owned(),
        ];
        for (team, author) in [&server.team_a, &server.team_b, &team_a2]
            .into_iter()
            .zip(&authors)
        {
            let visit = server.visit(team);
            let session = submitted_session(&visit);
            server
                .push(author, visit_and_session(&visit, &session))
                .await;
            secrets.push(visit.id.to_string());
            secrets.push(session.id.to_string());
            sessions.push(session);
        }
        let revoked = server
            .enrol(Role::TeamMember {
                team_id: server.team_a.id,
            })
            .await;
        fieldconsult_server::admin::revoke(server.storage.as_ref(), &revoked.device_id).unwrap();
        let tokens = [
            Some(server.member(&server.team_a).await),
            Some(server.member(&server.team_b).await),
            Some(server.reviewer("West").await),
            Some(server.reviewer("East").await),
            Some(server.enrol(Role::HqAnalyst).await.token),
            Some(server.enrol(Role::Admin).await.token),
            Some(revoked.token),
            None,
            Some("f".repeat(64)),
        ];
        let month = Month::of((Utc::now() - Duration::hours(2)).date_naive());
        World {
            server,
            tokens,
            team_a2,
            authors,
            month,
            secrets,
            sessions: sessions.try_into().unwrap(),
        }
    }

    fn team(&self, owner: Owner) -> &Team {
        match owner {
            Owner::A => &self.server.team_a,
            Owner::B => &self.server.team_b,
            Owner::Sector | Owner::Mission => &self.team_a2,
        }
    }

    fn role(&self, owner: Owner) -> Role {
        match owner {
            Owner::A | Owner::B => Role::TeamMember {
                team_id: self.team(owner).id,
            },
            Owner::Sector => Role::Reviewer {
                sector: "West".to_owned(),
            },
            Owner::Mission => Role::HqAnalyst,
        }
    }

    fn session(&self, owner: Owner) -> &Session {
        match owner {
            Owner::A => &self.sessions[0],
            Owner::B => &self.sessions[1],
            Owner::Sector | Owner::Mission => &self.sessions[2],
        }
    }

    /// Sends the request of `row` for `owner` as principal `p`; returns the reply and,
    /// for the cells that look into a body, the id to look for.
    async fn request(&self, row: &str, owner: Owner, p: usize) -> (Reply, Option<String>) {
        let token = self.tokens[p].as_deref();
        let s = &self.server;
        match row {
            "POST /enrol" => {
                let code = s.code(&self.role(owner));
                let body = serde_json::json!({
                    "code": code,
                    "device_label": "matrix",
                    "public_key": common::new_key().public_key().to_hex(),
                });
                (
                    s.post("/v1/enrol", token, serde_json::to_vec(&body).unwrap())
                        .await,
                    None,
                )
            }
            "POST /push visit" => {
                let record = match owner {
                    Owner::Mission => Record::Community(Community {
                        id: CommunityId::new(),
                        name: "Found on patrol".to_owned(),
                        admin_area: "North District".to_owned(),
                        location: None,
                    }),
                    _ => Record::Visit(s.visit(self.team(owner))),
                };
                (s.push_raw_as(token, vec![new_change(record)]).await, None)
            }
            "POST /push review" => {
                // A fresh submitted session each time: an acceptance is final.
                let owner_team = self.team(owner).clone();
                let author = &self.authors[match owner {
                    Owner::A => 0,
                    Owner::B => 1,
                    _ => 2,
                }];
                let visit: Visit = s.visit(&owner_team);
                let session = submitted_session(&visit);
                s.push(author, visit_and_session(&visit, &session)).await;
                let review = acceptance(&session);
                (
                    s.push_raw_as(token, vec![new_change(Record::Review(review))])
                        .await,
                    None,
                )
            }
            "GET /pull" => {
                let look_for = match owner {
                    Owner::Mission => s.community.id.to_string(),
                    _ => self.session(owner).id.to_string(),
                };
                (s.get("/v1/pull?after=0", token).await, Some(look_for))
            }
            "GET /reports/monthly" => {
                let scope = match owner {
                    Owner::A | Owner::B => format!("scope=team&team={}", self.team(owner).id),
                    Owner::Sector => "scope=sector&sector=West".to_owned(),
                    Owner::Mission => "scope=mission".to_owned(),
                };
                let path = format!(
                    "/v1/reports/monthly?month={}&{scope}&why=matrix",
                    self.month
                );
                (s.get(&path, token).await, None)
            }
            "GET /export" => (
                s.get(
                    &format!("/v1/export?month={}&why=matrix", self.month),
                    token,
                )
                .await,
                None,
            ),
            "GET /admin/devices" => (s.get("/v1/admin/devices", token).await, None),
            "POST /admin/devices/{id}/revoke" => {
                let victim = s.enrol(self.role(owner)).await.device_id;
                let reply = s
                    .post(
                        &format!("/v1/admin/devices/{victim}/revoke"),
                        token,
                        Vec::new(),
                    )
                    .await;
                (reply, Some(victim))
            }
            "POST /admin/enrolment-codes" => {
                let body = serde_json::json!({"role": self.role(owner), "ttl_hours": 2});
                (
                    s.post(
                        "/v1/admin/enrolment-codes",
                        token,
                        serde_json::to_vec(&body).unwrap(),
                    )
                    .await,
                    None,
                )
            }
            "GET /admin/audit" => (s.get("/v1/admin/audit", token).await, None),
            other => panic!("no request for matrix row {other}"),
        }
    }
}

impl Server {
    async fn push_raw_as(
        &self,
        token: Option<&str>,
        changes: Vec<fieldconsult_model::wire::PushChange>,
    ) -> Reply {
        // Signed as the device behind the token, so that the role, not the signature,
        // decides each cell.
        let signer = token.and_then(|t| self.keys.lock().unwrap().get(t).cloned());
        let changes = changes
            .into_iter()
            .map(|c| match &signer {
                Some((device, key)) => common::sign(c, device, key),
                None => c,
            })
            .collect();
        let body = serde_json::to_vec(&fieldconsult_model::wire::PushRequest { changes }).unwrap();
        self.post("/v1/push", token, body).await
    }
}

fn problem_type(reply: &Reply) -> String {
    serde_json::from_slice::<serde_json::Value>(&reply.body)
        .ok()
        .and_then(|v| v["type"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Checks one cell; returns what was wrong, if anything.
fn check(world: &World, cell: Cell, reply: &Reply, look_for: Option<&str>) -> Option<String> {
    let body = String::from_utf8_lossy(&reply.body);
    let refused = matches!(cell, Unauth | Forbid | Revoked);
    if refused {
        for secret in world.secrets.iter().map(String::as_str).chain(look_for) {
            if body.contains(secret) {
                return Some(format!("refused body holds `{secret}`: {body}"));
            }
        }
    }
    let status_ok = match cell {
        Ok => reply.status == StatusCode::OK || reply.status == StatusCode::CREATED,
        Stored | Rejected | Sees | Hidden => reply.status == StatusCode::OK,
        Unauth => {
            reply.status == StatusCode::UNAUTHORIZED
                && problem_type(reply) == "/problems/unauthorized"
        }
        Forbid => {
            reply.status == StatusCode::FORBIDDEN && problem_type(reply) == "/problems/forbidden"
        }
        Revoked => {
            reply.status == StatusCode::FORBIDDEN && problem_type(reply) == "/problems/revoked"
        }
        Na => true,
    };
    if !status_ok {
        return Some(format!("answered {}: {body}", reply.status));
    }
    match cell {
        Stored | Rejected => {
            let Some(ack) = serde_json::from_slice::<PushResponse>(&reply.body)
                .ok()
                .and_then(|r| r.acks.into_iter().next())
            else {
                return Some(format!("no ack in {body}"));
            };
            let outcome = &ack.outcome;
            let fine = match cell {
                Stored => *outcome == AckOutcome::Stored,
                _ => {
                    matches!(outcome, AckOutcome::Rejected { reason, .. } if reason == "forbidden")
                }
            };
            (!fine).then(|| format!("push outcome {outcome:?}"))
        }
        Sees | Hidden => {
            let (Result::Ok(page), Some(id)) = (
                serde_json::from_slice::<PullResponse>(&reply.body),
                look_for,
            ) else {
                return Some(format!("no pull page in {body}"));
            };
            let seen = page.records.iter().any(|r| r.record.id() == id);
            (seen != (cell == Sees)).then(|| format!("pull: seen = {seen}"))
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_principal_gets_exactly_its_cell_of_the_matrix_and_refusals_carry_no_data() {
    let world = World::new().await;
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (row, owner, cells) in MATRIX {
        for (p, cell) in cells.iter().enumerate() {
            if *cell == Na {
                continue;
            }
            let (reply, look_for) = world.request(row, *owner, p).await;
            checked += 1;
            if let Some(what) = check(&world, *cell, &reply, look_for.as_deref()) {
                wrong.push(format!(
                    "{row} × {owner:?} × {}: expected {cell:?}, {what}",
                    PRINCIPALS[p]
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {checked} cells wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(checked > 200);
}
