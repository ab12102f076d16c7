//! Text in the scripts field teams write in survives normalisation, validation and JSON
//! unchanged; decomposed input is composed once and then stays put.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration;
use common::*;
use fieldconsult_model::validation::{
    validate_addendum, validate_community, validate_referral_service, validate_review,
    validate_team, validate_visit,
};
use fieldconsult_model::{
    Addendum, AddendumId, AffectedGroup, ChecklistAnswer, Community, CommunityId, ConcernCategory,
    Decision, Group, InterpreterSex, Problem, ReferralService, ReferralServiceId,
    ReferralServiceKind, Review, ReviewId, Session, SessionId, Team, TeamId, TopicResponse,
    Urgency, Visit, VisitId,
};

/// Arabic with right-to-left marks (U+200F) around a number.
const ARABIC: &str = "نقص المياه\u{200F} منذ 3\u{200F} أشهر";
/// Amharic (Ethiopic script).
const AMHARIC: &str = "የውሃ እጥረት እና የደህንነት ስጋት";
/// Burmese, with medials, asat and dot below in canonical order.
const BURMESE: &str = "ရေ မလုံလောက်ခြင်း နှင့် လုံခြုံရေး";
/// Emoji with skin tone and zero-width-joiner sequences.
const EMOJI: &str = "👩🏽‍⚕️ clinique mobile 👨‍👩‍👧‍👦 🏳️‍🌈";
/// French, composed (NFC).
const FRENCH_NFC: &str = "Sécurité à l'école, où ça ?";
/// The same French, decomposed (NFD), as some keyboards produce it.
const FRENCH_NFD: &str = "Se\u{301}curite\u{301} a\u{300} l'e\u{301}cole, ou\u{300} c\u{327}a ?";

const SAMPLES: [(&str, &str); 5] = [
    ("Arabic", ARABIC),
    ("Amharic", AMHARIC),
    ("Burmese", BURMESE),
    ("emoji", EMOJI),
    ("French", FRENCH_NFC),
];

/// A women's session with `text` in every text field, answering one extra topic so that the
/// answer topic can hold `text` too.
fn session_with(text: &str) -> Session {
    let mut s = complete(Group::Women);
    let t = text.to_owned();
    s.interpreter.sex = InterpreterSex::Female;
    s.interpreter.language = t.clone();
    for a in &mut s.answers {
        a.note = format!("{t}\n\t{t}");
    }
    s.answers.push(ChecklistAnswer {
        topic: t.clone(),
        response: TopicResponse::Discussed,
        note: t.clone(),
    });
    s.priorities = vec![
        fieldconsult_model::Priority {
            note: t.clone(),
            ..other_priority(1, text)
        },
        fieldconsult_model::Priority {
            note: format!("{t}\n{t}"),
            ..priority(2, fieldconsult_model::PriorityCategory::Water)
        },
    ];
    let mut c = concern(
        ConcernCategory::MovementRestriction,
        &[AffectedGroup::Women, AffectedGroup::Girls],
        Urgency::Urgent,
    );
    c.location = t.clone();
    c.timing = t.clone();
    c.note = t.clone();
    s.concerns = vec![c];
    s.sensitive_note = format!("{t}\n{t}");
    s
}

/// How many text fields [`session_with`] writes: the interpreter's language, the sensitive
/// note, the notes of the 11 default answers, the extra answer's topic and note, the `other`
/// label and two priority notes, and the concern's location, timing and note.
const FIELDS_WITH_TEXT: usize = 21;

/// Every text field of a session, in a fixed order.
fn texts(s: &Session) -> Vec<String> {
    let mut v = vec![s.interpreter.language.clone(), s.sensitive_note.clone()];
    for a in &s.answers {
        v.extend([a.topic.clone(), a.note.clone()]);
    }
    for p in &s.priorities {
        v.extend([p.other_label.clone(), p.note.clone()]);
    }
    for c in &s.concerns {
        v.extend([c.location.clone(), c.timing.clone(), c.note.clone()]);
    }
    v
}

#[test]
fn the_samples_are_what_they_claim_to_be() {
    assert!(ARABIC.contains('\u{200F}'));
    assert!(EMOJI.contains('\u{200D}') && EMOJI.contains("👩🏽‍⚕️"));
    assert!(AMHARIC.len() > 2 * AMHARIC.chars().count());
    assert_ne!(FRENCH_NFD, FRENCH_NFC);
    assert_eq!(fieldconsult_model::text::nfc(FRENCH_NFD), FRENCH_NFC);
    for (name, text) in SAMPLES {
        assert_eq!(fieldconsult_model::text::nfc(text), text, "{name} is NFC");
    }
}

#[test]
fn every_script_in_every_session_field_survives_normalize_validate_and_json_unchanged() {
    for (name, text) in SAMPLES {
        let original = session_with(text);
        let mut s = original.clone();
        s.normalize();
        assert_eq!(s, original, "{name}: normalize changed NFC text");
        assert_eq!(check_draft(&s), Ok(()), "{name}");

        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(text), "{name}: JSON keeps the text unescaped");
        let back: Session = serde_json::from_str(&json).unwrap();
        assert_eq!(back, original, "{name}: JSON round trip");
        let holding = texts(&back).iter().filter(|t| t.contains(text)).count();
        assert_eq!(holding, FIELDS_WITH_TEXT, "{name}");
    }
}

#[test]
fn a_session_in_any_script_can_be_submitted_once_its_topics_are_checklist_codes() {
    for (name, text) in SAMPLES {
        let mut s = session_with(text);
        s.answers.pop();
        s.normalize();
        assert_eq!(check_submit(&s), Ok(()), "{name}");
    }
}

#[test]
fn decomposed_french_is_refused_then_composed_by_normalize_and_then_stable() {
    let mut s = session_with(FRENCH_NFD);
    let errs = check_draft(&s).unwrap_err();
    assert_eq!(errs.errors().len(), FIELDS_WITH_TEXT, "{errs}");
    assert!(
        errs.errors()
            .iter()
            .all(|e| e.problem == Problem::NotNormalized)
    );

    s.normalize();
    assert_eq!(s, session_with(FRENCH_NFC).with_ids_of(&s));
    assert_eq!(check_draft(&s), Ok(()));

    let back: Session = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
    let mut again = back.clone();
    again.normalize();
    assert_eq!(again, back);
}

/// Lets a freshly built fixture be compared with one built earlier.
trait WithIds {
    fn with_ids_of(self, other: &Self) -> Self;
}

impl WithIds for Session {
    fn with_ids_of(mut self, other: &Self) -> Self {
        self.id = other.id;
        self.visit_id = other.visit_id;
        self
    }
}

#[test]
fn two_hundred_characters_of_any_script_fit_a_single_line_field_but_not_two_hundred_and_one() {
    for (name, text) in SAMPLES {
        let of_len = |n: usize| -> String { text.chars().cycle().take(n).collect() };
        let (fits, too_long) = (of_len(200), of_len(201));
        assert!(fits.len() > 200, "{name}: more bytes than characters");
        let mut s = draft(Group::Women);
        s.interpreter.sex = InterpreterSex::Male;
        s.interpreter.language = fits;
        assert_eq!(check_draft(&s), Ok(()), "{name}");
        s.interpreter.language = too_long;
        assert_eq!(
            check_draft(&s).unwrap_err().problem("interpreter.language"),
            Some(&Problem::TooLong {
                max: 200,
                actual: 201
            }),
            "{name}"
        );
    }
}

#[test]
fn every_script_survives_in_the_other_records_too() {
    for (name, text) in SAMPLES {
        let t = text.to_owned();
        let team = Team {
            id: TeamId::new(),
            name: t.clone(),
            sector: t.clone(),
        };
        let community = Community {
            id: CommunityId::new(),
            name: t.clone(),
            admin_area: t.clone(),
            location: None,
        };
        let service = ReferralService {
            id: ReferralServiceId::new(),
            name: t.clone(),
            kind: ReferralServiceKind::Psychosocial,
            area: t.clone(),
        };
        let visit = Visit {
            id: VisitId::new(),
            team_id: team.id,
            community_id: community.id,
            started_at: now_plus(Duration::hours(-3)),
            ended_at: None,
            notes: format!("{t}\n{t}"),
        };
        let review = Review {
            id: ReviewId::new(),
            session_id: SessionId::new(),
            reviewer: "gfp-1".to_owned(),
            decision: Decision::Returned,
            comment: t.clone(),
            at: now_plus(Duration::minutes(-1)),
        };
        let addendum = Addendum {
            id: AddendumId::new(),
            session_id: SessionId::new(),
            author: "et-2".to_owned(),
            text: t.clone(),
            at: now_plus(Duration::minutes(-1)),
        };

        let (mut t2, mut c2, mut s2, mut v2, mut r2, mut a2) = (
            team.clone(),
            community.clone(),
            service.clone(),
            visit.clone(),
            review.clone(),
            addendum.clone(),
        );
        t2.normalize();
        c2.normalize();
        s2.normalize();
        v2.normalize();
        r2.normalize();
        a2.normalize();
        assert_eq!(
            (&t2, &c2, &s2, &v2, &r2, &a2),
            (&team, &community, &service, &visit, &review, &addendum),
            "{name}"
        );
        assert_eq!(validate_team(&team), Ok(()), "{name}");
        assert_eq!(validate_community(&community), Ok(()), "{name}");
        assert_eq!(validate_referral_service(&service), Ok(()), "{name}");
        assert_eq!(validate_visit(&visit, &ctx()), Ok(()), "{name}");
        assert_eq!(validate_review(&review, &ctx()), Ok(()), "{name}");
        assert_eq!(validate_addendum(&addendum, &ctx()), Ok(()), "{name}");

        fn round<T: serde::Serialize + serde::de::DeserializeOwned>(v: &T) -> T {
            serde_json::from_str(&serde_json::to_string(v).unwrap()).unwrap()
        }
        assert_eq!(round(&team), team, "{name}");
        assert_eq!(round(&community), community, "{name}");
        assert_eq!(round(&service), service, "{name}");
        assert_eq!(round(&visit), visit, "{name}");
        assert_eq!(round(&review), review, "{name}");
        assert_eq!(round(&addendum), addendum, "{name}");
    }
}
