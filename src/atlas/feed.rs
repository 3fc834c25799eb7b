//! Following the register's change feed: writes made by another process on the same
//! database (a second `serve` on the same file, an `import` from the command line) reach
//! this one's index and tile cache. Complaints are followed the same way through their
//! timelines (`complaint_events`, whose ids every filing and step takes in commit order),
//! a pin never giving way to one that shows an earlier step; heritage locks by comparing
//! the (small) table with what this process shows.
//!
//! The feed is `asset_versions` in rowid order: every write to an asset records a version
//! there in the write's own transaction (migrations/0004), so nothing committed is missing
//! from it and its order is the commit order. Each process remembers the last mark it has
//! applied (set when its index was loaded, from the view the load read) and, every
//! `--follow-ms`, applies what follows: for each asset changed, its state now, put in the
//! index unless the index already holds that version or a later one (its own writes, or a
//! newer state applied meanwhile). Since it reads the state now rather than replaying
//! versions, a lost wake-up or a missed tick costs only time, never a change.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Atlas;
use crate::geom;
use crate::model::AssetId;
use crate::store::StoreError;

/// Changes read from the feed at a time.
const BATCH: i64 = 10_000;

impl Atlas {
    /// Applies every change to the register recorded after the last one applied; returns
    /// how many assets changed here.
    pub async fn follow_register(&self) -> Result<usize, StoreError> {
        let mut applied = 0;
        loop {
            let mark = self.feed_mark.load(Ordering::Acquire);
            let changes = self.store.register_changes(mark, BATCH).await?;
            let Some(&(last, _, _)) = changes.last() else {
                return Ok(applied);
            };
            // Each asset's newest version (the changes come in order).
            let latest: HashMap<AssetId, i64> =
                changes.iter().map(|(_, id, v)| (*id, *v)).collect();
            for (id, version) in latest {
                if self.index.get(id).is_some_and(|a| a.version >= version) {
                    continue;
                }
                if let Some((asset, listed)) = self.store.asset_state(id).await? {
                    applied += usize::from(self.apply_newer(asset, listed));
                }
            }
            self.feed_mark.fetch_max(last, Ordering::AcqRel);
            if (changes.len() as i64) < BATCH {
                return Ok(applied);
            }
        }
    }

    /// Puts the complaints whose timelines moved since the last look on the map as stored
    /// now (pins filed or moved through another process); returns how many.
    pub async fn follow_complaints(&self) -> Result<usize, StoreError> {
        let mut applied = 0;
        loop {
            let mark = self.complaints_mark.load(Ordering::Acquire);
            let changes = self.store.complaint_changes(mark, BATCH).await?;
            let Some(&(last, _)) = changes.last() else {
                return Ok(applied);
            };
            // Each complaint's newest step here (the changes come in order).
            let newest: HashMap<i64, i64> = changes.iter().map(|(e, id)| (*id, *e)).collect();
            let held: Vec<i64> = {
                let pins = self.index.complaints();
                newest
                    .iter()
                    .filter(|(id, e)| pins.get(**id).is_none_or(|p| p.event < **e))
                    .map(|(id, _)| *id)
                    .collect()
            };
            for pin in self.store.complaint_pins_of(&held).await? {
                self.show_pin(pin);
                applied += 1;
            }
            self.complaints_mark.fetch_max(last, Ordering::AcqRel);
            if (changes.len() as i64) < BATCH {
                return Ok(applied);
            }
        }
    }

    /// Puts the heritage locks recorded now in the asset records where this process shows
    /// another (a lock is a decision on record, not a version of the asset, so the
    /// register's feed does not carry it; the table is small: one row per graded building
    /// ever decided on). Returns how many changed here. A lock read just before this
    /// process recorded a newer one is put right at the next tick.
    pub async fn follow_locks(&self) -> Result<usize, StoreError> {
        let now = self.store.heritage_lock_marks().await?;
        let changed: Vec<_> = {
            let held = self.locks.read().unwrap_or_else(|e| e.into_inner());
            now.into_iter()
                .filter(|(id, mark)| held.get(id) != Some(mark))
                .collect()
        };
        let n = changed.len();
        for (id, mark) in changed {
            self.lock_recorded(id, mark);
        }
        Ok(n)
    }

    /// Follows the feed every `every` until the process ends; a failed read is logged and
    /// tried again at the next tick.
    pub async fn follow_register_every(self: std::sync::Arc<Self>, every: Duration) {
        /// After a notification, the wait before reading the feed: commits that follow
        /// within it are read in the same round.
        const NOTIFIED_GAP: Duration = Duration::from_millis(5);
        self.follow_every_ms
            .store(every.as_millis() as i64, Ordering::Release);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // On PostgreSQL, woken by each commit too; the poll stays, for what a lost
        // notification (a reconnect) would miss.
        let mut listener = match self.store.listen_feed().await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "not listening for the feed; polling only");
                None
            }
        };
        loop {
            match listener.as_mut() {
                Some(l) => {
                    tokio::select! {
                        _ = tick.tick() => {}
                        woken = l.changed() => {
                            if let Err(e) = woken {
                                tracing::warn!(error = %e, "feed listener");
                                tick.tick().await;
                            }
                            // Commits close together are read in one round.
                            tokio::time::sleep(NOTIFIED_GAP).await;
                            l.drain();
                        }
                    }
                }
                None => {
                    tick.tick().await;
                }
            }
            let assets = self.follow_register().await;
            let complaints = self.follow_complaints().await;
            match self.follow_locks().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(locks = n, "heritage locks from the feed applied"),
                Err(e) => tracing::warn!(error = %e, "could not read the heritage locks"),
            }
            match assets {
                Ok(0) => {}
                Ok(n) => tracing::debug!(assets = n, "changes from the feed applied"),
                Err(ref e) => {
                    tracing::warn!(error = %e, "could not read the register's change feed")
                }
            }
            match complaints {
                Ok(0) => {}
                Ok(n) => tracing::debug!(complaints = n, "complaints from the feed applied"),
                Err(ref e) => {
                    tracing::warn!(error = %e, "could not read the complaints' timelines")
                }
            }
            if assets.is_ok() && complaints.is_ok() {
                self.caught_up_at
                    .store(crate::model::unix_millis(), Ordering::Release);
            }
        }
    }

    /// Whether this process follows the feed, how often (ms), and how long ago (ms) it
    /// last read the feed to its end; `None` when it does not follow.
    pub fn feed_state(&self) -> Option<(i64, Option<i64>)> {
        let every = self.follow_every_ms.load(Ordering::Acquire);
        (every > 0).then(|| {
            let at = self.caught_up_at.load(Ordering::Acquire);
            (every, (at > 0).then(|| crate::model::unix_millis() - at))
        })
    }

    /// Puts an asset's stored state in the index, unless the index already holds that
    /// version or a later one (checked under the layer's write lock, so a newer state
    /// applied meanwhile is never undone); drops the tiles it touched. True if applied.
    fn apply_newer(&self, asset: crate::model::Asset, listed: bool) -> bool {
        let asset = self.locate_ward(asset);
        let (layer, id) = (asset.layer, asset.id);
        let new_box = geom::bbox(&asset.geometry);
        let old = {
            let mut li = self.index.write(layer);
            match li.get(id) {
                Some(held) if held.version >= asset.version => return false,
                // Off the register here already: its tiles never showed it.
                None if !listed => return false,
                _ => {}
            }
            if listed {
                li.upsert(asset)
            } else {
                li.remove(id)
            }
        };
        self.shown(layer, old.as_deref(), new_box);
        true
    }
}
