//! Typed identifiers. Every id is a UUIDv7: time-ordered, so indexes stay compact and ids
//! minted offline on different devices never collide.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
/// The UUID type behind every id, re-exported so that dependents need not pin `uuid`.
pub use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh UUIDv7 id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    };
}

id_type!(
    /// Identifies an engagement team or patrol unit.
    TeamId
);
id_type!(
    /// Identifies a community (village, settlement, camp).
    CommunityId
);
id_type!(
    /// Identifies one team's visit to one community.
    VisitId
);
id_type!(
    /// Identifies one consultation session within a visit.
    SessionId
);
id_type!(
    /// Identifies a review decision on a session.
    ReviewId
);
id_type!(
    /// Identifies an addendum to an accepted session.
    AddendumId
);
id_type!(
    /// Identifies a service of the referral directory.
    ReferralServiceId
);
