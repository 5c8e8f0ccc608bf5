//! Earshot's vocabulary, free of any platform or AWS type.

pub mod alert;
pub mod clock;
pub mod hold;
pub mod incident;
pub mod mention;
pub mod reply;
pub mod reply_template;
pub mod roster;
pub mod rota;
pub mod source;
pub mod spoken;
pub mod triage;
pub mod watch;
pub mod zone;

use serde::{Deserialize, Serialize};

/// Serde reads and writes a value type as the text its `parse` accepts and
/// its `Display` writes (`#[serde(try_from = "String", into = "String")]`),
/// so a stored value is checked as strictly as one typed in.
macro_rules! string_form {
    ($ty:ty, $error:ty) => {
        impl TryFrom<String> for $ty {
            type Error = $error;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> Self {
                value.to_string()
            }
        }
    };
}
pub(crate) use string_form;

pub use alert::{AlertCode, AlertState};
pub use clock::Clock;
pub use mention::{Author, Mention, MentionId, Platform, Voice};
pub use roster::{OnCallContact, PhoneNumber};
pub use source::{Alarm, HealthPolicy, Resume, SourceKey, SourceState};
pub use triage::{Assessment, Intent, Priority, Triage, TriageContext};
pub use watch::{Account, Watch, WatchError};

/// A mention as stored: the post, its triage and where its alert stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MentionRecord {
    pub mention: Mention,
    /// Absent for the brand's own posts, which are not triaged.
    pub assessment: Option<Assessment>,
    pub alert: AlertState,
    /// The code staff reply with; set whenever an alert is due.
    pub alert_code: Option<AlertCode>,
    /// The burst of similar complaints this post belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<incident::Incident>,
}

impl MentionRecord {
    /// A post that joined an incident, which pages on its own.
    pub fn is_folded(&self) -> bool {
        self.incident.is_some() && self.alert_code.is_none()
    }

    /// Where the alert stands, in a word (`folded` for incident members).
    pub fn alert_label(&self) -> &'static str {
        if self.is_folded() {
            "folded"
        } else {
            self.alert.label()
        }
    }
}
