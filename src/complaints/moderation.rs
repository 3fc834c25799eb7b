//! Moderation of what the public sees of a complaint: the pieces an officer can take out
//! of public view (its description, a photo, a public note), their states, and the one
//! function every public answer goes through to apply them ([`Public::of`]). Open311,
//! the complaint page, the Atom feed and the public audit trail all read a complaint
//! through it, so a hidden piece is gone from each of them at the same moment.

use std::borrow::Cow;

use crate::store::{ComplaintRecord, Event, PhotoRef};

pub use crate::model::{removed_text, BadItem, ComplaintItem as Item, ModState, Moderation};

/// A piece the public is told was removed (or is waiting for review).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Removed {
    /// `description`, `photo` or `note`.
    pub item: &'static str,
    /// The timeline step, for a note or a step's photo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<i64>,
    pub reason: Option<String>,
    pub at: String,
}

/// A complaint as the public may see it: every hidden or held piece left out.
#[derive(Debug)]
pub struct Public<'a> {
    pub description: Cow<'a, str>,
    pub photos: Vec<&'a PhotoRef>,
    /// Photos of the complaint waiting for review.
    pub photos_held: usize,
    pub removed: Vec<Removed>,
    record: &'a ComplaintRecord,
}

impl ComplaintRecord {
    /// The moderation of `item`, if it was ever reviewed or held.
    pub fn moderation_of(&self, item: &Item) -> Option<&Moderation> {
        self.moderation.iter().find(|m| &m.item == item)
    }

    /// Whether the public may see `item`.
    pub fn is_public(&self, item: &Item) -> bool {
        self.moderation_of(item)
            .is_none_or(|m| m.state == ModState::Shown)
    }
}

impl<'a> Public<'a> {
    pub fn of(c: &'a ComplaintRecord) -> Public<'a> {
        let mut removed = Vec::new();
        let description = match c.moderation_of(&Item::Description) {
            Some(m) if m.state == ModState::Hidden => {
                removed.push(Removed {
                    item: "description",
                    step: None,
                    reason: m.reason.clone(),
                    at: m.at.clone(),
                });
                Cow::Owned(removed_text(m.reason.as_deref()))
            }
            _ => Cow::Borrowed(c.description.as_str()),
        };
        let mut photos = Vec::new();
        let mut photos_held = 0;
        for p in &c.photos {
            match c.moderation_of(&Item::Photo(p.sha256.clone())) {
                Some(m) if m.state == ModState::Hidden => removed.push(Removed {
                    item: "photo",
                    step: None,
                    reason: m.reason.clone(),
                    at: m.at.clone(),
                }),
                Some(m) if m.state == ModState::Held => photos_held += 1,
                _ => photos.push(p),
            }
        }
        // A public step's note and photo, where moderation hid them.
        for e in c.events.iter().filter(|e| e.public) {
            let note = Some((Item::Note(e.id), "note"));
            let photo = e
                .photo_sha256
                .clone()
                .map(|sha| (Item::Photo(sha), "photo"));
            for (item, what) in note.into_iter().chain(photo) {
                if let Some(m) = c
                    .moderation_of(&item)
                    .filter(|m| m.state == ModState::Hidden)
                {
                    removed.push(Removed {
                        item: what,
                        step: Some(e.id),
                        reason: m.reason.clone(),
                        at: m.at.clone(),
                    });
                }
            }
        }
        Public {
            description,
            photos,
            photos_held,
            removed,
            record: c,
        }
    }

    /// A public step's note as the public sees it: `None` for an internal step's note,
    /// the removal notice for a hidden one.
    pub fn note(&self, e: &'a Event) -> Option<Cow<'a, str>> {
        let note = e.note.as_deref().filter(|_| e.public)?;
        Some(match self.record.moderation_of(&Item::Note(e.id)) {
            Some(m) if m.state == ModState::Hidden => Cow::Owned(removed_text(m.reason.as_deref())),
            _ => Cow::Borrowed(note),
        })
    }

    /// A public step's photo, unless it is hidden.
    pub fn step_photo(&self, e: &'a Event) -> Option<&'a str> {
        let sha = e.photo_sha256.as_deref().filter(|_| e.public)?;
        self.record
            .is_public(&Item::Photo(sha.to_string()))
            .then_some(sha)
    }

    /// The latest public note (Open311 `status_notes`), as the public sees it.
    pub fn status_notes(&self) -> Option<Cow<'a, str>> {
        let c = self.record;
        match (c.status_note_event, c.status_notes.as_deref()) {
            (Some(id), Some(note)) => Some(match c.moderation_of(&Item::Note(id)) {
                Some(m) if m.state == ModState::Hidden => {
                    Cow::Owned(removed_text(m.reason.as_deref()))
                }
                _ => Cow::Borrowed(note),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_and_bad_ones_are_refused() {
        let sha = "ab".repeat(32);
        for s in [
            "description".to_string(),
            format!("photo:{sha}"),
            "note:17".into(),
        ] {
            assert_eq!(s.parse::<Item>().unwrap().to_string(), s);
        }
        assert_eq!(
            format!("photo:/photos/{}", sha.to_uppercase())
                .parse::<Item>()
                .unwrap(),
            Item::Photo(sha.clone())
        );
        for bad in [
            "",
            "photo:abc",
            "note:x",
            "note:",
            "reporter",
            "photo:../../etc",
        ] {
            assert!(bad.parse::<Item>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_removal_notice_carries_the_reason() {
        assert_eq!(
            removed_text(Some("a phone number")),
            "Removed by the department: a phone number"
        );
        assert_eq!(removed_text(Some("  ")), "Removed by the department");
    }
}
