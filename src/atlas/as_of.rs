//! The register as it stood at an instant: an index built from each asset's last version
//! at or before it, for `as_of` on OGC items, their downloads and tiles.
//!
//! The past does not change: a version written from now on is stamped later than any
//! instant already gone, so an index of a past instant is kept (the last few asked for)
//! and shared by every request for it. An instant not yet past is today's register.

use std::sync::{Arc, Mutex};

use super::{with_located_ward, Atlas};
use crate::index::{Index, LayerIndex};
use crate::model::Layer;
use crate::store::StoreError;

/// How many past registers are kept built (each is a copy of the register's geometry).
const KEPT: usize = 4;

/// The registers of past instants most recently asked for, newest first.
#[derive(Debug, Default)]
pub struct PastRegisters {
    kept: Mutex<Vec<(String, Arc<Index>)>>,
}

/// The register an answer reads: today's (the live index) or a past one.
pub enum Register<'a> {
    Now(&'a Index),
    Past(Arc<Index>),
}

impl std::ops::Deref for Register<'_> {
    type Target = Index;
    fn deref(&self) -> &Index {
        match self {
            Register::Now(i) => i,
            Register::Past(i) => i,
        }
    }
}

impl Atlas {
    /// The register as it stood at `t` (a version stamp, [`crate::model::instant_ms`]):
    /// `None` for an instant not yet past, which is today's register.
    pub async fn register_at(&self, t: &str) -> Result<Option<Arc<Index>>, StoreError> {
        let now = crate::model::instant_ms(time::OffsetDateTime::now_utc());
        if t >= now.as_str() {
            return Ok(None);
        }
        if let Some(i) = self.past.find(t) {
            return Ok(Some(i));
        }
        let index = Index::new();
        // Wards first, so an asset without a recorded ward gets the one it lay in then.
        let wards_first =
            std::iter::once(&Layer::Wards).chain(Layer::ALL.iter().filter(|l| **l != Layer::Wards));
        for layer in wards_first {
            let assets = self.store.layer_at(*layer, t).await?;
            let located: Vec<Arc<_>> = assets
                .into_iter()
                .map(|a| Arc::new(with_located_ward(&index, a)))
                .collect();
            index.set_layer(*layer, LayerIndex::bulk_shared(located));
        }
        let index = Arc::new(index);
        self.past.keep(t, index.clone());
        Ok(Some(index))
    }

    /// The register at `as_of` when given (a stamp), else today's.
    pub async fn register(&self, as_of: Option<&str>) -> Result<Register<'_>, StoreError> {
        match as_of {
            None => Ok(Register::Now(&self.index)),
            Some(t) => Ok(match self.register_at(t).await? {
                Some(past) => Register::Past(past),
                None => Register::Now(&self.index),
            }),
        }
    }
}

impl PastRegisters {
    fn find(&self, t: &str) -> Option<Arc<Index>> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let at = kept.iter().position(|(k, _)| k == t)?;
        let hit = kept.remove(at);
        let index = hit.1.clone();
        kept.insert(0, hit);
        Some(index)
    }

    fn keep(&self, t: &str, index: Arc<Index>) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|(k, _)| k != t);
        kept.insert(0, (t.to_string(), index));
        kept.truncate(KEPT);
    }
}
