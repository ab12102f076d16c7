//! The rules of every record other than a session.

use std::collections::BTreeSet;

use chrono::Utc;

use super::{Problem, Report, ValidationContext, ValidationErrors};
use crate::checklist::ChecklistTemplate;
use crate::crypto::seal::MAX_RECIPIENTS;
use crate::reference::{Community, ReferralService, SealingKeys, Team};
use crate::review::{Addendum, Decision, Review};
use crate::text::{MAX_ID, MAX_LINE, MAX_NOTE, TextKind, normalize_in_place};
use crate::time::round_to_stored_precision;
use crate::visit::Visit;

impl Team {
    /// NFC-normalises every text field in place.
    pub fn normalize(&mut self) {
        normalize_in_place(&mut self.name);
        normalize_in_place(&mut self.sector);
    }
}

impl Community {
    /// NFC-normalises every text field in place.
    pub fn normalize(&mut self) {
        normalize_in_place(&mut self.name);
        normalize_in_place(&mut self.admin_area);
    }
}

impl ReferralService {
    /// NFC-normalises every text field in place.
    pub fn normalize(&mut self) {
        normalize_in_place(&mut self.name);
        normalize_in_place(&mut self.area);
    }
}

impl SealingKeys {
    /// NFC-normalises the sector name in place (keys are hex, already checked).
    pub fn normalize(&mut self) {
        normalize_in_place(&mut self.sector);
    }
}

impl Visit {
    /// NFC-normalises every text field and truncates times to milliseconds, in place.
    pub fn normalize(&mut self) {
        round_to_stored_precision(&mut self.started_at);
        if let Some(t) = &mut self.ended_at {
            round_to_stored_precision(t);
        }
        normalize_in_place(&mut self.notes);
    }
}

impl Review {
    /// NFC-normalises every text field and truncates the time to milliseconds, in place.
    pub fn normalize(&mut self) {
        round_to_stored_precision(&mut self.at);
        normalize_in_place(&mut self.reviewer);
        normalize_in_place(&mut self.comment);
    }
}

impl Addendum {
    /// NFC-normalises every text field and truncates the time to milliseconds, in place.
    pub fn normalize(&mut self) {
        round_to_stored_precision(&mut self.at);
        normalize_in_place(&mut self.author);
        normalize_in_place(&mut self.text);
    }
}

impl ChecklistTemplate {
    /// NFC-normalises every text field in place.
    pub fn normalize(&mut self) {
        for t in &mut self.topics {
            normalize_in_place(&mut t.code);
            let labels = std::mem::take(&mut t.labels);
            t.labels = labels
                .into_iter()
                .map(|(mut k, mut v)| {
                    normalize_in_place(&mut k);
                    normalize_in_place(&mut v);
                    (k, v)
                })
                .collect();
        }
    }
}

/// Checks a team.
pub fn validate_team(team: &Team) -> Result<(), ValidationErrors> {
    let mut r = Report::default();
    r.required_text("name", &team.name, TextKind::Line, MAX_LINE);
    r.required_text("sector", &team.sector, TextKind::Line, MAX_LINE);
    r.finish()
}

/// Checks a community: name, area, and a location inside the globe.
pub fn validate_community(c: &Community) -> Result<(), ValidationErrors> {
    let mut r = Report::default();
    r.required_text("name", &c.name, TextKind::Line, MAX_LINE);
    r.text("admin_area", &c.admin_area, TextKind::Line, MAX_LINE);
    if let Some(loc) = c.location {
        if !(-90.0..=90.0).contains(&loc.lat) {
            r.add("location.lat", Problem::OutOfRange { min: -90, max: 90 });
        }
        if !(-180.0..=180.0).contains(&loc.lon) {
            r.add(
                "location.lon",
                Problem::OutOfRange {
                    min: -180,
                    max: 180,
                },
            );
        }
    }
    r.finish()
}

/// Checks a service of the referral directory.
pub fn validate_referral_service(s: &ReferralService) -> Result<(), ValidationErrors> {
    let mut r = Report::default();
    r.required_text("name", &s.name, TextKind::Line, MAX_LINE);
    r.text("area", &s.area, TextKind::Line, MAX_LINE);
    r.finish()
}

/// Checks a visit: times and notes.
pub fn validate_visit(v: &Visit, ctx: &ValidationContext) -> Result<(), ValidationErrors> {
    let mut r = Report::default();
    r.time("started_at", &v.started_at, ctx);
    if let Some(end) = &v.ended_at {
        if end.with_timezone(&Utc) < v.started_at.with_timezone(&Utc) {
            r.add("ended_at", Problem::BeforeStart);
        } else {
            r.time("ended_at", end, ctx);
        }
    }
    r.text("notes", &v.notes, TextKind::Note, MAX_NOTE);
    r.finish()
}

/// Checks a review: a returned session always carries a comment for the team.
pub fn validate_review(v: &Review, ctx: &ValidationContext) -> Result<(), ValidationErrors> {
    let mut r = Report::default();
    r.required_text("reviewer", &v.reviewer, TextKind::Line, MAX_ID);
    match v.decision {
        Decision::Returned => r.required_text("comment", &v.comment, TextKind::Note, MAX_NOTE),
        Decision::Accepted => r.text("comment", &v.comment, TextKind::Note, MAX_NOTE),
    }
    r.time("at", &v.at, ctx);
    r.finish()
}

/// Checks an addendum.
pub fn validate_addendum(a: &Addendum, ctx: &ValidationContext) -> Result<(), ValidationErrors> {
    let mut r = Report::default();
    r.required_text("author", &a.author, TextKind::Line, MAX_ID);
    r.required_text("text", &a.text, TextKind::Note, MAX_NOTE);
    r.time("at", &a.at, ctx);
    r.finish()
}

/// Checks a checklist template: unique snake_case codes, each with an English label.
pub fn validate_checklist(c: &ChecklistTemplate) -> Result<(), ValidationErrors> {
    let mut r = Report::default();
    if c.version == 0 {
        r.add(
            "version",
            Problem::OutOfRange {
                min: 1,
                max: i64::from(u32::MAX),
            },
        );
    }
    if c.topics.is_empty() {
        r.add("topics", Problem::Required);
    }
    let mut codes = BTreeSet::new();
    for (i, t) in c.topics.iter().enumerate() {
        let field = format!("topics[{i}].code");
        let well_formed = !t.code.is_empty()
            && t.code.len() <= 64
            && t.code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !well_formed {
            r.add(field, Problem::InvalidFormat);
        } else if !codes.insert(t.code.as_str()) {
            r.add(field, Problem::Duplicate);
        }
        if !t.labels.contains_key("en") {
            r.add(format!("topics[{i}].labels.en"), Problem::Required);
        }
        for (lang, label) in &t.labels {
            r.required_text(
                format!("topics[{i}].labels.{lang}"),
                label,
                TextKind::Line,
                MAX_NOTE,
            );
        }
    }
    r.finish()
}

/// Checks a sector's sealing keys: a sector, at least one focal point key, no key twice, and
/// no more keys than a sealed note carries copies.
pub fn validate_sealing_keys(k: &SealingKeys) -> Result<(), ValidationErrors> {
    let mut r = Report::default();
    r.required_text("sector", &k.sector, TextKind::Line, MAX_LINE);
    if k.focal_point_keys.is_empty() {
        r.add("focal_point_keys", Problem::Required);
    }
    let all = k.recipients();
    if all.len() > MAX_RECIPIENTS {
        r.add(
            "focal_point_keys",
            Problem::TooLong {
                max: MAX_RECIPIENTS,
                actual: all.len(),
            },
        );
    }
    let mut seen = BTreeSet::new();
    for (i, key) in k.focal_point_keys.iter().enumerate() {
        if !seen.insert(key) {
            r.add(format!("focal_point_keys[{i}]"), Problem::Duplicate);
        }
    }
    if let Some(e) = &k.escrow_key
        && seen.contains(e)
    {
        r.add("escrow_key", Problem::Duplicate);
    }
    r.finish()
}
