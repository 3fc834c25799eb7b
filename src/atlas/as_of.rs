//! The register as it stood at an instant: an index built from each asset's last version
//! at or before it, for `as_of` on asset records, OGC items, their downloads and tiles.
//!
//! The past does not change: a version written from now on is stamped later than any
//! instant already gone, so an index of a past instant is kept (the last few asked for)
//! and shared by every request for it. An instant not yet past is today's register.
//!
//! Building one costs little where little changed: a layer's versions at the instant are
//! listed without their geometry, an asset still at that version is taken from the live
//! index as it is (the same `Arc`), and only the others are read and decoded. Layers are
//! built when first asked for (the wards always first, for the wards found from location).

use std::sync::{Arc, Mutex};

use super::{with_located_ward, Atlas};
use crate::index::{Index, LayerIndex};
use crate::model::Layer;
use crate::store::StoreError;

/// How many past registers are kept built.
const KEPT: usize = 4;

/// A register of a past instant, its layers built as they are asked for.
#[derive(Debug, Default)]
pub struct PastRegister {
    index: Index,
    /// Which layers are built (by position in [`Layer::ALL`]); held while one is built, so
    /// two requests never build the same layer twice.
    built: tokio::sync::Mutex<[bool; 4]>,
}

/// The registers of past instants most recently asked for, newest first.
#[derive(Debug)]
pub struct PastRegisters {
    kept: Mutex<Vec<(String, Arc<PastRegister>)>>,
    /// One layer is built at a time: every millisecond is an instant of its own, and a
    /// client asking for many must not make the server build them all at once.
    building: tokio::sync::Semaphore,
}

impl Default for PastRegisters {
    fn default() -> Self {
        PastRegisters {
            kept: Mutex::default(),
            building: tokio::sync::Semaphore::new(1),
        }
    }
}

/// The register an answer reads: today's (the live index) or a past one.
pub enum Register<'a> {
    Now(&'a Index),
    Past(Arc<PastRegister>),
}

impl std::ops::Deref for Register<'_> {
    type Target = Index;
    fn deref(&self) -> &Index {
        match self {
            Register::Now(i) => i,
            Register::Past(p) => &p.index,
        }
    }
}

impl std::ops::Deref for PastRegister {
    type Target = Index;
    fn deref(&self) -> &Index {
        &self.index
    }
}

fn pos(layer: Layer) -> usize {
    Layer::ALL.iter().position(|l| *l == layer).unwrap_or(0)
}

impl Atlas {
    /// The register as it stood at `t` (a version stamp, [`crate::model::instant_ms`]),
    /// with at least `layers` built: `None` for an instant not yet past, which is today's
    /// register.
    pub async fn register_at(
        &self,
        t: &str,
        layers: &[Layer],
    ) -> Result<Option<Arc<PastRegister>>, StoreError> {
        let now = crate::model::instant_ms(time::OffsetDateTime::now_utc());
        if t >= now.as_str() {
            return Ok(None);
        }
        let past = self.past.get_or_add(t);
        let mut built = past.built.lock().await;
        let wanted = std::iter::once(&Layer::Wards).chain(layers.iter());
        for layer in wanted {
            if built[pos(*layer)] {
                continue;
            }
            let _one_at_a_time = self
                .past
                .building
                .acquire()
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let index = self.layer_at(&past.index, *layer, t).await?;
            past.index.set_layer(*layer, index);
            built[pos(*layer)] = true;
        }
        drop(built);
        Ok(Some(past))
    }

    /// One layer as it stood at `t`; `past` holds the wards of then.
    async fn layer_at(
        &self,
        past: &Index,
        layer: Layer,
        t: &str,
    ) -> Result<LayerIndex, StoreError> {
        let start = std::time::Instant::now();
        let (same, changed) = self.store.layer_at_parts(layer, t).await?;
        let read_ms = start.elapsed().as_secs_f64() * 1e3;
        let mut assets = Vec::with_capacity(same.len() + changed.len());
        // Unchanged since: today's asset is that version. (Its ward, if found from its
        // location, is today's wards' answer: wards are rarely redrawn.) One the index has
        // not caught up with (an edit committing this moment) is read like the others.
        let mut behind = Vec::new();
        {
            let live = self.index.read(layer);
            for (id, version) in same {
                match live.get(id) {
                    Some(a) if a.version == version => assets.push(a.clone()),
                    _ => behind.push((id, version)),
                }
            }
        }
        let (reused, read) = (assets.len(), changed.len() + behind.len());
        for a in changed
            .into_iter()
            .chain(self.store.versions_of(&behind).await?)
        {
            assets.push(Arc::new(with_located_ward(past, a)));
        }
        let located_ms = start.elapsed().as_secs_f64() * 1e3;
        let index = tokio::task::spawn_blocking(move || LayerIndex::bulk_shared(assets))
            .await
            .map_err(|e| StoreError::Encode(format!("index build failed: {e}")))?;
        tracing::info!(
            layer = %layer, as_of = t, reused, read,
            read_ms, located_ms, ms = start.elapsed().as_secs_f64() * 1e3,
            "built a past register's layer"
        );
        Ok(index)
    }

    /// The register at `as_of` when given (a stamp), with `layers` built, else today's.
    pub async fn register(
        &self,
        as_of: Option<&str>,
        layers: &[Layer],
    ) -> Result<Register<'_>, StoreError> {
        match as_of {
            None => Ok(Register::Now(&self.index)),
            Some(t) => Ok(match self.register_at(t, layers).await? {
                Some(past) => Register::Past(past),
                None => Register::Now(&self.index),
            }),
        }
    }
}

impl PastRegisters {
    /// The register kept for `t`, or a new empty one kept from now on.
    fn get_or_add(&self, t: &str) -> Arc<PastRegister> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let found = match kept.iter().position(|(k, _)| k == t) {
            Some(at) => kept.remove(at).1,
            None => Arc::default(),
        };
        kept.insert(0, (t.to_string(), found.clone()));
        kept.truncate(KEPT);
        found
    }
}
