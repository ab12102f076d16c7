//! The fixed taxonomies of DESIGN.md: priority and concern categories, who a concern affects,
//! urgency, and the focus tags of a session. Codes are stable snake_case strings on the wire
//! and in storage; labels exist in English and French.

use serde::{Deserialize, Serialize};

use crate::checklist::Language;

macro_rules! taxonomy {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal, $en:literal, $fr:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable code used on the wire and in storage.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// Parses a stable code.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            /// The human label in `lang`.
            pub fn label(self, lang: Language) -> &'static str {
                match (self, lang) {
                    $(($name::$variant, Language::En) => $en, ($name::$variant, Language::Fr) => $fr,)+
                }
            }
        }
    };
}

taxonomy!(
    /// What a group names among its highest priorities.
    PriorityCategory {
        /// Drinking and domestic water.
        Water = "water", "Water", "Eau";
        /// Food.
        Food = "food", "Food", "Nourriture";
        /// Fuel and firewood.
        FuelAndFirewood = "fuel_and_firewood", "Fuel and firewood", "Combustible et bois de chauffe";
        /// Moving safely: to fields, markets, water points, schools.
        SafeMovement = "safe_movement", "Safe movement", "Déplacements en sécurité";
        /// Security and protection.
        SecurityAndProtection = "security_and_protection", "Security and protection", "Sécurité et protection";
        /// Schools.
        Schools = "schools", "Schools", "Écoles";
        /// Health.
        Health = "health", "Health", "Santé";
        /// Livelihoods and work.
        LivelihoodsAndWork = "livelihoods_and_work", "Livelihoods and work", "Moyens de subsistance et travail";
        /// Justice.
        Justice = "justice", "Justice", "Justice";
        /// Shelter.
        Shelter = "shelter", "Shelter", "Abri";
        /// Civil documentation.
        Documentation = "documentation", "Documentation", "Documents d'état civil";
        /// Participation in community decisions.
        ParticipationInDecisions = "participation_in_decisions", "Participation in decisions", "Participation aux décisions";
        /// Return and land.
        ReturnAndLand = "return_and_land", "Return and land", "Retour et terres";
        /// Anything else; the priority carries its own label.
        Other = "other", "Other", "Autre";
    }
);

taxonomy!(
    /// The kind of a protection concern raised in a session.
    ConcernCategory {
        /// Presence of an armed group.
        ArmedGroupPresence = "armed_group_presence", "Armed group presence", "Présence de groupes armés";
        /// Restrictions on movement: checkpoints, curfews.
        MovementRestriction = "movement_restriction", "Movement restriction", "Restriction de mouvement";
        /// Risk of sexual violence. Never recorded in detail: a referral is offered instead.
        SexualViolenceRisk = "sexual_violence_risk", "Sexual violence risk", "Risque de violences sexuelles";
        /// Recruitment of children.
        ChildRecruitment = "child_recruitment", "Child recruitment", "Recrutement d'enfants";
        /// Abduction.
        Abduction = "abduction", "Abduction", "Enlèvement";
        /// Theft and looting.
        TheftAndLooting = "theft_and_looting", "Theft and looting", "Vols et pillages";
        /// Dispute over land or resources.
        LandOrResourceDispute = "land_or_resource_dispute", "Land or resource dispute", "Conflit foncier ou de ressources";
        /// Tension between communities.
        IntercommunalTension = "intercommunal_tension", "Intercommunal tension", "Tensions intercommunautaires";
        /// An early-warning sign of violence.
        EarlyWarningSign = "early_warning_sign", "Early-warning sign", "Signe d'alerte précoce";
        /// Anything else.
        Other = "other", "Other", "Autre";
    }
);

taxonomy!(
    /// Who a concern affects.
    AffectedGroup {
        /// Women.
        Women = "women", "Women", "Femmes";
        /// Girls.
        Girls = "girls", "Girls", "Filles";
        /// Men.
        Men = "men", "Men", "Hommes";
        /// Boys.
        Boys = "boys", "Boys", "Garçons";
        /// Elderly people.
        Elderly = "elderly", "Elderly people", "Personnes âgées";
    }
);

taxonomy!(
    /// How fast a concern needs attention. Urgent concerns jump the sync queue.
    Urgency {
        /// Reported in the ordinary flow.
        Routine = "routine", "Routine", "Routine";
        /// To be looked at soon.
        Priority = "priority", "Priority", "Prioritaire";
        /// Needs action now; flagged to reviewers and synced first.
        Urgent = "urgent", "Urgent", "Urgent";
    }
);

taxonomy!(
    /// Groups a session deliberately reached, beyond its women / men / mixed group.
    FocusTag {
        /// Elderly people.
        Elderly = "elderly", "Elderly people", "Personnes âgées";
        /// Youth.
        Youth = "youth", "Youth", "Jeunes";
        /// Persons with disabilities.
        PersonsWithDisabilities = "persons_with_disabilities", "Persons with disabilities", "Personnes handicapées";
        /// Displaced people.
        Displaced = "displaced", "Displaced people", "Personnes déplacées";
        /// Minority or indigenous people.
        MinorityOrIndigenous = "minority_or_indigenous", "Minority or indigenous people", "Minorités ou peuples autochtones";
        /// Caregivers.
        Caregivers = "caregivers", "Caregivers", "Aidants";
    }
);
