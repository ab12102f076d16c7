//! The checklist of topics a patrol covers in a consultation: a versioned template published
//! by the mission, with labels per language. A session records which version it answered.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The languages FieldConsult's built-in labels exist in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// English.
    En,
    /// French.
    Fr,
}

impl Language {
    /// The BCP 47 tag (`en`, `fr`), the key of label maps.
    pub fn tag(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
        }
    }
}

/// One topic of a checklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistTopic {
    /// Stable code, unique within the template (`needs_priorities`).
    pub code: String,
    /// Label per BCP 47 language tag (`en`, `fr`, `ar`, ...).
    pub labels: BTreeMap<String, String>,
    /// A session cannot be submitted without an answer to a required topic.
    pub required: bool,
}

impl ChecklistTopic {
    /// The label in `tag`, falling back to English, then to the code.
    pub fn label(&self, tag: &str) -> &str {
        self.labels
            .get(tag)
            .or_else(|| self.labels.get("en"))
            .map(String::as_str)
            .unwrap_or(&self.code)
    }
}

/// A versioned checklist template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistTemplate {
    /// Version number, increasing with each publication.
    pub version: u32,
    /// Topics in the order a patrol goes through them.
    pub topics: Vec<ChecklistTopic>,
}

impl ChecklistTemplate {
    /// The topic with `code`, if the template has it.
    pub fn topic(&self, code: &str) -> Option<&ChecklistTopic> {
        self.topics.iter().find(|t| t.code == code)
    }

    /// The default checklist FieldConsult ships (version 1), covering what lesson 2.7 tells a
    /// patrol to ask and observe, in English and French.
    pub fn default_v1() -> Self {
        const TOPICS: &[(&str, &str, &str, bool)] = &[
            (
                "community_status",
                "Status of the community and what has changed since the last visit",
                "Situation de la communauté et changements depuis la dernière visite",
                true,
            ),
            (
                "needs_priorities",
                "Needs, and the highest priorities of this group (ranked)",
                "Besoins et priorités principales de ce groupe (classées)",
                true,
            ),
            (
                "threats",
                "Threats to the community and who they threaten (women, girls, men, boys, elderly)",
                "Menaces pour la communauté et qui elles visent (femmes, filles, hommes, garçons, personnes âgées)",
                true,
            ),
            (
                "conflict_impact",
                "Impact of the conflict on this group's daily life and livelihoods",
                "Impact du conflit sur la vie quotidienne et les moyens de subsistance de ce groupe",
                true,
            ),
            (
                "safety_food_fuel_water",
                "Safety when fetching food, fuel and water: where, when, is it safe, do women feel as safe as men",
                "Sécurité pour aller chercher nourriture, combustible et eau : où, quand, est-ce sûr, les femmes se sentent-elles aussi en sécurité que les hommes",
                true,
            ),
            (
                "way_to_school",
                "Children's way to school and the different risks for girls and boys",
                "Trajet des enfants vers l'école et risques différents pour les filles et les garçons",
                false,
            ),
            (
                "freedom_of_movement",
                "Freedom of movement, checkpoints, curfews",
                "Liberté de mouvement, points de contrôle, couvre-feux",
                true,
            ),
            (
                "early_warning",
                "Early-warning signs (armed group presence, arms, planned violence, tensions)",
                "Signes d'alerte précoce (présence de groupes armés, armes, violences planifiées, tensions)",
                true,
            ),
            (
                "access_to_services",
                "Access to services (health, justice, documentation) and to the mission",
                "Accès aux services (santé, justice, documents) et à la mission",
                false,
            ),
            (
                "participation",
                "Participation in community decisions and in peace or political processes",
                "Participation aux décisions communautaires et aux processus de paix ou politiques",
                false,
            ),
            (
                "who_was_missing",
                "Who was not in the room (groups left out, people more vulnerable or marginalised)",
                "Qui n'était pas présent (groupes exclus, personnes plus vulnérables ou marginalisées)",
                true,
            ),
        ];
        ChecklistTemplate {
            version: 1,
            topics: TOPICS
                .iter()
                .map(|(code, en, fr, required)| ChecklistTopic {
                    code: (*code).to_owned(),
                    labels: BTreeMap::from([
                        ("en".to_owned(), (*en).to_owned()),
                        ("fr".to_owned(), (*fr).to_owned()),
                    ]),
                    required: *required,
                })
                .collect(),
        }
    }
}
