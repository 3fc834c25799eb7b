//! Complaint writes, kept like asset writes: photos and row durably on disk first, then
//! the pin in the index, then the complaints tiles it touches dropped from the cache.

use std::sync::Arc;

use geo::Contains;
use geo_types::{Point, Rect};

use super::Atlas;
use crate::complaints::photo::Photo;
use crate::complaints::{
    field_error, transition, Action, Category, Checked, ComplaintError, Pin, Role, Status,
};
use crate::model::{now_rfc3339, rfc3339, Asset, Layer};
use crate::store::{ComplaintRecord, NewComplaint, PhotoRef, Update, User};
use crate::tiles::LayerSet;

/// Open complaints of the same category this close (metres) are offered as duplicates.
pub const DUPLICATE_RADIUS_M: f64 = 50.0;
/// A heritage asset this close (metres) to a pin is what the complaint is about.
pub const HERITAGE_LINK_M: f64 = 100.0;

/// Where a source of complaints came from (stored, shown to staff).
#[derive(Debug, Clone, Copy)]
pub enum Source {
    Web,
    Open311,
}

/// The answer to a filed complaint.
#[derive(Debug, Clone)]
pub struct Filed {
    pub id: i64,
    pub ticket: String,
    pub token: String,
    pub category: Category,
    pub ward: Option<i64>,
    pub asset: Option<Arc<Asset>>,
    pub deadline: String,
    pub created_at: String,
    pub duplicates: Vec<(Arc<Pin>, f64)>,
    pub photos: Vec<PhotoRef>,
}

/// A staff change as asked for.
#[derive(Debug, Clone)]
pub struct Change {
    pub action: Action,
    pub note: Option<String>,
    pub public: bool,
    pub assignee: Option<String>,
    pub duplicate_of: Option<String>,
    pub photo: Option<Photo>,
}

impl Atlas {
    /// Whether `p` lies where the department takes complaints: the configured service
    /// area, else any ward of the register, else the KMC bounding box.
    pub fn in_service_area(&self, p: Point<f64>) -> bool {
        if let Some(area) = &self.service_area {
            return area.contains(&p) || geo::Intersects::intersects(area, &p);
        }
        let wards = self.index.read(Layer::Wards);
        if !wards.is_empty() {
            return !wards.containing(p).is_empty();
        }
        let [x0, y0, x1, y1] = crate::model::KMC_BOUNDS;
        Rect::new((x0, y0), (x1, y1)).contains(&p)
    }

    /// The ward number at `p`.
    pub fn ward_at(&self, p: Point<f64>) -> Option<i64> {
        self.index
            .read(Layer::Wards)
            .containing(p)
            .iter()
            .find_map(|w| w.attrs.ward)
    }

    /// The asset a pin is about: the water body or park containing it, else the nearest
    /// heritage asset within [`HERITAGE_LINK_M`]; heritage first for heritage categories.
    pub fn asset_for(&self, p: Point<f64>, category: Category) -> Option<Arc<Asset>> {
        let containing = |layer: Layer| {
            let mut v = self.index.read(layer).containing(p);
            // The smallest first: a pond inside a wetland is the pond.
            v.sort_by(|a, b| {
                let area =
                    |x: &Asset| crate::geom::geodesic_area_m2(&x.geometry).unwrap_or(f64::MAX);
                area(a).total_cmp(&area(b))
            });
            v.into_iter().next()
        };
        let heritage = || {
            self.index
                .read(Layer::Heritage)
                .nearest(p, 1, HERITAGE_LINK_M)
                .into_iter()
                .next()
                .map(|(a, _)| a)
        };
        if category.is_about_heritage() {
            heritage()
                .or_else(|| containing(Layer::WaterBodies))
                .or_else(|| containing(Layer::Parks))
        } else {
            containing(Layer::WaterBodies)
                .or_else(|| containing(Layer::Parks))
                .or_else(heritage)
        }
    }

    /// Open complaints of `category` within [`DUPLICATE_RADIUS_M`] of `p`, nearest first.
    pub fn possible_duplicates(&self, p: Point<f64>, category: Category) -> Vec<(Arc<Pin>, f64)> {
        self.index
            .complaints()
            .within(p, DUPLICATE_RADIUS_M)
            .into_iter()
            .filter(|(pin, _)| pin.category == category && pin.status.is_open())
            .collect()
    }

    /// Files a complaint. Returns only once it and its photos are on disk.
    pub async fn file_complaint(
        &self,
        c: Checked,
        photos: Vec<Photo>,
        source: Source,
    ) -> Result<Filed, ComplaintError> {
        let p = Point::new(c.lon, c.lat);
        if !self.in_service_area(p) {
            return Err(field_error(
                "location",
                format!(
                    "({}, {}) is outside the area this department serves",
                    c.lon, c.lat
                ),
            )
            .into());
        }
        let ward = self.ward_at(p);
        let asset = self.asset_for(p, c.category);
        let duplicates = self.possible_duplicates(p, c.category);

        let store = self.photos.clone();
        let to_store = photos.clone();
        tokio::task::spawn_blocking(move || {
            to_store
                .iter()
                .try_for_each(|ph| store.put(&ph.sha256, &ph.bytes))
        })
        .await
        .map_err(|e| ComplaintError::Io(e.to_string()))??;

        let now = time::OffsetDateTime::now_utc();
        let created_at = rfc3339(now);
        let deadline = rfc3339(now + time::Duration::hours(c.category.deadline_hours()));
        let photos: Vec<PhotoRef> = photos
            .iter()
            .map(|ph| PhotoRef {
                sha256: ph.sha256.clone(),
                media_type: ph.media_type.mime().to_string(),
                size: ph.bytes.len() as i64,
            })
            .collect();
        let token = crate::auth::new_secret()[..32].to_string();
        let row = NewComplaint {
            year: now.year(),
            category: c.category,
            lon: c.lon,
            lat: c.lat,
            ward,
            asset_id: asset.as_ref().map(|a| a.id),
            description: c.description,
            attributes: serde_json::Value::Object(c.attributes).to_string(),
            address: c.address,
            reporter_name: c.name,
            reporter_phone: c.phone,
            reporter_email: c.email,
            source: match source {
                Source::Web => "web",
                Source::Open311 => "open311",
            },
            token: token.clone(),
            deadline: deadline.clone(),
            created_at: created_at.clone(),
            photos: photos.clone(),
            language: c.language,
            hold_photos: self.moderate_photos,
        };
        let (id, ticket) = self.intake.submit(row).await?;
        self.show_pin(Pin {
            id,
            ticket: ticket.clone(),
            category: c.category,
            status: Status::Submitted,
            lon: c.lon,
            lat: c.lat,
            created_at: created_at.clone(),
            updated_at: created_at.clone(),
            ward,
            times: crate::model::PinTimes {
                filed: now.unix_timestamp(),
                deadline: now.unix_timestamp() + c.category.deadline_hours() * 3600,
                acknowledged: None,
                closed: None,
            },
            // Its filing step's id is not handed back by the intake; the feed brings it.
            event: 0,
        });
        Ok(Filed {
            id,
            ticket,
            token,
            category: c.category,
            ward,
            asset,
            deadline,
            created_at,
            duplicates,
            photos,
        })
    }

    /// Puts a pin (new or changed) on the map: index, then the complaints tiles it touches.
    pub(super) fn show_pin(&self, pin: Pin) {
        let mut boxes = vec![Rect::new((pin.lon, pin.lat), (pin.lon, pin.lat))];
        if let Some(old) = self.index.complaints_mut().upsert(pin) {
            boxes.push(Rect::new((old.lon, old.lat), (old.lon, old.lat)));
        }
        self.tiles.invalidate(LayerSet::COMPLAINTS, &boxes);
    }

    /// A citizen's support for an open complaint; returns the supporter count.
    pub async fn support_complaint(
        &self,
        ticket: &str,
        client: &str,
    ) -> Result<i64, ComplaintError> {
        let c = self
            .store
            .complaint(ticket)
            .await?
            .ok_or_else(|| ComplaintError::NotFound(ticket.to_string()))?;
        if !c.status.is_open() {
            return Err(ComplaintError::Conflict(format!(
                "{ticket} is {}; support an open complaint or file a new one",
                c.status
            )));
        }
        Ok(self
            .store
            .support_complaint(c.id, client, &now_rfc3339())
            .await?)
    }

    /// Applies a staff change, checking role, ward and the status machine. Returns the
    /// complaint as it now stands.
    pub async fn change_complaint(
        &self,
        ticket: &str,
        by: &User,
        ch: Change,
    ) -> Result<ComplaintRecord, ComplaintError> {
        let c = self
            .store
            .complaint(ticket)
            .await?
            .ok_or_else(|| ComplaintError::NotFound(ticket.to_string()))?;
        if !by.role.may(ch.action) {
            return Err(ComplaintError::Forbidden(format!(
                "a {} may not {} complaints",
                by.role, ch.action
            )));
        }
        if by.role == Role::FieldStaff && (by.ward.is_none() || by.ward != c.ward) {
            return Err(ComplaintError::Forbidden(format!(
                "{ticket} is not in your ward"
            )));
        }
        let to = transition(c.status, ch.action, ch.note.is_some())?;
        let assign_to = match (&ch.assignee, ch.action) {
            (Some(name), Action::Assign) => Some(
                self.store
                    .user_by_name(name)
                    .await?
                    .ok_or_else(|| field_error("assignee", format!("no staff member {name:?}")))?
                    .id,
            ),
            (None, Action::Assign) => {
                return Err(field_error("assignee", "assigning needs `assignee`").into())
            }
            _ => None,
        };
        let duplicate_of = match (&ch.duplicate_of, ch.action) {
            (Some(other), Action::Duplicate) => {
                if other == ticket {
                    return Err(
                        field_error("duplicate_of", "a complaint cannot duplicate itself").into(),
                    );
                }
                let o =
                    self.store.complaint(other).await?.ok_or_else(|| {
                        field_error("duplicate_of", format!("no complaint {other}"))
                    })?;
                if o.status == Status::Duplicate {
                    return Err(field_error(
                        "duplicate_of",
                        format!("{other} is itself a duplicate; point at the original"),
                    )
                    .into());
                }
                Some(o.ticket)
            }
            (None, Action::Duplicate) => {
                return Err(
                    field_error("duplicate_of", "marking a duplicate needs `duplicate_of`").into(),
                )
            }
            _ => None,
        };
        let photo = match ch.photo {
            Some(ph) => {
                let store = self.photos.clone();
                let p2 = ph.clone();
                tokio::task::spawn_blocking(move || store.put(&p2.sha256, &p2.bytes))
                    .await
                    .map_err(|e| ComplaintError::Io(e.to_string()))??;
                Some(PhotoRef {
                    sha256: ph.sha256.clone(),
                    media_type: ph.media_type.mime().to_string(),
                    size: ph.bytes.len() as i64,
                })
            }
            None => None,
        };
        let at = now_rfc3339();
        let notify = if ch.action == Action::Note || c.opted_out {
            Vec::new()
        } else {
            self.channels.for_reporter(&c)
        };
        let log = crate::store::AuditEntry {
            actor: by.name.clone(),
            role: Some(by.role.as_str().into()),
            action: format!("complaint.{}", ch.action),
            subject: c.ticket.clone(),
            public: ch.public || ch.action != Action::Note,
            detail: serde_json::json!({
                "from": c.status,
                "to": to,
                // The note's hash, not its text: the text is on the public timeline,
                // where moderation can take it down; the chain cannot be rewritten.
                "note_sha256": ch.note.as_ref().filter(|_| ch.public).map(|n| crate::auth::sha256_hex(n)),
                "assignee": ch.assignee.as_ref().filter(|_| ch.action == Action::Assign),
                "duplicate_of": duplicate_of,
            }),
        };
        let applied = self
            .store
            .update_complaint(
                &Update {
                    id: c.id,
                    from: c.status,
                    to,
                    action: ch.action,
                    note: ch.note,
                    public: ch.public,
                    actor: Some(by.id),
                    assign_to,
                    duplicate_of,
                    photo,
                    at: at.clone(),
                    notify: notify.clone(),
                },
                &log,
            )
            .await?;
        if applied.is_none() {
            return Err(ComplaintError::Conflict(format!(
                "{ticket} changed while this was being applied; reload it and try again"
            )));
        }
        if !notify.is_empty() {
            self.notify_wake.notify_one();
        }
        if to != c.status {
            let before = self
                .index
                .complaints()
                .get(c.id)
                .map(|p| p.times)
                .unwrap_or_else(|| crate::model::PinTimes {
                    filed: crate::model::unix_seconds(&c.created_at).unwrap_or_default(),
                    deadline: crate::model::unix_seconds(&c.deadline).unwrap_or_default(),
                    acknowledged: None,
                    closed: None,
                });
            let at_s = crate::model::unix_seconds(&at).unwrap_or_default();
            self.show_pin(Pin {
                id: c.id,
                ticket: c.ticket.clone(),
                category: c.category,
                status: to,
                lon: c.lon,
                lat: c.lat,
                created_at: c.created_at.clone(),
                updated_at: at,
                ward: c.ward,
                times: before.after(c.status, to, at_s),
                event: applied.unwrap_or_default(),
            });
        }
        self.store
            .complaint(ticket)
            .await?
            .ok_or_else(|| ComplaintError::NotFound(ticket.to_string()))
    }

    /// Loads every complaint's pin into the index.
    pub(super) async fn load_pins(&self) -> Result<(), crate::store::StoreError> {
        // Read first: a step taken while the pins load is applied again, harmlessly.
        let mark = self.store.complaint_mark().await?;
        let pins = self.store.complaint_pins().await?;
        self.complaints_mark
            .store(mark, std::sync::atomic::Ordering::Release);
        *self.index.complaints_mut() = crate::index::ComplaintIndex::bulk(pins);
        Ok(())
    }
}
